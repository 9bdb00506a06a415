/**
 * Goal: the member loop joins Raft, storage and the store as ARCHITECTURE.md says: a write
 * resolves with its applied event, a failing write changes nothing, the leader proposes TTL
 * expiry, requests time out or fail with etcd's 300 causes, stop() fails what is pending,
 * and compaction keeps `snapshotCount` entries.
 * Method: one-member arbors from in-memory parts (test/support/test-member.ts), driven
 * through the MemberApi. Request timeouts run on node:test's mock setTimeout; TTL expiry runs
 * on a FakeClock with a short real sweep interval and is awaited through a watcher.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FakeClock } from '../../src/lib/index.js'
import { CompactedError } from '../../src/raft/index.js'
import type { HistoryRecord, StoreRequest } from '../../src/store/index.js'
import { V2Error } from '../../src/v2error/index.js'
import { encodeWrite } from '../../src/server/proposal.js'
import { peerId, peerMessage, startTestMember, testMemberInfo } from '../support/test-member.js'

const set = (key: string, value: string, ttlSeconds: number | null = null): StoreRequest => ({
  op: 'set',
  key,
  value,
  dir: false,
  ttlSeconds,
  refresh: false,
})
const create = (key: string, value: string): StoreRequest => ({ op: 'create', key, value, dir: false, ttlSeconds: null, inOrder: false })
const plain = { recursive: false, sorted: false }

/** The rejection of `promise` as `{ errorCode, cause, index }`. */
async function failure(promise: Promise<unknown>): Promise<{ errorCode: number; cause: string; index: number }> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof V2Error, `expected a V2Error, got ${String(error)}`)
    return { errorCode: error.errorCode, cause: error.detail, index: error.index }
  }
  assert.fail('expected a rejection')
}

describe('a one-member leader', () => {
  test('starts as leader of term 1 and knows itself as leader', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    assert.equal(m.member.selfStats().state, 'StateLeader')
    assert.equal(m.member.raftTerm(), 1)
    assert.equal(m.member.healthy(), true)
    assert.deepEqual(m.member.leader(), testMemberInfo)
    assert.deepEqual(m.member.leaderStats(), { leader: testMemberInfo.id, followers: {} })
  })

  test('a write resolves with the applied event; the store, the log and the applied index follow', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    const raftIndexBefore = m.member.raftIndex()
    const event = await m.member.write(set('/a', '1'))
    assert.deepEqual(event, {
      action: 'set',
      index: 1,
      json: '{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}\n',
      created: true,
    })
    assert.equal(m.member.etcdIndex(), 1)
    assert.equal(m.member.raftIndex(), raftIndexBefore + 1)
    assert.equal(m.storage.appliedIndex(), m.member.raftIndex())
    assert.equal(m.member.get('/a', plain).json, '{"action":"get","node":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}\n')
    const entry = m.log.entries(m.log.lastIndex(), m.log.lastIndex() + 1, 1 << 20)[0]
    assert.ok(entry !== undefined)
    assert.match(entry.data, /^r \S+ \d+\n\{"op":"set","key":"\/a","value":"1"/)
  })

  test('writes proposed together resolve in order with consecutive indexes', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    const events = await Promise.all(Array.from({ length: 20 }, (_, i) => m.member.write(set(`/k${i}`, String(i)))))
    assert.deepEqual(
      events.map((e) => e.index),
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
  })

  test('a failing write (105) rejects with the store\'s V2Error and changes nothing', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    await m.member.write(create('/a', '1'))
    const before = m.member.get('/', { recursive: true, sorted: true }).json
    const stats = m.member.storeStats()
    assert.deepEqual(await failure(m.member.write(create('/a', '2'))), { errorCode: 105, cause: '/a', index: 1 })
    assert.equal(m.member.etcdIndex(), 1)
    assert.equal(m.member.get('/', { recursive: true, sorted: true }).json, before)
    assert.equal(m.member.storeStats().createFail, stats.createFail + 1)
    assert.equal(m.storage.appliedIndex(), m.member.raftIndex(), 'the entry was applied (as a failure)')
  })

  test('every store error of a write is answered to its own request only', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    const results = await Promise.allSettled([
      m.member.write(create('/x', '1')),
      m.member.write(create('/x', '2')),
      m.member.write({ op: 'delete', key: '/missing', dir: false, recursive: false }),
      m.member.write(set('/x/under', '3')),
    ])
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value.action : (r.reason as V2Error).errorCode)),
      ['create', 105, 100, 104],
    )
  })

  test('a quorum read resolves once the read point is applied, with the current data', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    const write = m.member.write(set('/q', 'v'))
    const read = m.member.quorumGet('/q', plain)
    await write
    const event = await read
    assert.equal(event.action, 'get')
    assert.match(event.json, /"value":"v"/)
  })

  test('a watcher hears a write after it is applied', async (t) => {
    const m = await startTestMember()
    t.after(() => m.close())
    const heard: HistoryRecord[] = []
    const start = m.member.watch('/w', { recursive: false, stream: true, sinceIndex: 0 }, (record) => {
      heard.push(record)
      return true
    })
    assert.equal(start.fromHistory.length, 0)
    await m.member.write(set('/w', '1'))
    assert.deepEqual(
      heard.map((r) => [r.action, r.key, r.index]),
      [['set', '/w', 1]],
    )
    start.watcher?.remove()
  })
})

