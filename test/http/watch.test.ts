/**
 * Goal: watches over HTTP answer as etcd's do (spec v2-api.md §11): a long poll answered from
 * history by waitIndex or by the next live event, X-Etcd-Index taken at registration, the
 * 401 of a cleared history, streams (a replay longer than `watcherEventsMax` included), and
 * open watches ended by a member stop. Slow stream clients: watch-stream-backpressure.test.ts
 * and test/e2e/watch-stream.test.ts.
 * Method: app.inject() against a one-member in-memory arbor; an inject of a waiting watch
 * resolves when its response ends, so writes are made while it is pending.
 */
import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestMember, testClusterId, type TestMember } from '../support/test-member.js'
import { send, until, v2Error } from './inject.js'

describe('long-poll watches', () => {
  let t: TestMember
  beforeEach(async () => {
    t = await startTestMember({ store: { historyEventsMax: 5 } })
    await send(t.app, 'PUT', '/v2/keys/a', 'value=1') // 1
    await send(t.app, 'PUT', '/v2/keys/b', 'value=2') // 2
    await send(t.app, 'PUT', '/v2/keys/a', 'value=3') // 3
  })
  afterEach(() => t.close())

  test('waitIndex in history answers the first matching event at once', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/a?wait=true&waitIndex=2')
    assert.equal(reply.statusCode, 200)
    assert.equal(
      reply.body,
      '{"action":"set","node":{"key":"/a","value":"3","modifiedIndex":3,"createdIndex":3},' +
        '"prevNode":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}\n',
    )
    assert.equal(reply.headers['content-type'], 'application/json')
    assert.equal(reply.headers['x-etcd-cluster-id'], testClusterId)
    assert.equal(reply.headers['x-etcd-index'], '3')
    assert.ok(reply.headers['x-raft-index'] !== undefined)
    assert.ok(reply.headers['x-raft-term'] !== undefined)
    assert.equal(reply.headers['transfer-encoding'], 'chunked')
    assert.equal(reply.headers['access-control-allow-origin'], '*')
    assert.equal(t.store.watcherCount, 0, 'a watch answered from history registers nothing')
  })

  test('waitIndex equal to the current index returns that event', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/a?wait=true&waitIndex=3')
    assert.equal(JSON.parse(reply.body).node.modifiedIndex, 3)
  })

  test('a recursive watch on the root sees a child\'s event from history', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/?wait=true&recursive=true&waitIndex=2')
    assert.equal(JSON.parse(reply.body).node.key, '/b')
  })

  test('without waitIndex, the next matching event answers; X-Etcd-Index is the index at registration', async () => {
    const watch = send(t.app, 'GET', '/v2/keys/a?wait=true')
    await until(() => t.store.watcherCount === 1)
    await send(t.app, 'PUT', '/v2/keys/b', 'value=4') // 4: not /a
    await send(t.app, 'PUT', '/v2/keys/a', 'value=5') // 5
    const reply = await watch
    assert.equal(reply.statusCode, 200)
    assert.equal(JSON.parse(reply.body).node.modifiedIndex, 5)
    assert.equal(reply.headers['x-etcd-index'], '3')
    assert.equal(t.store.watcherCount, 0)
  })

  test('a future waitIndex skips matching events below it', async () => {
    const watch = send(t.app, 'GET', '/v2/keys/a?wait=true&waitIndex=6')
    await until(() => t.store.watcherCount === 1)
    for (let i = 0; i < 3; i++) await send(t.app, 'PUT', '/v2/keys/a', `value=${i}`) // 4, 5, 6
    assert.equal(JSON.parse((await watch).body).node.modifiedIndex, 6)
  })

  test('a delete of the watched key is delivered as a delete event', async () => {
    const watch = send(t.app, 'GET', '/v2/keys/a?wait=true')
    await until(() => t.store.watcherCount === 1)
    await send(t.app, 'DELETE', '/v2/keys/a')
    const body = JSON.parse((await watch).body)
    assert.equal(body.action, 'delete')
    assert.equal(body.prevNode.value, '3')
  })

  test('a waitIndex older than the history is 400/401 with the current index', async () => {
    await send(t.app, 'PUT', '/v2/keys/c', 'value=1') // 4
    await send(t.app, 'PUT', '/v2/keys/c', 'value=2') // 5
    await send(t.app, 'PUT', '/v2/keys/c', 'value=3') // 6: the history now holds 2..6
    const reply = await send(t.app, 'GET', '/v2/keys/a?wait=true&waitIndex=1')
    assert.equal(reply.statusCode, 400)
    assert.equal(
      reply.body,
      '{"errorCode":401,"message":"The event in requested index is outdated and cleared",' +
        '"cause":"the requested history has been cleared [2/1]","index":6}\n',
    )
    assert.equal(reply.headers['x-etcd-index'], '6')
    assert.equal(reply.headers['x-raft-index'], undefined)
    assert.equal(t.store.watcherCount, 0)
  })

  test('the oldest kept index is still answered', async () => {
    await send(t.app, 'PUT', '/v2/keys/c', 'value=1') // 4
    await send(t.app, 'PUT', '/v2/keys/c', 'value=2') // 5
    await send(t.app, 'PUT', '/v2/keys/c', 'value=3') // 6
    const reply = await send(t.app, 'GET', '/v2/keys/b?wait=true&waitIndex=2')
    assert.equal(reply.statusCode, 200)
    assert.equal(JSON.parse(reply.body).node.key, '/b')
  })

  test('parameter errors are answered before any watch registers', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/a?wait=true&waitIndex=-1')
    assert.deepEqual(v2Error(reply), { status: 400, errorCode: 203, cause: 'invalid value for "waitIndex"', index: 0 })
    const head = await send(t.app, 'HEAD', '/v2/keys/a?wait=true')
    assert.equal(head.statusCode, 400)
    assert.equal(t.store.watcherCount, 0)
  })

  test('a watch on a path under a file is allowed', async () => {
    const watch = send(t.app, 'GET', '/v2/keys/a/under?wait=true')
    await until(() => t.store.watcherCount === 1)
    await t.close()
    const reply = await watch
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.body, '', 'a stopped member ends open watches with an empty body')
  })

  test('a watch counts in /v2/stats/store while it waits', async () => {
    const watch = send(t.app, 'GET', '/v2/keys/x?wait=true')
    await until(() => t.store.watcherCount === 1)
    const stats = JSON.parse((await send(t.app, 'GET', '/v2/stats/store')).body)
    assert.equal(stats.watchers, 1)
    await send(t.app, 'PUT', '/v2/keys/x', 'value=1')
    await watch
  })
})

