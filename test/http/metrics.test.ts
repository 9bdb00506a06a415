/**
 * Goal: /metrics serves the Prometheus text format with the etcd families a v2 dashboard
 * reads (spec v2-api.md §12.6) and arbor's loop counters, and its values follow what the
 * member does.
 * Method: app.inject() against a one-member in-memory arbor; samples read from the text.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { MemberMetrics, buildApp } from '../../src/http/index.js'
import { startTestMember, testHttpSettings, type TestMember } from '../support/test-member.js'
import { formType, send, until } from './inject.js'

/** The value of the sample `name` (with its label set, e.g. `{method="PUT"}`), or undefined. */
async function sample(app: FastifyInstance, name: string): Promise<number | undefined> {
  const text = (await send(app, 'GET', '/metrics')).body
  const line = text.split('\n').find((l) => l.startsWith(name + ' '))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

describe('/metrics', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember()
  })
  after(() => t.close())

  test('answers the Prometheus text format', async () => {
    const reply = await send(t.app, 'GET', '/metrics')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
    assert.match(reply.body, /^# HELP /m)
    assert.match(reply.body, /^process_cpu_user_seconds_total /m)
  })

  test('leadership gauges of a leader', async () => {
    assert.equal(await sample(t.app, 'etcd_server_has_leader'), 1)
    assert.equal(await sample(t.app, 'etcd_server_is_leader'), 1)
  })

  test('key-space requests are counted by method', async () => {
    await send(t.app, 'PUT', '/v2/keys/m', 'value=1')
    await send(t.app, 'PUT', '/v2/keys/m', 'value=2')
    await send(t.app, 'GET', '/v2/keys/m')
    assert.equal(await sample(t.app, 'etcd_http_received_total{method="PUT"}'), 2)
    assert.equal(await sample(t.app, 'etcd_http_received_total{method="GET"}'), 1)
    assert.equal(await sample(t.app, 'arbor_store_etcd_index'), 2)
  })

  test('proposals and loop turns follow the member loop', async () => {
    const turnsBefore = await sample(t.app, 'arbor_loop_turns_total')
    const durableBefore = await sample(t.app, 'arbor_loop_durable_turns_total')
    await send(t.app, 'PUT', '/v2/keys/p', 'value=1')
    const stats = t.member.loopStats()
    assert.equal(await sample(t.app, 'etcd_server_proposals_committed_total'), t.raft.commitIndex())
    assert.equal(await sample(t.app, 'etcd_server_proposals_applied_total'), stats.appliedIndex)
    assert.equal(await sample(t.app, 'etcd_server_proposals_pending'), 0)
    assert.equal(await sample(t.app, 'arbor_loop_turns_total'), stats.turns)
    assert.equal(await sample(t.app, 'arbor_loop_durable_turns_total'), stats.durableTurns)
    assert.ok(stats.turns > (turnsBefore ?? Infinity), 'the write took a turn')
    assert.ok(stats.durableTurns > (durableBefore ?? Infinity), 'its entry was persisted durably')
  })

  test('the watchers gauge counts registered watchers', async () => {
    assert.equal(await sample(t.app, 'etcd_debugging_store_watchers'), 0)
    const watch = send(t.app, 'GET', '/v2/keys/w?wait=true')
    await until(() => t.store.watcherCount === 1)
    assert.equal(await sample(t.app, 'etcd_debugging_store_watchers'), 1)
    await send(t.app, 'PUT', '/v2/keys/w', 'value=1')
    assert.equal((await watch).statusCode, 200)
    assert.equal(await sample(t.app, 'etcd_debugging_store_watchers'), 0)
  })
})

describe('/metrics on a member without a leader', () => {
  test('has_leader and is_leader are 0', async (t) => {
    const m = await startTestMember({ mode: 'noLeader', member: { heartbeatIntervalMs: 3_600_000 } })
    t.after(() => m.close())
    assert.equal(await sample(m.app, 'etcd_server_has_leader'), 0)
    assert.equal(await sample(m.app, 'etcd_server_is_leader'), 0)
    assert.equal(await sample(m.app, 'etcd_server_leader_changes_seen_total'), 0)
  })

  test('a write that times out is a failed proposal', async (t) => {
    const m = await startTestMember({ mode: 'noLeader', member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 100 } })
    t.after(() => m.close())
    assert.equal(await sample(m.app, 'etcd_server_proposals_failed_total'), 0)
    const reply = await send(m.app, 'PUT', '/v2/keys/f', 'value=1')
    assert.equal(reply.statusCode, 500)
    assert.equal(await sample(m.app, 'etcd_server_proposals_failed_total'), 1)
    assert.equal(await sample(m.app, 'etcd_http_failed_total{method="PUT",code="500"}'), 1)
  })
})

