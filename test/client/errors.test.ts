/**
 * Goal: every answer other than 2xx reaches the caller as the right typed error, and a 2xx
 * answer that is not a keys answer is refused with the field it got wrong.
 *
 * Method: `errorFromResponse` is pure, so it is checked as a table of status and body (the
 * bodies are etcd 3.4's); then the client runs against undici's MockAgent (no socket), to
 * show the mapping on the real request path, the key's percent-encoding and the form sent.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MockAgent } from 'undici'
import {
  ArborClient,
  HttpStatusError,
  RequestFailedError,
  ResponseFormatError,
  V2ClientError,
  errorFromResponse,
  isV2Error,
  keysPath,
  v2ErrorCodes,
} from '../../src/client/index.js'

const cases = [
  {
    name: '404 with a v2 body is KeyNotFound with its cause and index',
    status: 404,
    body: '{"errorCode":100,"message":"Key not found","cause":"/nope","index":14}\n',
    want: { type: 'v2', errorCode: 100, detail: '/nope', index: 14, httpStatus: 404, message: '100: Key not found (/nope) [14]' },
  },
  {
    name: '412 with a v2 body is NodeExist',
    status: 412,
    body: '{"errorCode":105,"message":"Key already exists","cause":"/a","index":3}',
    want: { type: 'v2', errorCode: 105, detail: '/a', index: 3, httpStatus: 412, message: '105: Key already exists (/a) [3]' },
  },
  {
    name: 'a v2 body without cause has an empty detail',
    status: 401,
    body: '{"errorCode":110,"message":"The request requires user authentication","index":0}',
    want: { type: 'v2', errorCode: 110, detail: '', index: 0, httpStatus: 401, message: '110: The request requires user authentication [0]' },
  },
  {
    name: 'a code the client does not name still comes through',
    status: 400,
    body: '{"errorCode":209,"message":"Invalid field","cause":"invalid value","index":0}',
    want: { type: 'v2', errorCode: 209, detail: 'invalid value', index: 0, httpStatus: 400, message: '209: Invalid field (invalid value) [0]' },
  },
  { name: 'a plain-text 400 is an HTTP status error', status: 400, body: '400 Bad Request', want: { type: 'http', httpStatus: 400, message: 'HTTP 400: 400 Bad Request' } },
  { name: 'a 502 from a proxy with an empty body', status: 502, body: '', want: { type: 'http', httpStatus: 502, message: 'HTTP 502' } },
  { name: 'a JSON body without errorCode is not a v2 error', status: 500, body: '{"message":"x"}', want: { type: 'http', httpStatus: 500, message: 'HTTP 500: {"message":"x"}' } },
  { name: 'a non-integer errorCode is not a v2 error', status: 404, body: '{"errorCode":"100","message":"Key not found"}', want: { type: 'http', httpStatus: 404, message: 'HTTP 404: {"errorCode":"100","message":"Key not found"}' } },
]

for (const c of cases) {
  test(`errorFromResponse: ${c.name}`, () => {
    const error = errorFromResponse(c.status, c.body)
    if (error instanceof V2ClientError) {
      assert.deepEqual(
        { type: 'v2', errorCode: error.errorCode, detail: error.detail, index: error.index, httpStatus: error.httpStatus, message: error.message },
        c.want,
      )
    } else {
      assert.ok(error instanceof HttpStatusError)
      assert.deepEqual({ type: 'http', httpStatus: error.httpStatus, message: error.message }, c.want)
    }
  })
}

test('an HTTP status error keeps at most 200 characters of the body', () => {
  const error = errorFromResponse(500, 'x'.repeat(1000))
  assert.ok(error instanceof HttpStatusError)
  assert.equal(error.bodyExcerpt.length, 200)
})

test('keysPath percent-encodes each segment and keeps the slashes', () => {
  assert.equal(keysPath('/'), '/v2/keys/')
  assert.equal(keysPath('/a/b'), '/v2/keys/a/b')
  assert.equal(keysPath('/a b/?#%/ü'), '/v2/keys/a%20b/%3F%23%25/%C3%BC')
})

const origin = 'http://member.test:2379'

function mocked(): { agent: MockAgent; client: ArborClient } {
  const agent = new MockAgent()
  agent.disableNetConnect()
  const client = new ArborClient({ endpoint: origin, connections: 1, requestTimeoutMs: 1_000, dispatcher: agent })
  return { agent, client }
}

test('get decodes the node and the X-Etcd-Index header; the root gets the key "/"', async (t) => {
  const { agent, client } = mocked()
  t.after(() => agent.close())
  agent
    .get(origin)
    .intercept({ path: '/v2/keys/?sorted=true', method: 'GET' })
    .reply(200, '{"action":"get","node":{"dir":true,"nodes":[{"key":"/a","value":"1","modifiedIndex":4,"createdIndex":4},{"key":"/d","dir":true,"expiration":"2026-12-05T09:16:13.528150216Z","ttl":50,"modifiedIndex":5,"createdIndex":5}]}}', {
      headers: { 'x-etcd-index': '7' },
    })
  const listing = await client.list('/')
  assert.equal(listing.etcdIndex, 7)
  assert.deepEqual(listing.node.key, '/')
  assert.deepEqual(
    listing.children.map((n) => [n.key, n.dir, n.value, n.ttl, n.createdIndex]),
    [
      ['/a', false, '1', undefined, 4],
      ['/d', true, undefined, 50, 5],
    ],
  )
})

test('a 404 on the request path is a V2ClientError with code 100', async (t) => {
  const { agent, client } = mocked()
  t.after(() => agent.close())
  agent
    .get(origin)
    .intercept({ path: '/v2/keys/a%20b/%C3%BC', method: 'GET' })
    .reply(404, '{"errorCode":100,"message":"Key not found","cause":"/a b/ü","index":9}')
  const error = await client.get('/a b/ü').then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  )
  assert.ok(isV2Error(error, v2ErrorCodes.KeyNotFound))
  assert.equal(error.detail, '/a b/ü')
})

test('mkdir sends dir=true, the TTL and prevExist=false; 105 comes back typed', async (t) => {
  const { agent, client } = mocked()
  t.after(() => agent.close())
  agent
    .get(origin)
    .intercept({ path: '/v2/keys/d?prevExist=false', method: 'PUT', body: 'dir=true&ttl=30' })
    .reply(412, '{"errorCode":105,"message":"Key already exists","cause":"/d","index":3}')
  const error = await client.mkdir('/d', { ttlSeconds: 30 }).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  )
  assert.ok(isV2Error(error, v2ErrorCodes.NodeExist))
})

test('set sends the value form-encoded (newlines and UTF-8 intact)', async (t) => {
  const { agent, client } = mocked()
  t.after(() => agent.close())
  agent
    .get(origin)
    .intercept({ path: '/v2/keys/k', method: 'PUT', body: 'value=a%0Ab+%C3%BC&ttl=5' })
    .reply(201, '{"action":"set","node":{"key":"/k","value":"a\\nb ü","ttl":5,"expiration":"2026-12-05T09:16:13Z","modifiedIndex":2,"createdIndex":2}}')
  const result = await client.set('/k', 'a\nb ü', { ttlSeconds: 5 })
  assert.equal(result.node.value, 'a\nb ü')
})

test('a 2xx answer with a wrong field is a ResponseFormatError naming it', async (t) => {
  const { agent, client } = mocked()
  t.after(() => agent.close())
  agent
    .get(origin)
    .intercept({ path: '/v2/keys/d?sorted=true', method: 'GET' })
    .reply(200, '{"action":"get","node":{"key":"/d","dir":true,"nodes":[{"key":"/d/a","ttl":"5"}]}}')
  await assert.rejects(client.list('/d'), (e: unknown) => e instanceof ResponseFormatError && /node\.nodes\[0\]\.ttl/.test(e.message))
})

test('no answer at all is a RequestFailedError naming the endpoint', async (t) => {
  const { agent, client } = mocked()
  t.after(() => agent.close())
  agent.get(origin).intercept({ path: '/v2/keys/k', method: 'GET' }).replyWithError(new Error('connection refused'))
  await assert.rejects(client.get('/k'), (e: unknown) => e instanceof RequestFailedError && e.message === `no answer from ${origin}: connection refused`)
})
