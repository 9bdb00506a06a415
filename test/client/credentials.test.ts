/**
 * Goal: a client made with credentials sends them as HTTP Basic on every request (etcd's v2
 * auth checks each one; there is no session), a client without sends no Authorization at
 * all, and the snapshot download hands out the member's headers or a typed error (401 when
 * the credentials are missing or refused). TLS itself is exercised against real members in
 * test/e2e/client-access.test.ts.
 *
 * Method: `basicAuthorization` as a table; the client against undici's MockAgent (no socket),
 * whose interceptors match only when the header is as expected.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MockAgent } from 'undici'
import { ArborClient, HttpStatusError, basicAuthorization, snapshotPath, type Credentials } from '../../src/client/index.js'
import { snapshotRoutePath } from '../../src/http/index.js'

const cases = [
  { name: 'ASCII', credentials: { username: 'root', password: 'pw' }, want: 'Basic cm9vdDpwdw==' },
  { name: 'a password may hold ":"', credentials: { username: 'root', password: 'a:b' }, want: `Basic ${Buffer.from('root:a:b').toString('base64')}` },
  { name: 'UTF-8 names and passwords', credentials: { username: 'jürgen', password: 'größe' }, want: `Basic ${Buffer.from('jürgen:größe', 'utf8').toString('base64')}` },
  { name: 'an empty password', credentials: { username: 'guest', password: '' }, want: `Basic ${Buffer.from('guest:').toString('base64')}` },
]
for (const c of cases) {
  test(`basicAuthorization: ${c.name}`, () => assert.equal(basicAuthorization(c.credentials), c.want))
}

test('basicAuthorization refuses a user name holding ":" (the member would split it there)', () => {
  assert.throws(() => basicAuthorization({ username: 'a:b', password: 'c' }), RangeError)
})

const origin = 'http://member.test:2379'

function mocked(credentials?: Credentials): { agent: MockAgent; client: ArborClient } {
  const agent = new MockAgent()
  agent.disableNetConnect()
  const client = new ArborClient({ endpoint: origin, connections: 1, requestTimeoutMs: 1_000, dispatcher: agent, ...(credentials === undefined ? {} : { credentials }) })
  return { agent, client }
}

const keyAnswer = '{"action":"get","node":{"key":"/k","value":"v","modifiedIndex":2,"createdIndex":2}}'

test('every request of a client with credentials carries them: reads, writes, deletes, the snapshot', async (t) => {
  const { agent, client } = mocked({ username: 'root', password: 'pw' })
  t.after(() => agent.close())
  const headers = { authorization: 'Basic cm9vdDpwdw==' }
  const pool = agent.get(origin)
  pool.intercept({ path: '/v2/keys/k', method: 'GET', headers }).reply(200, keyAnswer)
  pool.intercept({ path: '/v2/keys/k', method: 'PUT', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: 'value=v' }).reply(200, keyAnswer)
  pool.intercept({ path: '/v2/keys/k', method: 'DELETE', headers }).reply(200, keyAnswer)
  pool.intercept({ path: snapshotPath, method: 'GET', headers }).reply(200, 'db', { headers: { 'content-length': '2', 'x-arbor-snapshot-index': '9', 'x-arbor-snapshot-sha256': 'ab' } })
  await client.get('/k')
  await client.set('/k', 'v')
  await client.delete('/k')
  const snapshot = await client.snapshot()
  assert.deepEqual([snapshot.bytes, snapshot.appliedIndex, snapshot.sha256, await snapshot.body.text()], [2, '9', 'ab', 'db'])
  agent.assertNoPendingInterceptors()
})

test('a client without credentials sends no Authorization header', async (t) => {
  const { agent, client } = mocked()
  t.after(() => agent.close())
  agent
    .get(origin)
    .intercept({ path: '/v2/keys/k', method: 'GET', headers: (h: Record<string, string>) => !Object.keys(h).some((name) => name.toLowerCase() === 'authorization') })
    .reply(200, keyAnswer)
  await client.get('/k')
  agent.assertNoPendingInterceptors()
})

test('a refused snapshot download is a typed error with the status and the body', async (t) => {
  const { agent, client } = mocked({ username: 'alice', password: 'pw' })
  t.after(() => agent.close())
  agent.get(origin).intercept({ path: snapshotPath, method: 'GET' }).reply(401, '{"message":"Insufficient credentials"}\n')
  await assert.rejects(client.snapshot(), (error: unknown) => {
    assert(error instanceof HttpStatusError)
    assert.equal(error.httpStatus, 401)
    assert.equal(error.bodyExcerpt, '{"message":"Insufficient credentials"}')
    return true
  })
})

test("the client's snapshot path is the member's route", () => {
  assert.equal(snapshotPath, snapshotRoutePath)
})
