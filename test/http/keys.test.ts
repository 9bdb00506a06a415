/**
 * Goal: /v2/keys answers as etcd 3.4 does: statuses, bodies and headers (spec v2-api.md §2.2,
 * §3.1, §4, §5, §6), where parameters come from, noValueOnSuccess, quorum reads, HEAD.
 * Method: app.inject() against a one-member in-memory arbor; bodies compared byte for byte.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { LightMyRequestResponse } from 'fastify'
import { startTestMember, testClusterId, type TestMember } from '../support/test-member.js'
import { keySpace, send, until, v2Error } from './inject.js'

const cors = {
  'access-control-allow-headers': 'accept, content-type, authorization',
  'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'access-control-allow-origin': '*',
}

/** Asserts the headers of a successful key-space answer (spec §5.2). */
function assertSuccessHeaders(reply: LightMyRequestResponse, etcdIndex: number): void {
  assert.equal(reply.headers['content-type'], 'application/json')
  assert.equal(reply.headers['x-etcd-cluster-id'], testClusterId)
  assert.equal(reply.headers['x-etcd-index'], String(etcdIndex))
  assert.match(String(reply.headers['x-raft-index']), /^[1-9][0-9]*$/)
  assert.match(String(reply.headers['x-raft-term']), /^[1-9][0-9]*$/)
  for (const [name, value] of Object.entries(cors)) assert.equal(reply.headers[name], value)
}

/** Asserts the headers of a key-space error (spec §5.2, §6.1): X-Etcd-Index = body index, no X-Raft-*. */
function assertErrorHeaders(reply: LightMyRequestResponse): void {
  const body = reply.json() as { index: number }
  assert.equal(reply.headers['content-type'], 'application/json')
  assert.equal(reply.headers['x-etcd-cluster-id'], testClusterId)
  assert.equal(reply.headers['x-etcd-index'], String(body.index))
  assert.equal(reply.headers['x-raft-index'], undefined)
  assert.equal(reply.headers['x-raft-term'], undefined)
  assert.ok(reply.body.endsWith('}\n'), 'one trailing newline')
  for (const [name, value] of Object.entries(cors)) assert.equal(reply.headers[name], value)
}

