/**
 * Progress and Inflights (progress.ts): the leader's per-follower flow control. Method:
 * tables of state transitions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Inflights, Progress } from '../../src/raft/progress.js'

test('Inflights holds at most its capacity and frees acknowledged appends in order', () => {
  const inflights = new Inflights(3)
  inflights.add(2)
  inflights.add(4)
  inflights.add(7)
  assert.equal(inflights.full(), true)
  inflights.freeLE(4)
  assert.equal(inflights.count, 1)
  inflights.freeLE(7)
  assert.equal(inflights.count, 0)
})

test('a probing member is paused while a probe is unanswered; an answer resumes it', () => {
  const pr = new Progress(0, 5, 4)
  assert.equal(pr.isPaused(), false)
  pr.markProbeSent(0)
  assert.equal(pr.isPaused(), true)
  assert.equal(pr.maybeUpdate(4), true)
  assert.equal(pr.isPaused(), false)
  assert.equal(pr.nextIndex, 5)
})

const decrCases = [
  { name: 'probe: rejection of the last probe moves next to the hint + 1', state: 'probe', match: 0, next: 10, rejected: 9, hint: 4, want: { ok: true, next: 5 } },
  { name: 'probe: a stale rejection (other probe) is ignored', state: 'probe', match: 0, next: 10, rejected: 7, hint: 4, want: { ok: false, next: 10 } },
  { name: 'probe: next never falls to or below match', state: 'probe', match: 3, next: 10, rejected: 9, hint: 1, want: { ok: true, next: 4 } },
  { name: 'replicate: a rejection above match restarts from match + 1', state: 'replicate', match: 3, next: 10, rejected: 6, hint: 5, want: { ok: true, next: 4 } },
  { name: 'replicate: a rejection at or below match is stale', state: 'replicate', match: 3, next: 10, rejected: 3, hint: 2, want: { ok: false, next: 10 } },
] as const

for (const c of decrCases) {
  test(c.name, () => {
    const pr = new Progress(c.match, c.match + 1, 4)
    if (c.state === 'replicate') pr.becomeReplicate()
    pr.nextIndex = c.next
    const ok = pr.maybeDecrTo(c.rejected, c.hint)
    assert.deepEqual({ ok, next: pr.nextIndex }, c.want)
  })
}

test('after a snapshot, probing resumes after the snapshot index', () => {
  const pr = new Progress(2, 3, 4)
  pr.becomeSnapshot(10)
  assert.equal(pr.isPaused(), true)
  pr.becomeProbe()
  assert.equal(pr.nextIndex, 11)
})

test('replicating is paused when the window is full', () => {
  const pr = new Progress(0, 1, 2)
  pr.becomeReplicate()
  pr.optimisticUpdate(3)
  pr.inflights.add(3)
  pr.optimisticUpdate(5)
  pr.inflights.add(5)
  assert.equal(pr.isPaused(), true)
  assert.equal(pr.maybeUpdate(3), true)
  pr.inflights.freeLE(3)
  assert.equal(pr.isPaused(), false)
  assert.equal(pr.nextIndex, 6)
})

test('a heartbeat response unpauses a probe sent in an earlier heartbeat round only', () => {
  const pr = new Progress(0, 5, 4)
  pr.markProbeSent(3)
  pr.heartbeatAnswered(3)
  assert.equal(pr.isPaused(), true)
  pr.heartbeatAnswered(4)
  assert.equal(pr.isPaused(), false)
  pr.markProbeSent(4)
  pr.heartbeatAnswered(4)
  assert.equal(pr.isPaused(), true)
})
