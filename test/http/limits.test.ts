/**
 * Goal: every named limit is enforced at its edge with a clear v2 error and no partial write
 * (ARCHITECTURE.md decision 9; spec v2-auth-and-security.md §8): request body size (400/210
 * `http: POST too large`, as etcd's 10 MiB form limit), value size, key length and depth
 * (400/209), watchers (500/300) and pending proposals (500/300 `etcdserver: too many requests`).
 * Method: app.inject() against members built with small limits; the key space is compared
 * before and after each refused request.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestMember } from '../support/test-member.js'
import { keySpace, send, until, v2Error } from './inject.js'

describe('requestBodyBytesMax', () => {
  test('a body of exactly the maximum is read; one more byte is 400/210 http: POST too large', async (t) => {
    const m = await startTestMember({ http: { requestBodyBytesMax: 100 } })
    t.after(() => m.close())
    const atMax = 'value=' + 'x'.repeat(94)
    assert.equal(Buffer.byteLength(atMax), 100)
    const ok = await send(m.app, 'PUT', '/v2/keys/body', atMax)
    assert.equal(ok.statusCode, 201)
    assert.equal(JSON.parse(ok.body).node.value, 'x'.repeat(94))

    const before = await keySpace(m.app)
    const tooLarge = await send(m.app, 'PUT', '/v2/keys/body', atMax + 'y')
    assert.equal(tooLarge.statusCode, 400)
    assert.equal(tooLarge.body, '{"errorCode":210,"message":"Invalid POST form","cause":"http: POST too large","index":0}\n')
    assert.equal(tooLarge.headers['x-etcd-index'], '0')
    assert.equal(tooLarge.headers['content-type'], 'application/json')
    assert.equal(tooLarge.headers.connection, 'close')
    assert.deepEqual(await keySpace(m.app), before)
  })

  test('POST bodies are bounded the same way', async (t) => {
    const m = await startTestMember({ http: { requestBodyBytesMax: 10 } })
    t.after(() => m.close())
    const reply = await send(m.app, 'POST', '/v2/keys/q', 'value=12345')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 210, cause: 'http: POST too large', index: 0 })
  })
})

describe('valueBytesMax', () => {
  test('a value of exactly the maximum (UTF-8 bytes) is stored; one more byte is 400/209', async (t) => {
    const m = await startTestMember({ http: { limits: { valueBytesMax: 10 } } })
    t.after(() => m.close())
    assert.equal((await send(m.app, 'PUT', '/v2/keys/v', 'value=0123456789')).statusCode, 201)
    assert.equal((await send(m.app, 'PUT', '/v2/keys/u', 'value=' + '%C3%A9'.repeat(5))).statusCode, 201)
    const before = await keySpace(m.app)
    const reply = await send(m.app, 'PUT', '/v2/keys/v', 'value=01234567890')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 209, cause: 'value is larger than 10 bytes', index: 0 })
    const multibyte = await send(m.app, 'POST', '/v2/keys/q', 'value=' + '%C3%A9'.repeat(5) + 'x')
    assert.equal(v2Error(multibyte).errorCode, 209)
    assert.deepEqual(await keySpace(m.app), before)
  })
})

describe('keyBytesMax', () => {
  test('a key of exactly the maximum bytes is stored; one more byte is 400/209', async (t) => {
    const m = await startTestMember({ http: { limits: { keyBytesMax: 16 } } })
    t.after(() => m.close())
    const atMax = '/' + 'k'.repeat(15)
    assert.equal((await send(m.app, 'PUT', `/v2/keys${atMax}`, 'value=1')).statusCode, 201)
    const before = await keySpace(m.app)
    const reply = await send(m.app, 'PUT', `/v2/keys${atMax}k`, 'value=1')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 209, cause: 'key is longer than 16 bytes', index: 0 })
    const read = await send(m.app, 'GET', `/v2/keys${atMax}k`)
    assert.equal(v2Error(read).errorCode, 209)
    assert.deepEqual(await keySpace(m.app), before)
  })

  test('the in-order key a POST creates counts against the limit', async (t) => {
    const m = await startTestMember({ http: { limits: { keyBytesMax: 24 } } })
    t.after(() => m.close())
    assert.equal((await send(m.app, 'POST', '/v2/keys/ab', 'value=1')).statusCode, 201) // /ab/ + 20 digits = 24 bytes
    const before = await keySpace(m.app)
    const reply = await send(m.app, 'POST', '/v2/keys/abc', 'value=1')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 209, cause: 'key is longer than 24 bytes', index: 0 })
    assert.deepEqual(await keySpace(m.app), before)
  })
})

describe('keyDepthMax', () => {
  test('a key of exactly the maximum depth is stored; one level more is 400/209', async (t) => {
    const m = await startTestMember({ http: { limits: { keyDepthMax: 3 } } })
    t.after(() => m.close())
    assert.equal((await send(m.app, 'PUT', '/v2/keys/a/b/c', 'value=1')).statusCode, 201)
    const before = await keySpace(m.app)
    const reply = await send(m.app, 'PUT', '/v2/keys/a/b/c2/d', 'value=1')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 209, cause: 'key is deeper than 3 segments', index: 0 })
    const watch = await send(m.app, 'GET', '/v2/keys/a/b/c/d?wait=true')
    assert.equal(v2Error(watch).errorCode, 209)
    assert.deepEqual(await keySpace(m.app), before)
  })

  test('the in-order key a POST creates counts against the depth', async (t) => {
    const m = await startTestMember({ http: { limits: { keyDepthMax: 3 } } })
    t.after(() => m.close())
    assert.equal((await send(m.app, 'POST', '/v2/keys/a/b', 'value=1')).statusCode, 201)
    const before = await keySpace(m.app)
    const reply = await send(m.app, 'POST', '/v2/keys/a/b/c', 'value=1')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 209, cause: 'key is deeper than 3 segments', index: 0 })
    assert.deepEqual(await keySpace(m.app), before)
  })
})

describe('watchersMax', () => {
  test('watchers up to the maximum register; one more is 500/300 with the current index', async (t) => {
    const m = await startTestMember({ store: { watchersMax: 2 } })
    t.after(() => m.close())
    await send(m.app, 'PUT', '/v2/keys/w', 'value=0') // 1
    const first = send(m.app, 'GET', '/v2/keys/w?wait=true')
    const second = send(m.app, 'GET', '/v2/keys/w?wait=true&stream=true')
    await until(() => m.store.watcherCount === 2)
    const third = await send(m.app, 'GET', '/v2/keys/w?wait=true')
    assert.equal(third.statusCode, 500)
    assert.equal(third.body, '{"errorCode":300,"message":"Raft Internal Error","cause":"too many watchers","index":1}\n')
    assert.equal(third.headers['x-etcd-index'], '1')
    assert.equal(m.store.watcherCount, 2)
    // A watch answered from history needs no slot.
    assert.equal((await send(m.app, 'GET', '/v2/keys/w?wait=true&waitIndex=1')).statusCode, 200)
    await send(m.app, 'PUT', '/v2/keys/w', 'value=1')
    assert.equal((await first).statusCode, 200)
    await until(() => m.store.watcherCount === 1)
    await m.close()
    assert.equal((await second).statusCode, 200)
  })
})

describe('pendingProposalsMax', () => {
  test('proposals up to the maximum wait; one more is 500/300 etcdserver: too many requests', async (t) => {
    // A leader whose only peer never acknowledges: nothing commits, so proposals stay pending.
    const m = await startTestMember({
      mode: 'leaderWithoutQuorum',
      member: { pendingProposalsMax: 2, heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 3_600_000 },
    })
    t.after(() => m.close())
    const lastIndex = m.log.lastIndex()
    const first = send(m.app, 'PUT', '/v2/keys/p1', 'value=1')
    const second = send(m.app, 'DELETE', '/v2/keys/p2')
    await until(() => m.log.lastIndex() === lastIndex + 2)
    const third = await send(m.app, 'POST', '/v2/keys/p3', 'value=3')
    assert.equal(third.statusCode, 500)
    assert.equal(third.body, '{"errorCode":300,"message":"Raft Internal Error","cause":"etcdserver: too many requests","index":0}\n')
    assert.equal(m.log.lastIndex(), lastIndex + 2, 'the refused write was not proposed')
    await m.close()
    for (const pending of [first, second]) {
      assert.deepEqual(v2Error(await pending), { status: 500, errorCode: 300, cause: 'etcdserver: server stopped', index: 0 })
    }
  })

  test('reads are not proposals: a full queue does not block them', async (t) => {
    const m = await startTestMember({
      mode: 'leaderWithoutQuorum',
      member: { pendingProposalsMax: 1, heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 3_600_000 },
    })
    t.after(() => m.close())
    const pending = send(m.app, 'PUT', '/v2/keys/p1', 'value=1')
    await until(() => m.log.lastIndex() > 1)
    assert.equal((await send(m.app, 'GET', '/v2/keys/')).statusCode, 200)
    await m.close()
    assert.equal((await pending).statusCode, 500)
  })
})
