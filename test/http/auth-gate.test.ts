/**
 * Goal: a member has ONE credential checker, shared by all its client listeners (as its
 * metrics are): a credential bcrypt verified through one listener is trusted on the others
 * from the cache, and failed logins on every listener count in one series.
 * Method: two apps built over one in-memory member with one `MemberMetrics` and one
 * `Authenticator`, as the member command builds them; app.inject(); bcrypt runs and failed
 * logins read from `/metrics` (`arbor_auth_password_verifications_total`,
 * `arbor_auth_failed_logins_total`). A third app with its own checker shows the cache is
 * what spared the bcrypt.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { Authenticator } from '../../src/auth/index.js'
import { MemberMetrics, buildApp } from '../../src/http/index.js'
import { startTestMember, testHttpSettings } from '../support/test-member.js'

function basic(credentials: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` }
}

/** The value of the sample `name` in `app`'s /metrics (plain inject: no raw-URL hook). */
async function sample(app: FastifyInstance, name: string): Promise<number | undefined> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const line = text.split('\n').find((l) => l.startsWith(name + ' '))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

/** The status of `GET /v2/keys/` through `app` with `headers`. */
async function getRoot(app: FastifyInstance, headers: Record<string, string>): Promise<number> {
  return (await app.inject({ method: 'GET', url: '/v2/keys/', headers })).statusCode
}

test('a credential verified through one client listener is trusted on the other; failed logins count once per member', { timeout: 60_000 }, async (t) => {
  const m = await startTestMember()
  t.after(() => m.close())
  const created = await m.app.inject({ method: 'PUT', url: '/v2/auth/users/root', payload: '{"user":"root","password":"rootpw"}', headers: { 'content-type': 'application/json' } })
  assert.equal(created.statusCode, 201, created.body)
  assert.equal((await m.app.inject({ method: 'PUT', url: '/v2/auth/enable' })).statusCode, 200)

  const metrics = new MemberMetrics(m.member)
  const authenticator = new Authenticator(m.member.auth, { cacheTtlMs: 60_000, cacheEntriesMax: 10 }, () => m.member.nowMs())
  const first = buildApp(m.member, testHttpSettings, undefined, metrics, { authenticator })
  const second = buildApp(m.member, testHttpSettings, undefined, metrics, { authenticator })
  const own = buildApp(m.member, testHttpSettings, undefined, metrics)
  t.after(() => Promise.all([first.close(), second.close(), own.close()]))
  const verifications = 'arbor_auth_password_verifications_total'
  const failed = 'arbor_auth_failed_logins_total'

  assert.equal(await getRoot(first, {}), 401, 'guest has no permission while auth is on')
  assert.equal(await getRoot(first, basic('root:rootpw')), 200)
  assert.equal(await sample(first, verifications), 1)
  assert.equal(await getRoot(second, basic('root:rootpw')), 200)
  assert.equal(await sample(second, verifications), 1, 'the other listener answered from the shared cache')
  assert.equal(authenticator.cachedEntries, 1)

  // An app with a checker of its own pays bcrypt again for the same credential.
  assert.equal(await getRoot(own, basic('root:rootpw')), 200)
  assert.equal(await sample(first, verifications), 2)

  assert.equal(await getRoot(first, basic('root:wrong')), 401)
  assert.equal(await getRoot(second, basic('root:wrong')), 401)
  for (const app of [first, second]) {
    assert.equal(await sample(app, failed), 2, 'failed logins on both listeners, one series')
    assert.equal(await sample(app, verifications), 4, 'failures are never cached')
  }
})