describe('TTL expiry goes through the log (ARCHITECTURE decision 2)', () => {
  /** Sweep entries in the log, as their data. */
  const sweeps = (m: Awaited<ReturnType<typeof startTestMember>>): string[] =>
    m.log
      .entries(m.log.firstIndex(), m.log.lastIndex() + 1, 1 << 20)
      .map((e) => e.data)
      .filter((data) => data.startsWith('x '))

  test('when a TTL is due on the leader\'s clock, a sweep entry expires it with its own index', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] })
    const clock = new FakeClock(1_800_000_000_000)
    const m = await startTestMember({ clock, member: { syncIntervalMs: 500 } })
    t.after(() => m.close())
    const written = await m.member.write(set('/ttl', 'v', 1))
    assert.match(written.json, /"expiration":"2027-01-15T08:00:01Z","ttl":1,/)
    const expired = new Promise<HistoryRecord>((resolve) => {
      m.member.watch('/ttl', { recursive: false, stream: false, sinceIndex: 0 }, (record) => {
        resolve(record)
        return false
      })
    })
    assert.equal(m.store.earliestExpirationMs(), clock.nowMs() + 1000)
    clock.advance(1000)
    t.mock.timers.tick(500)
    const record = await expired
    assert.equal(record.action, 'expire')
    assert.equal(record.index, 2)
    assert.equal(
      record.json,
      '{"action":"expire","node":{"key":"/ttl","modifiedIndex":2,"createdIndex":1},' +
        '"prevNode":{"key":"/ttl","value":"v","expiration":"2027-01-15T08:00:01Z","modifiedIndex":1,"createdIndex":1}}\n',
    )
    assert.equal(m.member.storeStats().expireCount, 1)
    assert.deepEqual(sweeps(m), [`x ${clock.nowMs()} 1000`], 'one sweep entry, carrying the leader\'s time and its bound')
  })

  test('more keys due than one entry expires take one sweep after another, without waiting for the timer', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] })
    const clock = new FakeClock(1_800_000_000_000)
    const m = await startTestMember({ clock, member: { syncIntervalMs: 500, expireKeysPerEntry: 10 } })
    t.after(() => m.close())
    for (let i = 0; i < 25; i++) await m.member.write(set(`/ttl/${i}`, 'v', 1))
    clock.advance(1000)
    t.mock.timers.tick(500) // the one timer tick: the rest follow each applied sweep
    for (let turns = 0; turns < 1_000 && m.member.storeStats().expireCount < 25; turns++) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(m.member.storeStats().expireCount, 25)
    assert.deepEqual(sweeps(m), [0, 1, 2].map(() => `x ${clock.nowMs()} 10`), 'three sweeps of at most 10 keys')
    assert.equal(m.store.earliestExpirationMs(), undefined)
  })

  test('nothing is swept before the TTL is due', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] })
    const clock = new FakeClock(1_800_000_000_000)
    const m = await startTestMember({ clock, member: { syncIntervalMs: 500 } })
    t.after(() => m.close())
    await m.member.write(set('/ttl', 'v', 5))
    clock.advance(4_999)
    t.mock.timers.tick(5_000)
    await m.member.quorumGet('/', plain) // one more loop turn
    assert.equal(m.member.get('/ttl', plain).action, 'get')
    assert.deepEqual(sweeps(m), [])
  })

  test('a follower never proposes a sweep, even with a TTL long due', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] })
    const clock = new FakeClock(1_800_000_000_000)
    const proposals: string[] = []
    const m = await startTestMember({
      clock,
      mode: 'follower',
      member: { syncIntervalMs: 500, heartbeatIntervalMs: 3_600_000 },
      onSend: (messages) => proposals.push(...messages.filter((msg) => msg.type === 'prop').map((msg) => msg.entries[0]?.data ?? '').filter((data) => data.startsWith('x '))),
    })
    t.after(() => m.close())
    // As if replicated from its leader: a key whose TTL ran out.
    m.store.apply(set('/ttl', 'v', 1), clock.nowMs())
    clock.advance(10_000)
    const lastIndex = m.log.lastIndex()
    t.mock.timers.tick(5_000)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(m.log.lastIndex(), lastIndex)
    assert.deepEqual(proposals, [], 'no sweep forwarded to the leader either')
    assert.equal(m.member.get('/ttl', plain).action, 'get', 'the key stays until a leader sweeps it')
  })
})