describe('writes and reads: status, body and headers', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember()
  })
  after(() => t.close())

  test('a set that creates answers 201 with the node; X-Etcd-Index is the write\'s index', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/message', 'value=Hello+world')
    assert.equal(reply.statusCode, 201)
    assert.equal(reply.body, '{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":1,"createdIndex":1}}\n')
    assertSuccessHeaders(reply, 1)
  })

  test('a set that replaces a file answers 200 with prevNode', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/message', 'value=Hello+etcd')
    assert.equal(reply.statusCode, 200)
    assert.equal(
      reply.body,
      '{"action":"set","node":{"key":"/message","value":"Hello etcd","modifiedIndex":2,"createdIndex":2},' +
        '"prevNode":{"key":"/message","value":"Hello world","modifiedIndex":1,"createdIndex":1}}\n',
    )
    assertSuccessHeaders(reply, 2)
  })

  test('a GET answers 200; X-Etcd-Index is the current index, not the node\'s', async () => {
    await send(t.app, 'PUT', '/v2/keys/other', 'value=x') // index 3
    const reply = await send(t.app, 'GET', '/v2/keys/message')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.body, '{"action":"get","node":{"key":"/message","value":"Hello etcd","modifiedIndex":2,"createdIndex":2}}\n')
    assertSuccessHeaders(reply, 3)
  })

  test('HEAD answers the GET\'s status and headers (Content-Length included) without a body', async () => {
    const get = await send(t.app, 'GET', '/v2/keys/message')
    const head = await send(t.app, 'HEAD', '/v2/keys/message')
    assert.equal(head.statusCode, 200)
    assert.equal(head.body, '')
    assert.equal(head.headers['content-length'], get.headers['content-length'])
    assertSuccessHeaders(head, 3)
  })

  test('HEAD of a missing key answers 404 with the error headers and no body', async () => {
    const head = await send(t.app, 'HEAD', '/v2/keys/nope')
    assert.equal(head.statusCode, 404)
    assert.equal(head.body, '')
    assert.equal(head.headers['x-etcd-index'], '3')
    assert.equal(head.headers['x-raft-index'], undefined)
  })

  test('a store error answers its status; X-Etcd-Index = the body\'s index = the current index', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/nope/deeper/x')
    assert.equal(reply.statusCode, 404)
    assert.equal(reply.body, '{"errorCode":100,"message":"Key not found","cause":"/nope","index":3}\n')
    assertErrorHeaders(reply)
  })

  test('a parameter error answers 400 with index 0 and X-Etcd-Index: 0', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/message?recursive=zz')
    assert.equal(reply.statusCode, 400)
    assert.equal(reply.body, '{"errorCode":209,"message":"Invalid field","cause":"invalid value for \\"recursive\\"","index":0}\n')
    assertErrorHeaders(reply)
  })

  test('a delete answers 200 with the removal\'s index and prevNode', async () => {
    const reply = await send(t.app, 'DELETE', '/v2/keys/message')
    assert.equal(reply.statusCode, 200)
    assert.equal(
      reply.body,
      '{"action":"delete","node":{"key":"/message","modifiedIndex":4,"createdIndex":2},' +
        '"prevNode":{"key":"/message","value":"Hello etcd","modifiedIndex":2,"createdIndex":2}}\n',
    )
    assertSuccessHeaders(reply, 4)
  })

  test('a POST creates an in-order key named by its index, 20 digits, 201', async () => {
    const reply = await send(t.app, 'POST', '/v2/keys/queue', 'value=Job1')
    assert.equal(reply.statusCode, 201)
    assert.equal(reply.body, '{"action":"create","node":{"key":"/queue/00000000000000000005","value":"Job1","modifiedIndex":5,"createdIndex":5}}\n')
    assertSuccessHeaders(reply, 5)
  })

  test('the root has no key and no indexes', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys')
    assert.equal(reply.statusCode, 200)
    assert.ok(reply.body.startsWith('{"action":"get","node":{"dir":true,"nodes":['))
    assertSuccessHeaders(reply, 5)
  })

  test('HTML-sensitive and control characters are escaped as Go does', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/a%3Cb%3E%26', 'value=%08%0C%00%7F%E2%80%A8')
    assert.equal(reply.statusCode, 201)
    assert.equal(
      reply.body,
      '{"action":"set","node":{"key":"/a\\u003cb\\u003e\\u0026","value":"\\u0008\\u000c\\u0000\u007f\\u2028","modifiedIndex":6,"createdIndex":6}}\n',
    )
    const missing = await send(t.app, 'GET', '/v2/keys/a%3Cb%3E%26/x/y')
    assert.equal(missing.body, '{"errorCode":104,"message":"Not a directory","cause":"/a\\u003cb\\u003e\\u0026","index":6}\n')
  })
})

