/**
 * What the SQLite log adds to the LogStore contract (run in log-storage.test.ts): everything
 * Raft reads at restart comes back from the file, and `entries` counts bytes as UTF-8.
 * Method: write, close, reopen, read.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { entryDataBytes, type Entry } from '../../src/raft/index.js'
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