describe('Raft failures become 300 errors (spec §6.3)', () => {
  test('a write that is never committed times out with etcdserver: request timed out', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const m = await startTestMember({ mode: 'leaderWithoutQuorum', member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 7_000 } })
    t.after(() => m.close())
    const etcdIndex = m.member.etcdIndex()
    let settled = false
    const write = failure(m.member.write(set('/a', '1'))).finally(() => (settled = true))
    t.mock.timers.tick(6_999)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(settled, false, 'still waiting 1 ms before the deadline')
    t.mock.timers.tick(1)
    assert.deepEqual(await write, { errorCode: 300, cause: 'etcdserver: request timed out', index: 0 })
    assert.equal(m.member.etcdIndex(), etcdIndex)
  })

  test('a write forwarded by a follower to a silent leader times out', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const sent: string[] = []
    const m = await startTestMember({
      mode: 'follower',
      member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 1_000 },
      onSend: (messages) => sent.push(...messages.map((msg) => `${msg.type}->${msg.to}`)),
    })
    t.after(() => m.close())
    assert.equal(m.member.selfStats().state, 'StateFollower')
    assert.equal(m.member.leader()?.id, peerId)
    const write = failure(m.member.write(set('/a', '1')))
    const read = failure(m.member.quorumGet('/a', plain))
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(sent.includes(`prop->${peerId}`), 'the proposal went to the leader')
    assert.ok(sent.includes(`readIndex->${peerId}`), 'the read went to the leader')
    t.mock.timers.tick(1_000)
    assert.deepEqual(await write, { errorCode: 300, cause: 'etcdserver: request timed out', index: 0 })
    assert.deepEqual(await read, { errorCode: 300, cause: 'etcdserver: request timed out', index: 0 })
  })

  test('without a leader a write waits for one, then times out with etcdserver: request timed out', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const m = await startTestMember({ mode: 'noLeader', member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 7_000 } })
    t.after(() => m.close())
    assert.equal(m.member.healthy(), false)
    assert.equal(m.member.leader(), undefined)
    assert.equal(m.member.leaderStats(), undefined)
    const write = failure(m.member.write(set('/a', '1')))
    t.mock.timers.tick(7_000)
    assert.deepEqual(await write, { errorCode: 300, cause: 'etcdserver: request timed out', index: 0 })
  })

  test('writes that timed out while no leader was known are not held for one: the held writes stay within pendingProposalsMax', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const m = await startTestMember({ mode: 'noLeader', member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 1_000, pendingProposalsMax: 3 } })
    t.after(() => m.close())
    for (let round = 0; round < 20; round++) {
      const writes = [1, 2, 3].map((i) => failure(m.member.write(set(`/r${round}/${i}`, 'v'))))
      t.mock.timers.tick(1_000)
      for (const write of writes) assert.equal((await write).cause, 'etcdserver: request timed out')
      assert.ok(m.member.loopStats().writesAwaitingLeader <= 3, `round ${round}: ${m.member.loopStats().writesAwaitingLeader} held`)
    }
  })

  test('a write made without a leader is proposed once a leader is known', async (t) => {
    const proposed: string[] = []
    const m = await startTestMember({
      mode: 'noLeader',
      member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 3_600_000 },
      onSend: (messages) => proposed.push(...messages.filter((msg) => msg.type === 'prop').map((msg) => msg.entries[0]?.data ?? '')),
    })
    t.after(() => m.close())
    const write = failure(m.member.write(set('/late', '1')))
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(proposed.length, 0)
    m.member.receive([peerMessage('heartbeat', testMemberInfo.id, 1)]) // the peer now leads term 1
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(proposed.some((data) => data.includes('"key":"/late"')), 'forwarded to the new leader')
    await m.close()
    assert.equal((await write).cause, 'etcdserver: server stopped')
  })

  test('beyond pendingProposalsMax a write fails at once with etcdserver: too many requests', async () => {
    const m = await startTestMember({
      mode: 'leaderWithoutQuorum',
      member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 3_600_000, pendingProposalsMax: 3 },
    })
    const pending = [1, 2, 3].map((i) => failure(m.member.write(set(`/p${i}`, 'v'))))
    assert.deepEqual(await failure(m.member.write(set('/p4', 'v'))), { errorCode: 300, cause: 'etcdserver: too many requests', index: 0 })
    await m.close()
    for (const p of pending) assert.equal((await p).cause, 'etcdserver: server stopped')
  })
})