describe('every store error code with its HTTP status (spec §6.2)', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember()
    await send(t.app, 'PUT', '/v2/keys/file', 'value=one') // 1
    await send(t.app, 'PUT', '/v2/keys/dir/child', 'value=c') // 2
  })
  after(() => t.close())

  const rows: { name: string; method: 'GET' | 'PUT' | 'DELETE'; url: string; body?: string; want: ReturnType<typeof v2Error> }[] = [
    { name: '100 Key not found', method: 'GET', url: '/v2/keys/missing', want: { status: 404, errorCode: 100, cause: '/missing', index: 2 } },
    { name: '101 Compare failed (value)', method: 'PUT', url: '/v2/keys/file?prevValue=two', body: 'value=x', want: { status: 412, errorCode: 101, cause: '[two != one]', index: 2 } },
    { name: '101 Compare failed (both)', method: 'DELETE', url: '/v2/keys/file?prevValue=two&prevIndex=7', want: { status: 412, errorCode: 101, cause: '[two != one] [7 != 1]', index: 2 } },
    { name: '101 echoes prevIndex as parsed', method: 'PUT', url: '/v2/keys/file?prevIndex=007', want: { status: 412, errorCode: 101, cause: '[7 != 1]', index: 2 } },
    { name: '101 with prevIndex=2^64-1', method: 'PUT', url: '/v2/keys/file?prevIndex=18446744073709551615', want: { status: 412, errorCode: 101, cause: '[18446744073709551615 != 1]', index: 2 } },
    { name: '100 for prevIndex=2^64-1 on a missing key', method: 'PUT', url: '/v2/keys/nokey?prevIndex=18446744073709551615', want: { status: 404, errorCode: 100, cause: '/nokey', index: 2 } },
    { name: '102 Not a file', method: 'PUT', url: '/v2/keys/dir', body: 'value=x', want: { status: 403, errorCode: 102, cause: '/dir', index: 2 } },
    { name: '102 for compare-and-delete on the root, without a cause', method: 'DELETE', url: '/v2/keys/?prevValue=x', want: { status: 403, errorCode: 102, index: 2 } },
    { name: '104 Not a directory', method: 'PUT', url: '/v2/keys/file/under', body: 'value=x', want: { status: 400, errorCode: 104, cause: '/file', index: 2 } },
    { name: '105 Key already exists', method: 'PUT', url: '/v2/keys/file?prevExist=false', body: 'value=x', want: { status: 412, errorCode: 105, cause: '/file', index: 2 } },
    { name: '107 Root is read only', method: 'DELETE', url: '/v2/keys/?recursive=true', want: { status: 400, errorCode: 107, cause: '/', index: 2 } },
    { name: '108 Directory not empty', method: 'DELETE', url: '/v2/keys/dir?dir=true', want: { status: 403, errorCode: 108, cause: '/dir', index: 2 } },
    { name: '201 empty prevValue', method: 'DELETE', url: '/v2/keys/file?prevValue=', want: { status: 400, errorCode: 201, cause: '"prevValue" cannot be empty', index: 0 } },
    { name: '202 bad ttl', method: 'PUT', url: '/v2/keys/file?ttl=abc', want: { status: 400, errorCode: 202, cause: 'invalid value for "ttl"', index: 0 } },
    { name: '203 bad prevIndex', method: 'PUT', url: '/v2/keys/file?prevIndex=18446744073709551616', want: { status: 400, errorCode: 203, cause: 'invalid value for "prevIndex"', index: 0 } },
    { name: '210 bad escape in the query', method: 'GET', url: '/v2/keys/file?x=%zz', want: { status: 400, errorCode: 210, cause: 'invalid URL escape "%zz"', index: 0 } },
    { name: '210 semicolon in the query', method: 'GET', url: '/v2/keys/file?a=1;b=2', want: { status: 400, errorCode: 210, cause: 'invalid semicolon separator in query', index: 0 } },
    { name: '211 value on refresh', method: 'PUT', url: '/v2/keys/file?refresh=true&ttl=5', body: 'value=x', want: { status: 400, errorCode: 211, cause: 'A value was provided on a refresh', index: 0 } },
    { name: '212 refresh without ttl', method: 'PUT', url: '/v2/keys/file?refresh=true', want: { status: 400, errorCode: 212, cause: 'No TTL value set', index: 0 } },
  ]
  for (const row of rows) {
    test(`${row.name}: ${row.method} ${row.url} → ${row.want.status}`, async () => {
      const before = await keySpace(t.app)
      const reply = await send(t.app, row.method, row.url, row.body)
      assert.deepEqual(v2Error(reply), row.want)
      assertErrorHeaders(reply)
      assert.deepEqual(await keySpace(t.app), before, 'a failed request changes nothing')
    })
  }
})