describe('leader changes', () => {
  test('a member that elected itself has seen one leader change', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    assert.equal(await sample(m.app, 'etcd_server_leader_changes_seen_total'), 1)
  })
})

/** Every sample line of the text whose name is `name` (labels included), as name{labels} → value. */
async function samples(app: FastifyInstance, name: string): Promise<Map<string, number>> {
  const text = (await send(app, 'GET', '/metrics')).body
  const found = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + ' ') && !line.startsWith(name + '{')) continue
    const space = line.lastIndexOf(' ')
    found.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return found
}

/** The HTTP counters as one object per family: label set → value (0 series omitted). */
async function httpCounts(app: FastifyInstance): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {}
  for (const family of ['etcd_http_received_total', 'etcd_http_failed_total', 'etcd_http_successful_duration_seconds_count']) {
    const series = await samples(app, family)
    out[family] = Object.fromEntries([...series].map(([key, value]) => [key.slice(family.length), value]))
  }
  return out
}

describe('key-space requests are counted as etcd 3.4.23 counts them', () => {
  // Each step was sent to etcd 3.4.23 one at a time and its /metrics read after it:
  // received after a successful parse and never for a wait; QGET for quorum=true; failures
  // by method and status, watches included; successes timed, watches excepted.
  const steps: { name: string; method: 'GET' | 'PUT' | 'HEAD'; url: string; body?: string; want: Record<string, Record<string, number>> }[] = [
    { name: 'a PUT', method: 'PUT', url: '/v2/keys/a', body: 'value=1',
      want: { etcd_http_received_total: { '{method="PUT"}': 1 }, etcd_http_failed_total: {}, etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 1 } } },
    { name: 'a PUT that does not parse (ttl=abc) is not counted', method: 'PUT', url: '/v2/keys/b?ttl=abc', body: 'value=1',
      want: { etcd_http_received_total: { '{method="PUT"}': 1 }, etcd_http_failed_total: {}, etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 1 } } },
    { name: 'a PUT the store refuses fails with 404', method: 'PUT', url: '/v2/keys/zz?prevExist=true', body: 'value=1',
      want: { etcd_http_received_total: { '{method="PUT"}': 2 }, etcd_http_failed_total: { '{method="PUT",code="404"}': 1 }, etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 1 } } },
    { name: 'a GET of a missing key', method: 'GET', url: '/v2/keys/nope',
      want: { etcd_http_received_total: { '{method="PUT"}': 2, '{method="GET"}': 1 }, etcd_http_failed_total: { '{method="PUT",code="404"}': 1, '{method="GET",code="404"}': 1 }, etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 1 } } },
    { name: 'a quorum GET is QGET', method: 'GET', url: '/v2/keys/a?quorum=true',
      want: { etcd_http_received_total: { '{method="PUT"}': 2, '{method="GET"}': 1, '{method="QGET"}': 1 }, etcd_http_failed_total: { '{method="PUT",code="404"}': 1, '{method="GET",code="404"}': 1 }, etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 1, '{method="QGET"}': 1 } } },
    { name: 'a watch answered from history is neither received nor timed', method: 'GET', url: '/v2/keys/a?wait=true&waitIndex=1',
      want: { etcd_http_received_total: { '{method="PUT"}': 2, '{method="GET"}': 1, '{method="QGET"}': 1 }, etcd_http_failed_total: { '{method="PUT",code="404"}': 1, '{method="GET",code="404"}': 1 }, etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 1, '{method="QGET"}': 1 } } },
    { name: 'a quorum GET with wait=true is served and timed as QGET, not received', method: 'GET', url: '/v2/keys/a?quorum=true&wait=true',
      want: { etcd_http_received_total: { '{method="PUT"}': 2, '{method="GET"}': 1, '{method="QGET"}': 1 }, etcd_http_failed_total: { '{method="PUT",code="404"}': 1, '{method="GET",code="404"}': 1 }, etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 1, '{method="QGET"}': 2 } } },
    { name: 'a HEAD', method: 'HEAD', url: '/v2/keys/a',
      want: { etcd_http_received_total: { '{method="PUT"}': 2, '{method="GET"}': 1, '{method="QGET"}': 1, '{method="HEAD"}': 1 }, etcd_http_failed_total: { '{method="PUT",code="404"}': 1, '{method="GET",code="404"}': 1 }, etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 1, '{method="QGET"}': 2, '{method="HEAD"}': 1 } } },
  ]
  let t: TestMember
  before(async () => {
    t = await startTestMember()
  })
  after(() => t.close())
  for (const step of steps) {
    test(step.name, async () => {
      await send(t.app, step.method, step.url, step.body)
      assert.deepEqual(await httpCounts(t.app), step.want)
    })
  }

  test('a watch whose index was cleared fails with 400 as GET and is not received', async () => {
    const m = await startTestMember({ store: { historyEventsMax: 2 } })
    after(() => m.close())
    for (let i = 0; i < 4; i++) await send(m.app, 'PUT', '/v2/keys/k', `value=${i}`)
    const reply = await send(m.app, 'GET', '/v2/keys/k?wait=true&waitIndex=1')
    assert.equal(reply.statusCode, 400)
    assert.deepEqual(await httpCounts(m.app), {
      etcd_http_received_total: { '{method="PUT"}': 4 },
      etcd_http_failed_total: { '{method="GET",code="400"}': 1 },
      etcd_http_successful_duration_seconds_count: { '{method="PUT"}': 4 },
    })
    assert.equal(await sample(m.app, 'etcd_debugging_store_watch_requests_total'), 1)
  })
})