describe('stream watches', () => {
  test('a stream sends each matching event in order until the member stops', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    const watch = send(m.app, 'GET', '/v2/keys/st?wait=true&stream=true&recursive=true')
    await until(() => m.store.watcherCount === 1)
    await send(m.app, 'PUT', '/v2/keys/st/a', 'value=1')
    await send(m.app, 'PUT', '/v2/keys/other', 'value=x')
    await send(m.app, 'PUT', '/v2/keys/st/b', 'value=2')
    await send(m.app, 'DELETE', '/v2/keys/st/a')
    await m.close()
    const reply = await watch
    assert.equal(reply.statusCode, 200)
    const events = reply.body.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line))
    assert.deepEqual(
      events.map((e: { action: string; node: { key: string } }) => `${e.action} ${e.node.key}`),
      ['set /st/a', 'set /st/b', 'delete /st/a'],
    )
  })

  test('a stream from history continues with live events (Q22 fixed)', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    await send(m.app, 'PUT', '/v2/keys/h', 'value=1') // 1
    await send(m.app, 'PUT', '/v2/keys/h', 'value=2') // 2
    const watch = send(m.app, 'GET', '/v2/keys/h?wait=true&stream=true&waitIndex=1')
    await until(() => m.store.watcherCount === 1)
    await send(m.app, 'PUT', '/v2/keys/h', 'value=3') // 3
    await m.close()
    const values = (await watch).body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).node.value)
    assert.deepEqual(values, ['1', '2', '3'])
  })

  test('a stream 150 events back gets all 150, then live events, and stays open', async (t) => {
    const m = await startTestMember({ http: { watcherEventsMax: 100 } })
    t.after(() => m.close())
    for (let i = 1; i <= 150; i++) await send(m.app, 'PUT', `/v2/keys/s/k${i}`, `value=${i}`) // 1..150
    const watch = send(m.app, 'GET', '/v2/keys/s?wait=true&stream=true&recursive=true&waitIndex=1')
    let ended = false
    void watch.then(() => (ended = true))
    await until(() => m.store.watcherCount === 1 || ended)
    await send(m.app, 'PUT', '/v2/keys/s/live1', 'value=151') // 151
    await send(m.app, 'PUT', '/v2/keys/s/live2', 'value=152') // 152
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(ended, false, 'the response is still open after 152 events')
    assert.equal(m.store.watcherCount, 1)
    await m.close()
    const events = (await watch).body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
    assert.deepEqual(
      events.map((e: { node: { modifiedIndex: number } }) => e.node.modifiedIndex),
      Array.from({ length: 152 }, (_, i) => i + 1),
    )
  })
})