describe('stop()', () => {
  test('fails pending writes and quorum reads with etcdserver: server stopped, then refuses new ones', async () => {
    const m = await startTestMember({ mode: 'leaderWithoutQuorum', member: { heartbeatIntervalMs: 3_600_000, requestTimeoutMs: 3_600_000 } })
    const write = failure(m.member.write(set('/a', '1')))
    const read = failure(m.member.quorumGet('/a', plain))
    let stopCallbacks = 0
    m.member.onStop(() => (stopCallbacks += 1))
    m.member.stop()
    const stopped = { errorCode: 300, cause: 'etcdserver: server stopped', index: 0 }
    assert.deepEqual(await write, stopped)
    assert.deepEqual(await read, stopped)
    assert.equal(stopCallbacks, 1)
    assert.deepEqual(await failure(Promise.resolve().then(() => m.member.write(set('/b', '1')))), stopped)
    assert.deepEqual(await failure(Promise.resolve().then(() => m.member.quorumGet('/b', plain))), stopped)
    assert.throws(() => m.member.watch('/b', { recursive: false, stream: false, sinceIndex: 0 }, () => false), V2Error)
    m.member.stop()
    assert.equal(stopCallbacks, 1, 'stop is idempotent')
    await m.close()
  })

  test('local reads still answer after stop', async () => {
    const m = await startTestMember()
    await m.member.write(set('/a', '1'))
    await m.close()
    assert.equal(m.member.get('/a', plain).action, 'get')
  })
})