describe('where parameters come from (spec §2.2)', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember()
  })
  after(() => t.close())

  const valueOf = async (url: string): Promise<string> => JSON.parse((await send(t.app, 'GET', url)).body).node.value

  test('a body value comes before a query value', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/q?value=fromquery', 'value=frombody')
    assert.equal(reply.statusCode, 201)
    assert.equal(await valueOf('/v2/keys/q'), 'frombody')
  })

  test('body prevExist=true beats query prevExist=false', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/q?prevExist=false', 'prevExist=true&value=x')
    assert.equal(reply.statusCode, 200)
    assert.equal(JSON.parse(reply.body).action, 'update')
  })

  test('body ttl= (empty) beats query ttl=100: no TTL', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/q?ttl=100', 'ttl=&value=y')
    assert.equal(reply.statusCode, 200)
    assert.equal(JSON.parse(reply.body).node.ttl, undefined)
  })

  test('+ in a body is a space, %2B a plus', async () => {
    await send(t.app, 'PUT', '/v2/keys/plus', 'value=a+b%2Bc')
    assert.equal(await valueOf('/v2/keys/plus'), 'a b+c')
  })

  test('a semicolon in a body value is 400/210', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/semi', 'value=a;b')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 210, cause: 'invalid semicolon separator in query', index: 0 })
  })

  test('a body error beats a query error', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/semi?x=;', 'value=%zz')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 210, cause: 'invalid URL escape "%zz"', index: 0 })
  })

  test('a body with Content-Type parameters is still a form', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/cs', 'value=v', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' })
    assert.equal(reply.statusCode, 201)
    assert.equal(await valueOf('/v2/keys/cs'), 'v')
  })

  for (const contentType of ['application/json', 'text/plain', 'multipart/form-data; boundary=x', 'text', '']) {
    test(`a body of type "${contentType}" is ignored: the key is set to ""`, async () => {
      const reply = await t.app.inject({
        method: 'PUT',
        url: '/v2/keys/typed',
        payload: 'value=j',
        headers: { 'content-type': contentType },
      })
      assert.equal(reply.statusCode, 200 + (reply.statusCode === 201 ? 1 : 0))
      assert.equal(await valueOf('/v2/keys/typed'), '')
    })
  }

  test('a body without Content-Type is ignored', async () => {
    await send(t.app, 'PUT', '/v2/keys/untyped', 'value=x')
    const reply = await t.app.inject({ method: 'PUT', url: '/v2/keys/untyped', payload: Buffer.from('value=j') })
    assert.equal(reply.statusCode, 200)
    assert.equal(await valueOf('/v2/keys/untyped'), '')
  })

  test('an unparsable Content-Type is 400/210 "mime: no media type", nothing written', async () => {
    const before = await keySpace(t.app)
    const reply = await send(t.app, 'PUT', '/v2/keys/mime', 'value=x', { 'content-type': ';;;' })
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 210, cause: 'mime: no media type', index: 0 })
    assert.deepEqual(await keySpace(t.app), before)
  })

  test('a Content-Type with a bad parameter is 400/210 "mime: invalid media parameter"', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/mime', 'value=x', { 'content-type': 'application/x-www-form-urlencoded; charset' })
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 210, cause: 'mime: invalid media parameter', index: 0 })
  })

  test('DELETE never reads its body: prevValue=x in a body is a plain delete', async () => {
    await send(t.app, 'PUT', '/v2/keys/del', 'value=1')
    const reply = await send(t.app, 'DELETE', '/v2/keys/del', 'prevValue=x')
    assert.equal(reply.statusCode, 200)
    assert.equal(JSON.parse(reply.body).action, 'delete')
  })

  test('GET never reads its body', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/q', 'recursive=zz')
    assert.equal(reply.statusCode, 200)
  })

  test('a name without = has the empty value: ?recursive is 209', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/q?recursive')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 209, cause: 'invalid value for "recursive"', index: 0 })
  })
})

describe('noValueOnSuccess (spec §4.6)', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember()
  })
  after(() => t.close())

  const rows: { method: 'PUT' | 'POST' | 'DELETE' | 'GET'; url: string; body?: string; status: number; want: string | RegExp }[] = [
    { method: 'PUT', url: '/v2/keys/n?noValueOnSuccess=true', body: 'value=1', status: 201, want: '{"action":"set"}\n' },
    { method: 'PUT', url: '/v2/keys/n?noValueOnSuccess=true', body: 'value=2', status: 200, want: '{"action":"set"}\n' },
    { method: 'PUT', url: '/v2/keys/c?noValueOnSuccess=true&prevExist=false', body: 'value=1', status: 201, want: '{"action":"create"}\n' },
    { method: 'PUT', url: '/v2/keys/n?noValueOnSuccess=true&prevExist=true', body: 'value=3', status: 200, want: '{"action":"update"}\n' },
    { method: 'PUT', url: '/v2/keys/n?noValueOnSuccess=true&prevValue=3', body: 'value=4', status: 200, want: '{"action":"compareAndSwap"}\n' },
    { method: 'POST', url: '/v2/keys/q?noValueOnSuccess=true', body: 'value=1', status: 201, want: '{"action":"create"}\n' },
    { method: 'GET', url: '/v2/keys/n?noValueOnSuccess=true', status: 200, want: /^\{"action":"get","node":\{"key":"\/n","value":"4"/ },
    { method: 'PUT', url: '/v2/keys/n?noValueOnSuccess=true&prevValue=zz', body: 'value=5', status: 412, want: /^\{"errorCode":101,/ },
    { method: 'DELETE', url: '/v2/keys/n?noValueOnSuccess=true&prevValue=4', status: 200, want: /^\{"action":"compareAndDelete","node":/ },
    { method: 'DELETE', url: '/v2/keys/c?noValueOnSuccess=true', status: 200, want: /^\{"action":"delete","node":/ },
  ]
  for (const row of rows) {
    test(`${row.method} ${row.url} → ${row.status} ${String(row.want).trim()}`, async () => {
      const reply = await send(t.app, row.method, row.url, row.body)
      assert.equal(reply.statusCode, row.status)
      if (typeof row.want === 'string') assert.equal(reply.body, row.want)
      else assert.match(reply.body, row.want)
      assert.equal(reply.headers['content-type'], 'application/json')
      if (row.status < 300) assert.ok(reply.headers['x-raft-index'] !== undefined)
    })
  }

  test('the headers are unchanged: X-Etcd-Index is still the write\'s index', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/h?noValueOnSuccess=true', 'value=1')
    const get = await send(t.app, 'GET', '/v2/keys/h')
    assert.equal(reply.headers['x-etcd-index'], String(JSON.parse(get.body).node.modifiedIndex))
  })
})

describe('quorum reads (spec §3.1, §11.7)', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember()
    await send(t.app, 'PUT', '/v2/keys/dir/b', 'value=2')
    await send(t.app, 'PUT', '/v2/keys/dir/a', 'value=1')
  })
  after(() => t.close())

  test('quorum=true answers what a local read answers', async () => {
    const local = await send(t.app, 'GET', '/v2/keys/dir?recursive=true&sorted=true')
    const quorum = await send(t.app, 'GET', '/v2/keys/dir?recursive=true&sorted=true&quorum=true')
    assert.equal(quorum.statusCode, 200)
    assert.equal(quorum.body, local.body)
    assertSuccessHeaders(quorum, 2)
  })

  test('wait=true&quorum=true is an immediate quorum GET, not a watch', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/dir/a?wait=true&quorum=true')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.body, '{"action":"get","node":{"key":"/dir/a","value":"1","modifiedIndex":2,"createdIndex":2}}\n')
    assert.ok(reply.headers['content-length'] !== undefined)
  })

  test('a quorum read of a missing key is 404/100 with the current index', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/nope?quorum=true')
    assert.deepEqual(v2Error(reply), { status: 404, errorCode: 100, cause: '/nope', index: 2 })
  })

  test('a quorum read does not change the etcd index', async () => {
    const before = await keySpace(t.app)
    await send(t.app, 'GET', '/v2/keys/dir?quorum=true')
    assert.deepEqual(await keySpace(t.app), before)
  })
})

