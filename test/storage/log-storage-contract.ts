/**
 * The contract every `LogStore` keeps (raft/types.ts, after etcd raft's Storage), as one
 * suite run against each implementation (STYLE.md §8). Method: build a fresh store, write
 * through the public methods, and check what Raft would read back, errors included.
 * Entry data is ASCII, so a byte is a character whatever an implementation counts.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { CompactedError, UnavailableError, type Entry, type EntryType, type LogStore } from '../../src/raft/index.js'

/** Entries `from`..`to` (inclusive) in `term`, each with 10 bytes of data. */
function ents(from: number, to: number, term: number, type: EntryType = 'normal'): Entry[] {
  const out: Entry[] = []
  for (let index = from; index <= to; index++) out.push({ index, term, type, data: `entry-${String(index).padStart(4, '0')}` })
  return out
}

/** A store holding entries 1..5 with terms 1, 1, 2, 2, 3. */
function withFive(make: () => LogStore): LogStore {
  const s = make()
  s.append([...ents(1, 2, 1), ...ents(3, 4, 2), ...ents(5, 5, 3)])
  return s
}

const all = Number.MAX_SAFE_INTEGER

function indexes(entries: readonly Entry[]): number[] {
  return entries.map((e) => e.index)
}

export function runLogStorageContract(name: string, make: () => LogStore): void {
  describe(`LogStore contract: ${name}`, () => {
    runReadsOfANewStore(make)
    runAppend(make)
    runEntriesAndTerm(make)
    runCompact(make)
    runApplySnapshot(make)
    runHardAndConfState(make)
  })
}

function runReadsOfANewStore(make: () => LogStore): void {
  test('a new store has zero hard state, no voters, and an empty log after index 0', () => {
    const s = make()
    assert.deepEqual(s.initialState(), { hardState: { term: 0, vote: '', commit: 0 }, confState: { voters: [] } })
    assert.equal(s.firstIndex(), 1)
    assert.equal(s.lastIndex(), 0)
    assert.equal(s.term(0), 0)
    assert.deepEqual(s.entries(1, 1, all), [])
    assert.deepEqual(s.snapshot().metadata, { index: 0, term: 0, confState: { voters: [] } })
    assert.ok(s.snapshot().data instanceof Uint8Array)
  })

  test('a new store has no entry 1 and no term for index 1', () => {
    const s = make()
    assert.throws(() => s.entries(1, 2, all), UnavailableError)
    assert.throws(() => s.term(1), UnavailableError)
  })
}

function runAppend(make: () => LogStore): void {
  test('appended entries read back with their index, term, type and data', () => {
    const s = make()
    const written: Entry[] = [
      { index: 1, term: 1, type: 'normal', data: '' },
      { index: 2, term: 1, type: 'confChange', data: '{"type":"addNode","memberId":"a1"}' },
      { index: 3, term: 2, type: 'normal', data: 'x\ny\u0000z' },
    ]
    s.append(written)
    assert.equal(s.firstIndex(), 1)
    assert.equal(s.lastIndex(), 3)
    assert.deepEqual(s.entries(1, 4, all), written)
    assert.deepEqual([s.term(1), s.term(2), s.term(3)], [1, 1, 2])
  })

  test('append right after the last entry extends the log; an empty append changes nothing', () => {
    const s = withFive(make)
    s.append(ents(6, 7, 3))
    s.append([])
    assert.equal(s.lastIndex(), 7)
    assert.deepEqual(indexes(s.entries(1, 8, all)), [1, 2, 3, 4, 5, 6, 7])
  })

  test('append over existing entries cuts every entry from the first appended index (Figure 2, rule 3)', () => {
    const s = withFive(make)
    s.append(ents(3, 3, 4))
    assert.equal(s.lastIndex(), 3)
    assert.deepEqual(
      s.entries(1, 4, all).map((e) => [e.index, e.term]),
      [
        [1, 1],
        [2, 1],
        [3, 4],
      ],
    )
    assert.throws(() => s.term(4), UnavailableError)
    assert.throws(() => s.entries(1, 5, all), UnavailableError)
  })

  test('append that would leave a gap after the last entry is refused', () => {
    const s = withFive(make)
    assert.throws(() => s.append(ents(7, 8, 3)))
    assert.equal(s.lastIndex(), 5)
  })
}

function runEntriesAndTerm(make: () => LogStore): void {
  test('entries answers the half-open range [lo, hi)', () => {
    const s = withFive(make)
    assert.deepEqual(indexes(s.entries(2, 4, all)), [2, 3])
    assert.deepEqual(indexes(s.entries(5, 6, all)), [5])
    assert.deepEqual(s.entries(3, 3, all), [])
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((i) => s.term(i)),
      [1, 1, 2, 2, 3],
    )
  })

  test('entries beyond lastIndex + 1 and terms beyond lastIndex are unavailable', () => {
    const s = withFive(make)
    assert.throws(() => s.entries(4, 7, all), UnavailableError)
    assert.throws(() => s.term(6), UnavailableError)
  })

  const sizeCases = [
    { bytesMax: 0, want: [1] },
    { bytesMax: 9, want: [1] },
    { bytesMax: 10, want: [1] },
    { bytesMax: 19, want: [1] },
    { bytesMax: 20, want: [1, 2] },
    { bytesMax: 45, want: [1, 2, 3, 4] },
    { bytesMax: 50, want: [1, 2, 3, 4, 5] },
  ]
  for (const c of sizeCases) {
    test(`entries with bytesMax ${c.bytesMax} over 10-byte entries answers ${c.want.length} (at least one)`, () => {
      const s = withFive(make)
      assert.deepEqual(indexes(s.entries(1, 6, c.bytesMax)), c.want)
    })
  }

  test('entries counts bytesMax from lo, not from the first index', () => {
    const s = withFive(make)
    assert.deepEqual(indexes(s.entries(3, 6, 20)), [3, 4])
  })
}

