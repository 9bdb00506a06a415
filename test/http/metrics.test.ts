/**
 * Goal: /metrics serves the Prometheus text format with the etcd families a v2 dashboard
 * reads (spec v2-api.md §12.6) and arbor's loop counters, and its values follow what the
 * member does.
 * Method: app.inject() against a one-member in-memory arbor; samples read from the text.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { startTestMember, type TestMember } from '../support/test-member.js'
import { send, until } from './inject.js'

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
  })
})