describe('Raft failures on /v2/keys (spec §6.3)', () => {
  test('a write that cannot be committed answers 500/300 with index 0 and no X-Raft-*', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const m = await startTestMember({ mode: 'leaderWithoutQuorum', member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 7_000 } })
    t.after(() => m.close())
    const lastIndex = m.log.lastIndex()
    const pending = send(m.app, 'PUT', '/v2/keys/a', 'value=1')
    await until(() => m.log.lastIndex() > lastIndex) // proposed, waiting for a quorum
    t.mock.timers.tick(7_000)
    const reply = await pending
    assert.equal(reply.statusCode, 500)
    assert.equal(reply.body, '{"errorCode":300,"message":"Raft Internal Error","cause":"etcdserver: request timed out","index":0}\n')
    assertErrorHeaders(reply)
  })

  test('a quorum read that cannot be confirmed answers 500/300 request timed out', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const m = await startTestMember({ mode: 'leaderWithoutQuorum', member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 7_000 } })
    t.after(() => m.close())
    const quorumGet = t.mock.method(m.member, 'quorumGet')
    const pending = send(m.app, 'GET', '/v2/keys/?quorum=true')
    await until(() => quorumGet.mock.callCount() === 1) // the read waits for its read point
    t.mock.timers.tick(7_000)
    const reply = await pending
    assert.deepEqual(v2Error(reply), { status: 500, errorCode: 300, cause: 'etcdserver: request timed out', index: 0 })
  })

  test('plain reads still work on a member that cannot commit', async (t) => {
    const m = await startTestMember({ mode: 'noLeader', member: { heartbeatIntervalMs: 3_600_000 } })
    t.after(() => m.close())
    const reply = await send(m.app, 'GET', '/v2/keys/')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.body, '{"action":"get","node":{"dir":true}}\n')
  })

  test('a write on a member without a leader waits, then answers 500/300 request timed out', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const m = await startTestMember({ mode: 'noLeader', member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 7_000 } })
    t.after(() => m.close())
    const write = t.mock.method(m.member, 'write')
    const pending = send(m.app, 'PUT', '/v2/keys/a', 'value=1')
    await until(() => write.mock.callCount() === 1)
    t.mock.timers.tick(7_000)
    assert.deepEqual(v2Error(await pending), { status: 500, errorCode: 300, cause: 'etcdserver: request timed out', index: 0 })
  })
})
