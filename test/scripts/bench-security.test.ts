/**
 * The benchmark's security helpers (scripts/bench/security.ts): the label reports carry, the
 * TLS flags both servers get (client certificates demanded only with `--client-cert-auth`,
 * since etcd 3.4 already demands them once `--trusted-ca-file` is given), the v2 auth
 * set-up requests, and what the load driver presents. The certificates are made for real
 * with openssl in a temporary directory.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import {
  authSetupSteps, basicAuthorization, benchRole, benchUser, driverAccess, makeBenchCerts, memberTlsFlags, securityLabel,
} from '../../scripts/bench/security.js'

test('the label names each setting in use, in a fixed order, and none when plain', () => {
  assert.equal(securityLabel({ tls: false, clientCertAuth: false, auth: false }), 'none')
  assert.equal(securityLabel({ tls: true, clientCertAuth: false, auth: false }), 'tls')
  assert.equal(securityLabel({ tls: false, clientCertAuth: false, auth: true }), 'auth')
  assert.equal(securityLabel({ tls: true, clientCertAuth: false, auth: true }), 'tls+auth')
  assert.equal(securityLabel({ tls: true, clientCertAuth: true, auth: true }), 'tls+client-cert+auth')
  assert.equal(securityLabel({ tls: false, clientCertAuth: true, auth: false }), 'none')
})

test('Basic credentials are base64 of user:password', () => {
  assert.equal(basicAuthorization('bench', 'pw'), 'Basic YmVuY2g6cHc=')
})

test('auth set-up creates root, a read+write role on /*, a non-root user holding it, then enables auth', () => {
  const steps = authSetupSteps({ rootPassword: 'r00t', benchPassword: 'b3nch' })
  assert.deepEqual(steps.map((s) => `${s.method} ${s.path}`), [
    'PUT /v2/auth/users/root',
    `PUT /v2/auth/roles/${benchRole}`,
    `PUT /v2/auth/users/${benchUser}`,
    'PUT /v2/auth/enable',
  ])
  const [root, role, user, enable] = steps.map((s) => (s.json === undefined ? undefined : (JSON.parse(s.json) as unknown)))
  assert.deepEqual(root, { user: 'root', password: 'r00t' })
  assert.deepEqual(role, { role: benchRole, permissions: { kv: { read: ['/*'], write: ['/*'] } } })
  assert.deepEqual(user, { user: benchUser, password: 'b3nch', roles: [benchRole] })
  assert.equal(enable, undefined)
  assert.notEqual(benchUser, 'root')
  assert.notEqual(benchRole, 'root')
  // etcd 3.4 answers 200 (not 201) for a new user created with roles.
  assert.ok(steps[2]?.okStatuses.includes(200))
})

test('member flags, driver access and certificates for --tls, with and without --client-cert-auth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-security-'))
  try {
    const certs = makeBenchCerts(dir)
    const member = new X509Certificate(readFileSync(certs.member.certFile))
    assert.ok(member.checkIP('127.0.0.1'))
    assert.ok(member.checkHost('localhost'))
    assert.ok(member.verify(new X509Certificate(readFileSync(certs.caFile)).publicKey))

    const serverOnly = memberTlsFlags(certs, false)
    assert.ok(!serverOnly.includes('--trusted-ca-file'))
    assert.ok(!serverOnly.includes('--client-cert-auth'))
    for (const flag of ['--cert-file', '--key-file', '--peer-cert-file', '--peer-key-file', '--peer-trusted-ca-file', '--peer-client-cert-auth']) {
      assert.ok(serverOnly.includes(flag), flag)
    }
    assert.equal(serverOnly[serverOnly.indexOf('--peer-trusted-ca-file') + 1], certs.caFile)
    const mutual = memberTlsFlags(certs, true)
    assert.equal(mutual[mutual.indexOf('--trusted-ca-file') + 1], certs.caFile)
    assert.ok(mutual.includes('--client-cert-auth'))

    const trustOnly = driverAccess(certs, false, undefined)
    assert.equal(trustOnly.tls?.ca, readFileSync(certs.caFile, 'utf8'))
    assert.equal(trustOnly.tls?.cert, undefined)
    assert.equal(trustOnly.authorization, undefined)
    const full = driverAccess(certs, true, { rootPassword: 'r', benchPassword: 'b' })
    assert.equal(full.tls?.cert, readFileSync(certs.client.certFile, 'utf8'))
    assert.equal(full.tls?.key, readFileSync(certs.client.keyFile, 'utf8'))
    assert.equal(full.authorization, basicAuthorization(benchUser, 'b'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('plain http without auth gives the driver nothing to present', () => {
  assert.deepEqual(driverAccess(undefined, false, undefined), {})
})
