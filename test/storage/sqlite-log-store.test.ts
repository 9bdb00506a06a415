/**
 * What the SQLite log adds to the LogStore contract (run in log-storage.test.ts): everything
 * Raft reads at restart comes back from the file, and `entries` counts bytes as UTF-8.
 * Its in-memory term cache agrees with the file through every kind of change.
 * Method: write, close, reopen, read; a fast-check property against MemoryLogStorage.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MemoryLogStorage, entryDataBytes, type Entry } from '../../src/raft/index.js'
import { SqliteLogStore } from '../../src/storage/index.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

function entry(index: number, term: number, data: string): Entry {
  return { index, term, type: 'normal', data }
}

test('log, hard state, configuration and compaction survive a restart', () => {
  const path = temp.newPath()
  const db = temp.open(path, 'FULL')
  const log = new SqliteLogStore(db)
  log.append([entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 2, 'c'), entry(4, 2, 'd')])
  log.setHardState({ term: 2, vote: 'b2', commit: 3 })
  log.setConfState({ voters: ['a1', 'b2'] })
  log.compact(2)
  temp.close(db)

  const reopened = new SqliteLogStore(temp.open(path))
  assert.deepEqual(reopened.initialState(), {
    hardState: { term: 2, vote: 'b2', commit: 3 },
    confState: { voters: ['a1', 'b2'] },
  })
  assert.equal(reopened.firstIndex(), 3)
  assert.equal(reopened.lastIndex(), 4)
  assert.equal(reopened.term(2), 1)
  assert.deepEqual(reopened.entries(3, 5, 1_000), [entry(3, 2, 'c'), entry(4, 2, 'd')])
  assert.deepEqual(reopened.snapshot().metadata, { index: 2, term: 1, confState: { voters: ['a1', 'b2'] } })
})

test('an applied snapshot survives a restart with an empty log', () => {
  const path = temp.newPath()
  const db = temp.open(path)
  const log = new SqliteLogStore(db)
  log.append([entry(1, 1, 'a')])
  log.applySnapshot({ index: 50, term: 7, confState: { voters: ['c3'] } })
  temp.close(db)

  const reopened = new SqliteLogStore(temp.open(path))
  assert.equal(reopened.firstIndex(), 51)
  assert.equal(reopened.lastIndex(), 50)
  assert.equal(reopened.term(50), 7)
  assert.deepEqual(reopened.initialState().confState, { voters: ['c3'] })
})

test('entries counts the UTF-8 bytes of data: ü is 2 bytes, 😀 is 4', () => {
  const log = new SqliteLogStore(temp.open())
  log.append([entry(1, 1, 'üü'), entry(2, 1, '😀'), entry(3, 1, 'x')])
  assert.deepEqual(
    [entryDataBytes(entry(1, 1, 'üü')), entryDataBytes(entry(2, 1, '😀'))],
    [4, 4],
  )
  assert.deepEqual(
    log.entries(1, 4, 7).map((e) => e.index),
    [1],
  )
  assert.deepEqual(
    log.entries(1, 4, 8).map((e) => e.index),
    [1, 2],
  )
})

/** One step of the term-cache property below. */
type LogStep =
  | { readonly kind: 'append'; readonly back: number; readonly count: number; readonly termStep: number }
  | { readonly kind: 'compact'; readonly back: number }
  | { readonly kind: 'rollback'; readonly count: number }
  | { readonly kind: 'reopen' }

const logStepArb: fc.Arbitrary<LogStep> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), back: fc.nat(4), count: fc.integer({ min: 1, max: 5 }), termStep: fc.nat(2) }),
  fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }),
  fc.record({ kind: fc.constant('rollback' as const), count: fc.integer({ min: 1, max: 3 }) }),
  fc.constant({ kind: 'reopen' as const }),
)

test('terms answer from memory as the file holds them, through appends that cut, compactions, rollbacks and restarts', () => {
  fc.assert(
    fc.property(fc.array(logStepArb, { maxLength: 30 }), (steps) => {
      const path = temp.newPath()
      let db = temp.open(path)
      let log = new SqliteLogStore(db)
      const model = new MemoryLogStorage({ voters: [] })
      for (const step of steps) {
        if (step.kind === 'append') {
          const from = Math.max(log.firstIndex(), log.lastIndex() + 1 - step.back)
          const baseTerm = from - 1 >= log.firstIndex() - 1 && from - 1 > 0 ? log.term(from - 1) : 1
          const entries = Array.from({ length: step.count }, (_, i) => entry(from + i, baseTerm + step.termStep + (i > 2 ? 1 : 0), `e${from + i}`))
          log.append(entries)
          model.append(entries)
        } else if (step.kind === 'compact') {
          const index = log.lastIndex() - step.back
          if (index > log.firstIndex() - 1) {
            log.compact(index)
            model.compact(index)
          }
        } else if (step.kind === 'rollback') {
          // A failed turn: its appends are rolled back, and the cache is read back from the file.
          const next = log.lastIndex() + 1
          const term = log.lastIndex() > 0 ? log.term(log.lastIndex()) + 1 : 1
          assert.throws(() =>
            db.transaction(() => {
              log.append(Array.from({ length: step.count }, (_, i) => entry(next + i, term, 'lost')))
              throw new Error('turn failed')
            }),
          )
        } else {
          temp.close(db)
          db = temp.open(path)
          log = new SqliteLogStore(db)
        }
        assert.equal(log.firstIndex(), model.firstIndex())
        assert.equal(log.lastIndex(), model.lastIndex())
        for (let i = log.firstIndex() - 1; i <= log.lastIndex(); i++) assert.equal(log.term(i), model.term(i), `term(${i})`)
      }
      temp.close(db)
    }),
    { numRuns: 150, seed: 20261121 },
  )
})
