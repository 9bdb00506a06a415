/**
 * Goal: the endpoints beside the key space answer as etcd 3.4 does (spec v2-api.md §12):
 * bodies, field order, content types, trailing newlines (or their absence), X-Etcd-Cluster-Id
 * where etcd sends it, and the answers of a member without a leader.
 * Method: app.inject() against one-member in-memory arbors (a leader, a follower, a member
 * that knows no leader).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock } from '../../src/lib/index.js'
import { peerId, startTestMember, testClusterId, testMemberInfo, type TestMember } from '../support/test-member.js'
import { send } from './inject.js'

const selfJson = `{"id":"${testMemberInfo.id}","name":"s1","peerURLs":["http://127.0.0.1:23791"],"clientURLs":["http://127.0.0.1:23790"]}`

describe('on the leader', () => {
  let t: TestMember
  const clock = new FakeClock(Date.UTC(2026, 10, 20, 23, 36, 4, 30))
  before(async () => {
    t = await startTestMember({ clock })
  })
  after(() => t.close())

  test('GET /version: etcd 3.4 versions, application/json, no trailing newline', async () => {
    const reply = await send(t.app, 'GET', '/version')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.headers['content-type'], 'application/json')
    assert.equal(reply.body, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}')
  })

  test('GET /health: 200, text/plain, {"health":"true"} as a string, no newline', async () => {
    const reply = await send(t.app, 'GET', '/health')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(reply.body, '{"health":"true"}')
  })

  test('GET /v2/members: the member list with a trailing newline and X-Etcd-Cluster-Id', async () => {
    for (const url of ['/v2/members', '/v2/members/']) {
      const reply = await send(t.app, 'GET', url)
      assert.equal(reply.statusCode, 200)
      assert.equal(reply.headers['content-type'], 'application/json')
      assert.equal(reply.headers['x-etcd-cluster-id'], testClusterId)
      assert.equal(reply.body, `{"members":[${selfJson}]}\n`)
    }
  })

  test('GET /v2/members/leader: the leader\'s record, no wrapper, trailing newline', async () => {
    const reply = await send(t.app, 'GET', '/v2/members/leader')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.headers['x-etcd-cluster-id'], testClusterId)
    assert.equal(reply.body, selfJson + '\n')
  })

  test('GET /v2/members/<anything else>: 404 {"message":"Not found"} without newline', async () => {
    for (const url of ['/v2/members/ac7c97ef0ec193b0', '/v2/members/leader/x', '/v2/members/x']) {
      const reply = await send(t.app, 'GET', url)
      assert.equal(reply.statusCode, 404, url)
      assert.equal(reply.headers['content-type'], 'application/json')
      assert.equal(reply.body, '{"message":"Not found"}')
    }
  })

  test('GET /v2/machines: the client URLs, text/plain, no newline, no X-Etcd-* headers', async () => {
    const reply = await send(t.app, 'GET', '/v2/machines')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(reply.body, 'http://127.0.0.1:23790')
    assert.equal(reply.headers['x-etcd-cluster-id'], undefined)
    assert.equal(reply.headers['x-etcd-index'], undefined)
  })

  test('HEAD /v2/machines: 200 without a body', async () => {
    const reply = await send(t.app, 'HEAD', '/v2/machines')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.body, '')
  })

  test('GET /v2/stats/self: etcd\'s fields in order, no newline, no X-Etcd-* headers', async () => {
    clock.advance(2_384_052) // 39m44.052s
    const reply = await send(t.app, 'GET', '/v2/stats/self')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.headers['content-type'], 'application/json')
    assert.equal(reply.headers['x-etcd-cluster-id'], undefined)
    assert.equal(
      reply.body,
      `{"name":"s1","id":"${testMemberInfo.id}","state":"StateLeader","startTime":"2026-11-20T23:36:04.03Z",` +
        `"leaderInfo":{"leader":"${testMemberInfo.id}","uptime":"39m44.052s","startTime":"2026-11-20T23:36:04.03Z"},` +
        '"recvAppendRequestCnt":0,"sendAppendRequestCnt":0}',
    )
  })

  test('GET /v2/stats/leader on the leader: no followers in a one-member cluster', async () => {
    const reply = await send(t.app, 'GET', '/v2/stats/leader')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.headers['content-type'], 'application/json')
    assert.equal(reply.body, `{"leader":"${testMemberInfo.id}","followers":{}}`)
  })

  test('GET /v2/stats/store: the counters in etcd\'s order, no newline', async () => {
    await send(t.app, 'PUT', '/v2/keys/s', 'value=1')
    await send(t.app, 'PUT', '/v2/keys/s?prevExist=false', 'value=1')
    await send(t.app, 'GET', '/v2/keys/s')
    await send(t.app, 'GET', '/v2/keys/nope')
    const reply = await send(t.app, 'GET', '/v2/stats/store')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.headers['content-type'], 'application/json')
    assert.equal(
      reply.body,
      '{"getsSuccess":1,"getsFail":1,"setsSuccess":1,"setsFail":0,"deleteSuccess":0,"deleteFail":0,' +
        '"updateSuccess":0,"updateFail":0,"createSuccess":0,"createFail":1,"compareAndSwapSuccess":0,' +
        '"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}',
    )
  })
})

describe('on a follower', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember({ mode: 'follower', member: { heartbeatIntervalMs: 3_600_000 } })
  })
  after(() => t.close())

  test('GET /v2/stats/leader: 403 {"message":"not current leader"}', async () => {
    const reply = await send(t.app, 'GET', '/v2/stats/leader')
    assert.equal(reply.statusCode, 403)
    assert.equal(reply.headers['content-type'], 'application/json')
    assert.equal(reply.body, '{"message":"not current leader"}')
  })

  test('GET /v2/stats/self: StateFollower, the leader\'s id', async () => {
    const stats = JSON.parse((await send(t.app, 'GET', '/v2/stats/self')).body)
    assert.equal(stats.state, 'StateFollower')
    assert.equal(stats.leaderInfo.leader, peerId)
  })

  test('GET /v2/members lists both members, ascending by numeric id', async () => {
    const body = JSON.parse((await send(t.app, 'GET', '/v2/members')).body)
    assert.deepEqual(body.members.map((m: { id: string }) => m.id), [testMemberInfo.id, peerId])
  })

  test('GET /v2/members/leader: the other member\'s record', async () => {
    const reply = await send(t.app, 'GET', '/v2/members/leader')
    assert.equal(reply.statusCode, 200)
    assert.equal(JSON.parse(reply.body).id, peerId)
  })

  test('GET /health: healthy while a leader is known', async () => {
    const reply = await send(t.app, 'GET', '/health')
    assert.equal(reply.statusCode, 200)
  })
})

describe('on a member that knows no leader', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember({ mode: 'noLeader', member: { heartbeatIntervalMs: 3_600_000 } })
  })
  after(() => t.close())

  test('GET /health: 503, text/plain, {"health":"false"} with a newline', async () => {
    const reply = await send(t.app, 'GET', '/health')
    assert.equal(reply.statusCode, 503)
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(reply.body, '{"health":"false"}\n')
  })

  test('GET /v2/members/leader: 503 {"message":"During election"}', async () => {
    const reply = await send(t.app, 'GET', '/v2/members/leader')
    assert.equal(reply.statusCode, 503)
    assert.equal(reply.headers['x-etcd-cluster-id'], testClusterId)
    assert.equal(reply.body, '{"message":"During election"}')
  })

  test('GET /v2/stats/leader: 403', async () => {
    const reply = await send(t.app, 'GET', '/v2/stats/leader')
    assert.equal(reply.statusCode, 403)
  })

  test('GET /v2/stats/self: no leader id', async () => {
    const stats = JSON.parse((await send(t.app, 'GET', '/v2/stats/self')).body)
    assert.equal(stats.state, 'StateFollower')
    assert.equal(stats.leaderInfo.leader, '')
  })
})