describe('a turn waits for the disk only when Raft needs it durable (Figure 2)', () => {
  test('a follower syncs the turn that appends entries, not the one that only applies them', async (t) => {
    const m = await startTestMember({ mode: 'follower', member: { heartbeatIntervalMs: 3_600_000 } })
    t.after(() => m.close())
    const turn = () => new Promise((resolve) => setImmediate(resolve))
    await turn()
    const last = m.log.lastIndex()
    const entry = { index: last + 1, term: 1, type: 'normal' as const, data: encodeWrite('b0.x.1', 1_000, set('/f', '1')) }
    const before = m.storage.transactions.length
    m.member.receive([peerMessage('app', testMemberInfo.id, 1, { logTerm: m.log.term(last), index: last, entries: [entry], commit: last })])
    await turn()
    m.member.receive([peerMessage('heartbeat', testMemberInfo.id, 1, { commit: last + 1 })])
    await turn()
    assert.deepEqual(m.storage.transactions.slice(before), [true, false], 'append: durable; apply only: not')
    assert.equal(JSON.parse(m.member.get('/f', plain).json).node.value, '1')
    const stats = m.member.loopStats()
    assert.equal(stats.appliedIndex, last + 1)
    assert.equal(stats.turns - stats.durableTurns, m.storage.transactions.filter((durable) => !durable).length)
  })

  test('a turn that records a new term or vote is durable even without entries', async (t) => {
    const m = await startTestMember({ mode: 'follower', member: { heartbeatIntervalMs: 3_600_000 } })
    t.after(() => m.close())
    await new Promise((resolve) => setImmediate(resolve))
    const before = m.storage.transactions.length
    m.member.receive([peerMessage('heartbeat', testMemberInfo.id, 2)]) // a new term: hard state changes
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(m.storage.transactions.slice(before), [true])
    assert.equal(m.member.raftTerm(), 2)
  })
})

describe('compaction keeps snapshotCount entries (ARCHITECTURE decision 7)', () => {
  test('with snapshotCount 10 the log keeps exactly the last 10 entries', async (t) => {
    const m = await startTestMember({ member: { snapshotCount: 10 } })
    t.after(() => m.close())
    for (let i = 0; i < 30; i++) await m.member.write(set('/c', String(i)))
    const applied = m.storage.appliedIndex()
    assert.equal(applied, m.log.lastIndex())
    assert.equal(m.log.firstIndex(), applied - 10 + 1)
    assert.throws(() => m.log.entries(m.log.firstIndex() - 1, m.log.firstIndex(), 1 << 20), CompactedError)
    assert.equal(JSON.parse(m.member.get('/c', plain).json).node.value, '29')
  })

  test('with snapshotCount 100 the log keeps between 100 and 109 entries (compaction in steps of a tenth)', async (t) => {
    const m = await startTestMember({ member: { snapshotCount: 100 } })
    t.after(() => m.close())
    const kept: number[] = []
    for (let i = 0; i < 150; i++) {
      await m.member.write(set('/c', String(i)))
      if (m.storage.appliedIndex() > 100) kept.push(m.log.lastIndex() - m.log.firstIndex() + 1)
    }
    assert.ok(kept.every((n) => n >= 100 && n < 110), `kept ${Math.min(...kept)}..${Math.max(...kept)}`)
    assert.ok(m.log.firstIndex() > 1, 'the log was compacted')
  })

  test('nothing is compacted while fewer than snapshotCount entries exist', async (t) => {
    const m = await startTestMember({ member: { snapshotCount: 50 } })
    t.after(() => m.close())
    for (let i = 0; i < 20; i++) await m.member.write(set('/c', String(i)))
    assert.equal(m.log.firstIndex(), 1)
  })
})
