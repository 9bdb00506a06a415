/**
 * RaftLog (raft-log.ts): the durable log plus its unstable tail. Method: tables over small
 * logs built in a MemoryLogStorage.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AssertionFailure } from '../../src/lib/index.js'
import { MemoryLogStorage, type Entry } from '../../src/raft/index.js'
import { RaftLog } from '../../src/raft/raft-log.js'

function entries(terms: readonly number[], from = 1): Entry[] {
  return terms.map((term, i) => ({ index: from + i, term, type: 'normal' as const, data: `${from + i}` }))
}

/** A log whose stored entries have `stored` terms and whose unstable tail has `unstable` terms. */
function log(stored: readonly number[], unstable: readonly number[] = [], committed = 0): RaftLog {
  const storage = new MemoryLogStorage({ voters: ['a'] })
  storage.append(entries(stored))
  const raftLog = new RaftLog(storage, committed, 0)
  raftLog.append(entries(unstable, stored.length + 1))
  return raftLog
}

const upToDateCases = [
  { name: 'a higher last term is more up to date, even if shorter', lastIndex: 1, lastTerm: 3, want: true },
  { name: 'a lower last term is not, even if longer', lastIndex: 9, lastTerm: 1, want: false },
  { name: 'same last term, same length: up to date', lastIndex: 3, lastTerm: 2, want: true },
  { name: 'same last term, shorter: not up to date', lastIndex: 2, lastTerm: 2, want: false },
]
for (const c of upToDateCases) {
  test(`isUpToDate (§5.4.1): ${c.name}`, () => {
    assert.equal(log([1, 2], [2]).isUpToDate(c.lastIndex, c.lastTerm), c.want)
  })
}

const appendCases = [
  { name: 'mismatch at prev: refused', prev: [2, 2], add: [], commit: 0, want: undefined, terms: [1, 1, 2] },
  { name: 'match, nothing new: log unchanged', prev: [2, 1], add: [], commit: 0, want: 2, terms: [1, 1, 2] },
  { name: 'duplicate entries: nothing cut', prev: [1, 1], add: [1], commit: 0, want: 2, terms: [1, 1, 2] },
  { name: 'conflict: suffix replaced', prev: [1, 1], add: [3, 3, 3], commit: 0, want: 4, terms: [1, 3, 3, 3] },
  { name: 'new entries after the end are appended', prev: [3, 2], add: [2, 4], commit: 0, want: 5, terms: [1, 1, 2, 2, 4] },
] as const
for (const c of appendCases) {
  test(`maybeAppend (Figure 2, AppendEntries rules 2-4): ${c.name}`, () => {
    const raftLog = log([1, 1], [2])
    const [prevIndex, prevTerm] = c.prev
    const lastNew = raftLog.maybeAppend(prevIndex, prevTerm, c.commit, entries(c.add, prevIndex + 1))
    assert.equal(lastNew, c.want)
    const all = raftLog.slice(1, raftLog.lastIndex() + 1, Infinity)
    assert.deepEqual(all.map((e) => e.term), c.terms)
  })
}

test('maybeAppend moves the commit to min(leaderCommit, last new entry) (rule 5)', () => {
  const raftLog = log([1, 1], [1])
  raftLog.maybeAppend(1, 1, 9, entries([1], 2))
  assert.equal(raftLog.committed, 2)
})

test('cutting a committed entry is a bug', () => {
  const raftLog = log([1, 1, 1], [], 3)
  assert.throws(() => raftLog.maybeAppend(1, 1, 3, entries([2], 2)), AssertionFailure)
})

test('maybeCommit commits only entries of the given term (§5.4.2)', () => {
  const raftLog = log([1, 1], [2])
  assert.equal(raftLog.maybeCommit(2, 2), false)
  assert.equal(raftLog.committed, 0)
  assert.equal(raftLog.maybeCommit(3, 2), true)
  assert.equal(raftLog.committed, 3)
})

test('findConflictByTerm skips every entry of a higher term', () => {
  const raftLog = log([1, 1, 2, 2], [4, 4])
  assert.equal(raftLog.findConflictByTerm(6, 3), 4)
  assert.equal(raftLog.findConflictByTerm(6, 1), 2)
  assert.equal(raftLog.findConflictByTerm(6, 0), 0)
})

test('slice spans storage and the unstable tail and honours bytesMax (at least one entry)', () => {
  const raftLog = log([1, 1], [1, 1])
  assert.deepEqual(raftLog.slice(1, 5, Infinity).map((e) => e.index), [1, 2, 3, 4])
  assert.deepEqual(raftLog.slice(2, 5, 2).map((e) => e.index), [2, 3])
  assert.deepEqual(raftLog.slice(3, 5, 0).map((e) => e.index), [3])
})

test('terms are known down to the compaction point and not below', () => {
  const storage = new MemoryLogStorage({ voters: ['a'] })
  storage.append(entries([1, 1, 2, 2]))
  storage.compact(2)
  const raftLog = new RaftLog(storage, 2, 2)
  assert.equal(raftLog.termIfKnown(1), undefined)
  assert.equal(raftLog.termIfKnown(2), 1)
  assert.equal(raftLog.termIfKnown(4), 2)
  assert.equal(raftLog.termIfKnown(5), undefined)
})

test('10,000 proposals appended in one loop turn end at the right last index, in order', () => {
  const storage = new MemoryLogStorage({ voters: ['a'] })
  storage.append(entries([1, 1]))
  const raftLog = new RaftLog(storage, 0, 0)
  for (let i = 0; i < 10_000; i++) assert.equal(raftLog.append(entries([1], 3 + i)), 3 + i)
  assert.equal(raftLog.lastIndex(), 10_002)
  const unstable = [...raftLog.unstableEntries()]
  assert.equal(unstable.length, 10_000)
  assert.equal(unstable[0]?.index, 3)
  assert.equal(unstable[9_999]?.index, 10_002)
  assert.ok(unstable.every((e, i) => e.index === 3 + i && e.data === `${3 + i}`))
  storage.append(unstable)
  raftLog.stableTo(10_002, 1)
  assert.equal(raftLog.unstableEntries().length, 0)
  assert.equal(raftLog.lastIndex(), 10_002)
})

test('slice without a byte limit returns what a limit no entry reaches returns', () => {
  const raftLog = log([1, 1, 2], [2, 3])
  for (let lo = 1; lo <= 6; lo++) {
    for (let hi = lo; hi <= 6; hi++) {
      const unlimited = raftLog.slice(lo, hi, Infinity).map((e) => e.index)
      assert.deepEqual(unlimited, raftLog.slice(lo, hi, Number.MAX_SAFE_INTEGER).map((e) => e.index), `slice(${lo}, ${hi})`)
      assert.equal(unlimited.length, hi - lo, `slice(${lo}, ${hi})`)
    }
  }
})
