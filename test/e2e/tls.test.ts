/**
 * Goal: a member serves its client URLs over TLS with etcd's flags, and every v2 client that
 * speaks TLS to etcd speaks it to arbor: curl with `--cacert`, curl with a client certificate
 * when `--client-cert-auth` is on (and is refused in the handshake without one, or with one
 * from another CA), `etcdctl` v2 with `--ca-file --cert-file --key-file`. A replaced
 * certificate is served to the next new connection without a restart; `--auto-tls` serves a
 * self-signed certificate kept in the data directory; a bad TLS setup stops the start with
 * one line and exit code 2.
 *
 * Method: real members (child processes) on loopback; throwaway certificates made by openssl
 * at run time in a temporary directory (test/support/tls-certs.ts); curl and etcdctl run as
 * child processes. etcd 3.4.23 answered the same commands the same way with the same files.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { connect, type PeerCertificate } from 'node:tls'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { freePort, removeDir, startArbor, tempDir, type ArborProcess, type ClientTls } from '../support/arbor-process.js'
import { fingerprintOf, makeCa, makeLeaf, type CertFiles, type TestCa } from '../support/tls-certs.js'

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `command` to completion (killed after 15 s). */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

function curl(args: readonly string[]): Promise<Run> {
  return run('curl', ['--silent', '--show-error', '--max-time', '10', ...args])
}

function etcdctl(endpoint: string, args: readonly string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ETCDCTL_API: '2' }
  delete env.ETCDCTL_ENDPOINTS
  delete env.ETCDCTL_PEERS
  return run('etcdctl', ['--endpoints', endpoint, ...args], env)
}

/** The certificate the member at `port` serves to a new connection. */
function servedCertificate(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const certificate = socket.getPeerCertificate()
      socket.end()
      resolve(certificate)
    })
    socket.once('error', reject)
    socket.setTimeout(5_000, () => socket.destroy(new Error('no TLS handshake within 5 s')))
  })
}

let dir = ''
let ca: TestCa
let stranger: TestCa
let server: CertFiles
let client: CertFiles
let strangerClient: CertFiles
const members: ArborProcess[] = []

before(() => {
  dir = tempDir('arbor-tls-')
  ca = makeCa(dir, 'good')
  stranger = makeCa(mkdirAndReturn(join(dir, 'stranger')), 'stranger')
  server = makeLeaf(ca, 'server', 'arbor-server')
  client = makeLeaf(ca, 'client', 'client')
  strangerClient = makeLeaf(stranger, 'client', 'client')
})

after(async () => {
  for (const member of members) await member.stop()
  removeDir(dir)
})

function mkdirAndReturn(path: string): string {
  mkdirSync(path, { recursive: true })
  return path
}

/** A member whose client URL is https on `clientPort` (default: a free port). */
async function start(extraArgs: string[], clientTls: ClientTls, clientPort?: number): Promise<ArborProcess> {
  const member = await startArbor({ clientTls, extraArgs, ...(clientPort === undefined ? {} : { clientPort }) })
  members.push(member)
  return member
}

/** `--listen-client-urls` and `--advertise-client-urls` of an https member on a free port. */
async function httpsUrls(): Promise<{ port: number; args: string[] }> {
  const port = await freePort()
  const url = `https://127.0.0.1:${port}`
  return { port, args: ['--listen-client-urls', url, '--advertise-client-urls', url] }
}

