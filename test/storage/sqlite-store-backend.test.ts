/**
 * What the SQLite backend adds to the StoreBackend contract (run in store-backend.test.ts):
 * the tree and the history come back after a restart, the newest event index too when every
 * event was trimmed, and keys are stored as TEXT. Method: write, close, reopen, read.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { SqliteStoreBackend } from '../../src/storage/index.js'
import type { HistoryRecord } from '../../src/store/index.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

function event(index: number): HistoryRecord {
  return { index, action: 'set', key: '/k', dir: false, refresh: false, json: `{"index":${index}}\n` }
}

test('nodes, their order and their expirations survive a restart', () => {
  const path = temp.newPath()
  const db = temp.open(path, 'FULL')
  const tree = new SqliteStoreBackend(db)
  tree.putNode({ key: '/d', dir: true, value: '', createdIndex: 1, modifiedIndex: 1, expiresAtMs: null })
  tree.putNode({ key: '/d/😀', dir: false, value: 'x', createdIndex: 2, modifiedIndex: 2, expiresAtMs: 9_000 })
  tree.putNode({ key: '/d/Ａ', dir: false, value: 'y', createdIndex: 3, modifiedIndex: 3, expiresAtMs: null })
  temp.close(db)

  const reopened = new SqliteStoreBackend(temp.open(path))
  assert.deepEqual(
    reopened.children('/d').map((n) => n.key),
    ['/d/Ａ', '/d/😀'],
  )
  assert.equal(reopened.earliestExpirationMs(), 9_000)
  assert.deepEqual(reopened.getNode('/d/😀'), { key: '/d/😀', dir: false, value: 'x', createdIndex: 2, modifiedIndex: 2, expiresAtMs: 9_000 })
})

test('the history and the newest event index survive a restart, even with every event trimmed', () => {
  const path = temp.newPath()
  const db = temp.open(path)
  const tree = new SqliteStoreBackend(db)
  for (let i = 1; i <= 3; i++) tree.appendEvent(event(i))
  tree.trimEventsBefore(4)
  temp.close(db)

  const reopened = new SqliteStoreBackend(temp.open(path))
  assert.equal(reopened.lastEventIndex(), 3)
  assert.equal(reopened.oldestEventIndex(), undefined)
  reopened.appendEvent(event(4))
  reopened.appendEvent(event(5))
  reopened.trimEventsBefore(5)
  assert.deepEqual(
    reopened.eventsFrom(0, 10).map((e) => e.index),
    [5],
  )
})

test('an event that does not follow the newest one is refused', () => {
  const tree = new SqliteStoreBackend(temp.open())
  tree.appendEvent(event(1))
  assert.throws(() => tree.appendEvent(event(3)))
  assert.throws(() => tree.appendEvent(event(1)))
  assert.equal(tree.lastEventIndex(), 1)
})

test('keys and values are stored as TEXT, in a table clustered on the key', () => {
  const path = temp.newPath()
  const db = temp.open(path)
  const tree = new SqliteStoreBackend(db)
  tree.putNode({ key: '/a', dir: true, value: '', createdIndex: 1, modifiedIndex: 1, expiresAtMs: null })
  tree.putNode({ key: '/a/1', dir: false, value: '12', createdIndex: 2, modifiedIndex: 2, expiresAtMs: null })
  temp.close(db)
  const raw = new Database(path, { readonly: true })
  const rows = raw.prepare('SELECT key, typeof(key) AS k, typeof(value) AS v FROM nodes ORDER BY key').all()
  const table = raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'nodes'").get() as { sql: string }
  const indexes = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'nodes' ORDER BY name").all()
  raw.close()
  assert.deepEqual(rows, [
    { key: '/a', k: 'text', v: 'text' },
    { key: '/a/1', k: 'text', v: 'text' },
  ])
  assert.match(table.sql, /WITHOUT ROWID/)
  assert.deepEqual(indexes, [{ name: 'nodes_by_expiry' }], 'one b-tree per write, and the partial TTL index')
})