describe('one set of metrics per member, shared by its client listeners', () => {
  test('requests to two listeners of one member are counted in one registry', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    const metrics = new MemberMetrics(m.member)
    const first = buildApp(m.member, testHttpSettings, undefined, metrics)
    const second = buildApp(m.member, testHttpSettings, undefined, metrics)
    t.after(() => Promise.all([first.close(), second.close()]))
    // Plain inject: these apps lack the test member's raw-URL hook.
    const put = { method: 'PUT', headers: formType } as const
    assert.equal((await first.inject({ ...put, url: '/v2/keys/x', payload: 'value=1' })).statusCode, 201)
    assert.equal((await second.inject({ ...put, url: '/v2/keys/x', payload: 'value=2' })).statusCode, 200)
    assert.equal((await second.inject({ method: 'GET', url: '/v2/keys/x' })).statusCode, 200)
    for (const app of [first, second]) {
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
      assert.match(text, /^etcd_http_received_total\{method="PUT"\} 2$/m)
      assert.match(text, /^etcd_http_received_total\{method="GET"\} 1$/m)
    }
    // The test member's own app has its own metrics: it saw none of these requests.
    assert.equal(await sample(m.app, 'etcd_http_received_total{method="PUT"}'), undefined)
  })
})

describe('/metrics and /v2/stats/store agree', () => {
  test('reads, writes per action, expirations and watchers are the stats counters', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    const requests: [method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: string][] = [
      ['PUT', '/v2/keys/a', 'value=1'],
      ['PUT', '/v2/keys/a?prevExist=false', 'value=1'],
      ['PUT', '/v2/keys/n?prevExist=true', 'value=1'],
      ['PUT', '/v2/keys/a?prevValue=1', 'value=2'],
      ['PUT', '/v2/keys/a?prevValue=zz', 'value=3'],
      ['POST', '/v2/keys/q', 'value=1'],
      ['GET', '/v2/keys/a'],
      ['GET', '/v2/keys/nope'],
      ['GET', '/v2/keys/?recursive=true'],
      ['DELETE', '/v2/keys/a?prevValue=2'],
      ['DELETE', '/v2/keys/nope'],
    ]
    for (const [method, url, body] of requests) await send(m.app, method, url, body)
    const stats = (await send(m.app, 'GET', '/v2/stats/store')).json() as Record<string, number>
    const reads = await samples(m.app, 'etcd_debugging_store_reads_total')
    const writes = await samples(m.app, 'etcd_debugging_store_writes_total')
    const total = (action: string) => (stats[`${action}Success`] ?? 0) + (stats[`${action}Fail`] ?? 0)
    assert.deepEqual(Object.fromEntries(reads), { 'etcd_debugging_store_reads_total{action="get"}': stats.getsSuccess! + stats.getsFail! })
    const wantWrites: Record<string, number> = {}
    for (const [label, counter] of [['set', 'sets'], ['create', 'create'], ['update', 'update'], ['delete', 'delete'], ['compareAndSwap', 'compareAndSwap'], ['compareAndDelete', 'compareAndDelete']]) {
      if (total(counter!) > 0) wantWrites[`etcd_debugging_store_writes_total{action="${label}"}`] = total(counter!)
    }
    assert.deepEqual(Object.fromEntries(writes), wantWrites)
    assert.ok(Object.keys(wantWrites).length >= 4, 'the requests reached several write actions')
    assert.equal(await sample(m.app, 'etcd_debugging_store_expires_total'), stats.expireCount)
    assert.equal(await sample(m.app, 'etcd_debugging_store_watchers'), stats.watchers)
  })
})