describe('client TLS with --cert-file and --key-file', () => {
  let member: ArborProcess
  before(async () => {
    const port = await freePort()
    member = await startArbor({
      clientPort: port,
      clientTls: { caFile: ca.certFile },
      extraArgs: ['--cert-file', server.certFile, '--key-file', server.keyFile],
    })
    members.push(member)
  })

  test('curl --cacert writes and reads a key over https', async () => {
    assert.match(member.clientUrl, /^https:/)
    const put = await curl(['--cacert', ca.certFile, '-X', 'PUT', `${member.clientUrl}/v2/keys/tls`, '-d', 'value=secret'])
    assert.equal(put.code, 0, put.stderr)
    assert.equal(JSON.parse(put.stdout).node.value, 'secret')
    const get = await curl(['--cacert', ca.certFile, `${member.clientUrl}/v2/keys/tls`])
    assert.equal(JSON.parse(get.stdout).node.value, 'secret')
  })
  test('curl without the CA refuses the certificate', async () => {
    const get = await curl([`${member.clientUrl}/version`])
    assert.equal(get.code, 60, `curl: ${get.code} ${get.stderr}`) // 60: peer certificate cannot be authenticated
  })
  test('plain HTTP on the TLS port gets no answer', async () => {
    const get = await curl([`${member.clientUrl.replace('https:', 'http:')}/version`])
    assert.notEqual(get.code, 0)
    assert.equal(get.stdout, '')
  })
  test('TLS 1.2 and TLS 1.3 are both accepted by default', async () => {
    for (const version of ['1.2', '1.3']) {
      const get = await curl(['--cacert', ca.certFile, `--tlsv${version}`, '--tls-max', version, `${member.clientUrl}/version`])
      assert.equal(get.code, 0, `TLS ${version}: ${get.stderr}`)
    }
  })
})

describe('--tls-min-version and --cipher-suites', () => {
  test('--tls-min-version TLS1.3 refuses a TLS 1.2 client and serves a TLS 1.3 one', async () => {
    const member = await start(['--cert-file', server.certFile, '--key-file', server.keyFile, '--tls-min-version', 'TLS1.3'], { caFile: ca.certFile })
    const old = await curl(['--cacert', ca.certFile, '--tls-max', '1.2', '--write-out', '%{http_code}', `${member.clientUrl}/version`])
    assert.equal(old.stdout, '000')
    const current = await curl(['--cacert', ca.certFile, '--tlsv1.3', `${member.clientUrl}/version`])
    assert.equal(current.code, 0, current.stderr)
  })
  test('--cipher-suites limits the TLS 1.2 suites to the ones listed', async () => {
    const member = await start(['--cert-file', server.certFile, '--key-file', server.keyFile, '--cipher-suites', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'], { caFile: ca.certFile })
    const listed = await curl(['--cacert', ca.certFile, '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256', `${member.clientUrl}/version`])
    assert.equal(listed.code, 0, listed.stderr)
    const other = await curl(['--cacert', ca.certFile, '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384', '--write-out', '%{http_code}', `${member.clientUrl}/version`])
    assert.equal(other.stdout, '000')
  })
})

describe('client TLS with --client-cert-auth', () => {
  let member: ArborProcess
  before(async () => {
    member = await start(
      ['--cert-file', server.certFile, '--key-file', server.keyFile, '--trusted-ca-file', ca.certFile, '--client-cert-auth'],
      { caFile: ca.certFile, certFile: client.certFile, keyFile: client.keyFile },
    )
  })

  test('curl with a client certificate signed by the trusted CA is served', async () => {
    const get = await curl(['--cacert', ca.certFile, '--cert', client.certFile, '--key', client.keyFile, `${member.clientUrl}/version`])
    assert.equal(get.code, 0, get.stderr)
    assert.match(get.stdout, /etcdserver/)
  })
  test('curl without a client certificate is refused in the handshake, with no HTTP answer', async () => {
    const get = await curl(['--cacert', ca.certFile, '--write-out', '%{http_code}', `${member.clientUrl}/version`])
    assert.notEqual(get.code, 0)
    assert.equal(get.stdout, '000')
  })
  test('curl with a certificate of another CA is refused in the handshake', async () => {
    const get = await curl(['--cacert', ca.certFile, '--cert', strangerClient.certFile, '--key', strangerClient.keyFile, '--write-out', '%{http_code}', `${member.clientUrl}/version`])
    assert.notEqual(get.code, 0)
    assert.equal(get.stdout, '000')
  })
  test('etcdctl v2 with --ca-file --cert-file --key-file sets and gets', async () => {
    const tls = ['--ca-file', ca.certFile, '--cert-file', client.certFile, '--key-file', client.keyFile]
    const set = await etcdctl(member.clientUrl, [...tls, 'set', '/etcdctl-tls', 'v1'])
    assert.deepEqual([set.code, set.stdout], [0, 'v1\n'], set.stderr)
    const get = await etcdctl(member.clientUrl, [...tls, 'get', '/etcdctl-tls'])
    assert.deepEqual([get.code, get.stdout], [0, 'v1\n'], get.stderr)
  })
  test('etcdctl v2 without a client certificate fails', async () => {
    const get = await etcdctl(member.clientUrl, ['--ca-file', ca.certFile, 'get', '/etcdctl-tls'])
    assert.notEqual(get.code, 0)
  })
})

describe('certificate reload', () => {
  test('a replaced certificate is served to the next new connection, without a restart', async () => {
    const live = mkdirAndReturn(join(dir, 'live'))
    const certFile = join(live, 'server.pem')
    const keyFile = join(live, 'server.key')
    copyFileSync(server.certFile, certFile)
    copyFileSync(server.keyFile, keyFile)
    const port = await freePort()
    const member = await start(['--cert-file', certFile, '--key-file', keyFile], { caFile: ca.certFile }, port)
    const before = await servedCertificate(port)
    assert.equal(before.fingerprint256, fingerprintOf(server.certFile))
    const renewed = makeLeaf(ca, 'renewed', 'arbor-server-renewed')
    // Replaced as a rotation tool does: each file written beside, then renamed over the old.
    copyFileSync(renewed.keyFile, `${keyFile}.new`)
    copyFileSync(renewed.certFile, `${certFile}.new`)
    renameSync(`${keyFile}.new`, keyFile)
    renameSync(`${certFile}.new`, certFile)
    const deadline = Date.now() + 15_000
    let seen = before.fingerprint256
    while (seen !== fingerprintOf(renewed.certFile) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200))
      seen = (await servedCertificate(port)).fingerprint256
    }
    assert.equal(seen, fingerprintOf(renewed.certFile), member.output())
    assert.equal(member.child.exitCode, null)
    const get = await curl(['--cacert', ca.certFile, `${member.clientUrl}/version`])
    assert.equal(get.code, 0, get.stderr)
  })
})