function runCompact(make: () => LogStore): void {
  test('compact discards entries up to the index and keeps that entry term', () => {
    const s = withFive(make)
    s.compact(3)
    assert.equal(s.firstIndex(), 4)
    assert.equal(s.lastIndex(), 5)
    assert.equal(s.term(3), 2)
    assert.deepEqual([s.term(4), s.term(5)], [2, 3])
    assert.deepEqual(indexes(s.entries(4, 6, all)), [4, 5])
    assert.deepEqual(
      { index: s.snapshot().metadata.index, term: s.snapshot().metadata.term },
      { index: 3, term: 2 },
    )
  })

  test('after compact, entries and terms below firstIndex are compacted', () => {
    const s = withFive(make)
    s.compact(3)
    assert.throws(() => s.entries(3, 5, all), CompactedError)
    assert.throws(() => s.entries(1, 5, all), CompactedError)
    assert.throws(() => s.term(2), CompactedError)
  })

  test('compact at or below the snapshot index is compacted', () => {
    const s = withFive(make)
    s.compact(3)
    assert.throws(() => s.compact(3), CompactedError)
    assert.throws(() => s.compact(2), CompactedError)
    assert.equal(s.firstIndex(), 4)
  })

  test('compact beyond the last index is refused', () => {
    const s = withFive(make)
    assert.throws(() => s.compact(6))
    assert.equal(s.firstIndex(), 1)
    assert.equal(s.lastIndex(), 5)
  })

  test('compact of the whole log leaves lastIndex at the snapshot and appends continue after it', () => {
    const s = withFive(make)
    s.compact(5)
    assert.equal(s.firstIndex(), 6)
    assert.equal(s.lastIndex(), 5)
    assert.equal(s.term(5), 3)
    assert.deepEqual(s.entries(6, 6, all), [])
    s.append(ents(6, 6, 3))
    assert.deepEqual(indexes(s.entries(6, 7, all)), [6])
  })

  test('compact records the configuration in effect in the snapshot metadata', () => {
    const s = withFive(make)
    s.setConfState({ voters: ['a1', 'b2'] })
    s.compact(4)
    assert.deepEqual(s.snapshot().metadata, { index: 4, term: 2, confState: { voters: ['a1', 'b2'] } })
  })

  test('append may not reach at or below the snapshot index', () => {
    const s = withFive(make)
    s.compact(3)
    assert.throws(() => s.append(ents(3, 4, 3)))
    assert.equal(s.term(4), 2)
  })
}

function runApplySnapshot(make: () => LogStore): void {
  const metadata = { index: 10, term: 4, confState: { voters: ['a1', 'b2', 'c3'] } }

  test('applySnapshot replaces the log: firstIndex is index + 1, lastIndex the index', () => {
    const s = withFive(make)
    s.applySnapshot(metadata)
    assert.equal(s.firstIndex(), 11)
    assert.equal(s.lastIndex(), 10)
    assert.equal(s.term(10), 4)
    assert.deepEqual(s.entries(11, 11, all), [])
    assert.throws(() => s.entries(5, 6, all), CompactedError)
    assert.throws(() => s.term(9), CompactedError)
    assert.throws(() => s.term(11), UnavailableError)
  })

  test('applySnapshot sets the snapshot metadata and the configuration', () => {
    const s = withFive(make)
    s.applySnapshot(metadata)
    assert.deepEqual(s.snapshot().metadata, metadata)
    assert.deepEqual(s.initialState().confState, metadata.confState)
  })

  test('applySnapshot keeps the hard state', () => {
    const s = withFive(make)
    s.setHardState({ term: 4, vote: 'a1', commit: 5 })
    s.applySnapshot(metadata)
    assert.deepEqual(s.initialState().hardState, { term: 4, vote: 'a1', commit: 5 })
  })

  test('after applySnapshot, appends continue at index + 1', () => {
    const s = withFive(make)
    s.applySnapshot(metadata)
    s.append(ents(11, 12, 4))
    assert.equal(s.lastIndex(), 12)
    assert.deepEqual(indexes(s.entries(11, 13, all)), [11, 12])
  })

  test('applySnapshot inside the log drops the entries after it too', () => {
    const s = withFive(make)
    s.applySnapshot({ index: 3, term: 2, confState: { voters: ['a1'] } })
    assert.equal(s.firstIndex(), 4)
    assert.equal(s.lastIndex(), 3)
    assert.throws(() => s.term(4), UnavailableError)
  })
}

function runHardAndConfState(make: () => LogStore): void {
  test('hard state round-trips, and the last one written wins', () => {
    const s = make()
    s.setHardState({ term: 1, vote: 'a1', commit: 0 })
    s.setHardState({ term: 2, vote: '', commit: 7 })
    assert.deepEqual(s.initialState().hardState, { term: 2, vote: '', commit: 7 })
  })

  test('configuration round-trips without touching the hard state or the log', () => {
    const s = withFive(make)
    s.setHardState({ term: 3, vote: 'b2', commit: 5 })
    s.setConfState({ voters: ['a1', 'b2'] })
    s.setConfState({ voters: ['a1', 'b2', 'c3'] })
    assert.deepEqual(s.initialState(), {
      hardState: { term: 3, vote: 'b2', commit: 5 },
      confState: { voters: ['a1', 'b2', 'c3'] },
    })
    assert.equal(s.lastIndex(), 5)
  })
}