describe('--auto-tls', () => {
  test('serves a self-signed certificate generated into <data-dir>/fixtures/client', async () => {
    const port = await freePort()
    const dataDir = join(dir, 'auto-tls-data')
    const member = await startArbor({ dataDir, clientPort: port, extraArgs: ['--auto-tls'], clientTls: { insecure: true } })
    members.push(member)
    assert.ok(existsSync(join(dataDir, 'fixtures', 'client', 'key.pem')))
    const insecure = await curl(['--insecure', `${member.clientUrl}/version`])
    assert.equal(insecure.code, 0, insecure.stderr)
    const served = await servedCertificate(port)
    assert.equal(served.fingerprint256, fingerprintOf(join(dataDir, 'fixtures', 'client', 'cert.pem')))
    assert.equal(served.subject.O, 'arbor')
  })
})

describe('a TLS setup that cannot work stops the start', () => {
  test('an https URL without a certificate: one line, exit 2', async () => {
    const { args } = await httpsUrls()
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--data-dir', join(dir, 'never')])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /^arbor: invalid value "https:\/\/127\.0\.0\.1:\d+" for --listen-client-urls: TLS key\/cert \(--cert-file, --key-file\) must be provided for client url/)
    assert.equal(result.stderr.trim().split('\n').length, 1)
  })
  test('a certificate file that does not exist: one line naming the flag, exit 2', async () => {
    const { args } = await httpsUrls()
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--data-dir', join(dir, 'missing'),
      '--cert-file', join(dir, 'nope.pem'), '--key-file', server.keyFile])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /^arbor: cannot read --cert-file .*nope\.pem: ENOENT/)
    assert.equal(result.stderr.trim().split('\n').length, 1)
  })
  test('a key that does not match the certificate: one line, exit 2', async () => {
    const { args } = await httpsUrls()
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--data-dir', join(dir, 'mismatch'),
      '--cert-file', server.certFile, '--key-file', client.keyFile])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /^arbor: cannot use the TLS files .*: .*key values mismatch/)
    assert.equal(result.stderr.trim().split('\n').length, 1)
  })
})
