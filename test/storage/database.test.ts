/**
 * The member database as a whole: it is created where asked, a transaction's writes to every
 * table survive a restart, a failed transaction leaves no trace (in the file or in the cached
 * values of its views), a file from a newer arbor is refused, and one from an older layout
 * is migrated. Method: real files under
 * the temp directory, closed and reopened as a restart would.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import {
  MemberMeta,
  SchemaVersionError,
  SqliteLogStore,
  SqliteStoreBackend,
  openDatabase,
  schemaVersion,
  type ArborDatabase,
} from '../../src/storage/index.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

/** The three views of a database, as a member builds them once at start. */
function viewsOf(db: ArborDatabase): { log: SqliteLogStore; tree: SqliteStoreBackend; meta: MemberMeta } {
  return { log: new SqliteLogStore(db), tree: new SqliteStoreBackend(db), meta: new MemberMeta(db) }
}

/** One loop turn's worth of writes: persist a Ready batch, apply entry `index`. */
function turn(db: ArborDatabase, v: ReturnType<typeof viewsOf>, index: number): void {
  db.transaction(() => {
    v.log.append([{ index, term: 1, type: 'normal', data: `{"op":"set","key":"/k${index}"}` }])
    v.log.setHardState({ term: 1, vote: 'a1', commit: index })
    v.tree.putNode({ key: `/k${index}`, dir: false, value: `v${index}`, createdIndex: index, modifiedIndex: index, expiresAtMs: null })
    v.tree.appendEvent({ index, action: 'set', key: `/k${index}`, dir: false, refresh: false, json: `{"n":${index}}\n` })
    v.meta.setAppliedIndex(index)
  })
}

/** What a restarted member would read back. */
function readBack(v: ReturnType<typeof viewsOf>): object {
  return {
    lastIndex: v.log.lastIndex(),
    hardState: v.log.initialState().hardState,
    keys: v.tree.descendants('/').map((n) => n.key),
    lastEventIndex: v.tree.lastEventIndex(),
    appliedIndex: v.meta.appliedIndex(),
  }
}

test('openDatabase creates the missing directory and a WAL-mode file', () => {
  const path = temp.newPath()
  const db = temp.open(path, 'FULL')
  assert.ok(existsSync(path))
  temp.close(db)
  const raw = new Database(path, { readonly: true })
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal')
  raw.close()
})

test('writes of committed transactions survive close and reopen', () => {
  const path = temp.newPath()
  const db = temp.open(path, 'FULL')
  const v = viewsOf(db)
  turn(db, v, 1)
  turn(db, v, 2)
  temp.close(db)

  const reopened = viewsOf(temp.open(path, 'FULL'))
  assert.deepEqual(readBack(reopened), {
    lastIndex: 2,
    hardState: { term: 1, vote: 'a1', commit: 2 },
    keys: ['/k1', '/k2'],
    lastEventIndex: 2,
    appliedIndex: 2,
  })
  assert.equal(reopened.tree.getNode('/k2')?.value, 'v2')
})

test('an error thrown inside a transaction rolls back every table and every cached value', () => {
  const path = temp.newPath()
  const db = temp.open(path, 'FULL')
  const v = viewsOf(db)
  turn(db, v, 1)
  const before = readBack(v)

  const failure = new Error('apply failed')
  assert.throws(() => {
    db.transaction(() => {
      turn(db, v, 2)
      v.log.compact(2)
      v.meta.upsertMember({ id: 'a1', name: 's1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: [] })
      throw failure
    })
  }, failure)

  assert.equal(db.inTransaction, false)
  assert.deepEqual(readBack(v), before)
  assert.equal(v.log.firstIndex(), 1)
  assert.deepEqual(v.meta.listMembers(), [])

  // The member can go on: the same turn succeeds on retry, and the file holds exactly that.
  turn(db, v, 2)
  const afterRetry = readBack(v)
  temp.close(db)
  const reopened = viewsOf(temp.open(path))
  assert.deepEqual(readBack(reopened), afterRetry)
  assert.deepEqual(reopened.meta.listMembers(), [])
})

test('a nested transaction joins the outer one: an outer error undoes the inner writes too', () => {
  const db = temp.open()
  const v = viewsOf(db)
  assert.throws(() =>
    db.transaction(() => {
      const inner = db.transaction(() => {
        turn(db, v, 1)
        return 'inner result'
      })
      assert.equal(inner, 'inner result')
      assert.equal(db.inTransaction, true)
      throw new Error('outer failed')
    }),
  )
  assert.deepEqual(readBack(v), {
    lastIndex: 0,
    hardState: { term: 0, vote: '', commit: 0 },
    keys: [],
    lastEventIndex: 0,
    appliedIndex: 0,
  })
})

test('transaction returns the value of its function', () => {
  const db = temp.open()
  assert.equal(
    db.transaction(() => 42),
    42,
  )
})

test('a file written by a newer arbor is refused and left unchanged', () => {
  const path = temp.newPath()
  temp.close(temp.open(path))
  const raw = new Database(path)
  raw.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(schemaVersion + 1)
  raw.close()

  assert.throws(() => openDatabase(path, { synchronous: 'FULL' }), (error: unknown) => {
    assert.ok(error instanceof SchemaVersionError)
    assert.match(error.message, new RegExp(`schema version ${schemaVersion + 1}, newer than ${schemaVersion}`))
    return true
  })
  const check = new Database(path, { readonly: true })
  assert.deepEqual(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get(), { value: schemaVersion + 1 })
  check.close()
})

test('reopening a file keeps its schema version and its data', () => {
  const path = temp.newPath()
  const db = temp.open(path)
  new MemberMeta(db).setAppliedIndex(7)
  temp.close(db)
  const again = temp.open(path)
  assert.equal(new MemberMeta(again).appliedIndex(), 7)
  temp.close(again)
  const raw = new Database(path, { readonly: true })
  assert.deepEqual(raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get(), { value: schemaVersion })
  raw.close()
})

test('a durable transaction commits with the level the file was opened with; a relaxed one without an fsync', () => {
  const seen: string[] = []
  const full = temp.open(temp.newPath(), 'FULL')
  full.transaction(() => seen.push(full.synchronousInEffect()))
  full.transaction(() => seen.push(full.synchronousInEffect()), false)
  full.transaction(() => seen.push(full.synchronousInEffect()), true)
  const off = temp.open(temp.newPath(), 'OFF')
  off.transaction(() => seen.push(off.synchronousInEffect()), false)
  off.transaction(() => seen.push(off.synchronousInEffect()))
  assert.deepEqual(seen, ['FULL', 'NORMAL', 'FULL', 'OFF', 'OFF'])
})

test('a relaxed transaction is still atomic and its writes survive a restart', () => {
  const path = temp.newPath()
  const db = temp.open(path, 'FULL')
  const v = viewsOf(db)
  turn(db, v, 1)
  db.transaction(() => {
    v.tree.putNode({ key: '/relaxed', dir: false, value: 'kept', createdIndex: 2, modifiedIndex: 2, expiresAtMs: null })
    v.meta.setAppliedIndex(2)
  }, false)
  assert.throws(() =>
    db.transaction(() => {
      v.tree.putNode({ key: '/undone', dir: false, value: 'x', createdIndex: 3, modifiedIndex: 3, expiresAtMs: null })
      v.meta.setAppliedIndex(3)
      throw new Error('turn failed')
    }, false),
  )
  temp.close(db)
  const reopened = viewsOf(temp.open(path, 'FULL'))
  assert.equal(reopened.tree.getNode('/relaxed')?.value, 'kept')
  assert.equal(reopened.tree.getNode('/undone'), undefined)
  assert.equal(reopened.meta.appliedIndex(), 2)
})

/** The `nodes` table of schema version 1, as files written before version 2 hold it. */
const nodesTableV1 = `
CREATE TABLE nodes (
  key            TEXT NOT NULL PRIMARY KEY,
  parent         TEXT NOT NULL,
  dir            INTEGER NOT NULL,
  value          TEXT NOT NULL,
  created_index  INTEGER NOT NULL,
  modified_index INTEGER NOT NULL,
  expires_at_ms  INTEGER
);
CREATE INDEX nodes_by_parent ON nodes (parent, key);
CREATE INDEX nodes_by_expiry ON nodes (expires_at_ms, key) WHERE expires_at_ms IS NOT NULL;
`

test('a file of schema version 1 is migrated when opened: the same tree, in one b-tree, at the current version', () => {
  const path = temp.newPath()
  const before = temp.open(path)
  new MemberMeta(before).setAppliedIndex(9)
  temp.close(before)
  const raw = new Database(path)
  raw.exec('DROP TABLE nodes')
  raw.exec(nodesTableV1)
  const insert = raw.prepare('INSERT INTO nodes VALUES (?, ?, ?, ?, ?, ?, ?)')
  insert.run('/a', '/', 1, '', 1, 1, null)
  insert.run('/a/b', '/a', 0, 'x', 2, 3, 5_000)
  insert.run('/a/c', '/a', 1, '', 4, 4, null)
  insert.run('/a/c/d', '/a/c', 0, 'y', 5, 5, null)
  insert.run('/a!', '/', 0, 'z', 6, 6, null)
  raw.prepare("UPDATE meta SET value = 1 WHERE key = 'schema_version'").run()
  raw.close()

  const db = temp.open(path)
  const tree = new SqliteStoreBackend(db)
  assert.deepEqual(tree.children('/').map((n) => n.key), ['/a', '/a!'])
  assert.deepEqual(tree.children('/a').map((n) => n.key), ['/a/b', '/a/c'])
  assert.deepEqual(tree.descendants('/a').map((n) => n.key), ['/a/b', '/a/c', '/a/c/d'])
  assert.deepEqual(tree.getNode('/a/b'), { key: '/a/b', dir: false, value: 'x', createdIndex: 2, modifiedIndex: 3, expiresAtMs: 5_000 })
  assert.deepEqual(tree.expiredBy(6_000).map((n) => n.key), ['/a/b'])
  assert.equal(new MemberMeta(db).appliedIndex(), 9)
  temp.close(db)
  const check = new Database(path, { readonly: true })
  assert.deepEqual(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get(), { value: schemaVersion })
  assert.match((check.prepare("SELECT sql FROM sqlite_master WHERE name = 'nodes'").get() as { sql: string }).sql, /WITHOUT ROWID/)
  assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'nodes'").all(), [{ name: 'nodes_by_expiry' }])
  check.close()
})

test('the commit observer hears every outermost commit once, synced only when it waited for the disk', () => {
  const cases: { synchronous: 'FULL' | 'NORMAL' | 'OFF'; durable: boolean; synced: boolean }[] = [
    { synchronous: 'FULL', durable: true, synced: true },
    { synchronous: 'FULL', durable: false, synced: false },
    { synchronous: 'NORMAL', durable: true, synced: false },
    { synchronous: 'OFF', durable: true, synced: false },
  ]
  for (const c of cases) {
    const db = temp.open(undefined, c.synchronous)
    const v = viewsOf(db)
    const heard: { seconds: number; synced: boolean }[] = []
    db.onCommit((seconds, synced) => heard.push({ seconds, synced }))
    db.transaction(() => {
      v.meta.setAppliedIndex(1)
      db.transaction(() => v.meta.setAppliedIndex(2)) // joins the outer one: no commit of its own
    }, c.durable)
    assert.deepEqual(heard.map((h) => h.synced), [c.synced], JSON.stringify(c))
    assert.ok(heard[0]!.seconds >= 0 && heard[0]!.seconds < 60, `a duration in seconds: ${heard[0]!.seconds}`)
    assert.throws(() => db.transaction(() => {
      v.meta.setAppliedIndex(3)
      throw new Error('rolled back')
    }, c.durable), /rolled back/)
    assert.equal(heard.length, 1, 'a rolled-back transaction is no commit')
    assert.equal(v.meta.appliedIndex(), 2)
    temp.close(db)
  }
})

test('a new file keeps 1 KiB values in their pages: about 1.2 KB on disk per key, not 4.6', () => {
  const db = temp.open()
  const tree = new SqliteStoreBackend(db)
  const value = 'x'.repeat(1024)
  db.transaction(() => {
    for (let i = 0; i < 2_000; i++) tree.putNode({ key: `/k${String(i).padStart(5, '0')}`, dir: false, value, createdIndex: i + 1, modifiedIndex: i + 1, expiresAtMs: null })
  })
  assert.equal(db.connection.pragma('page_size', { simple: true }), 16_384)
  const stat = db.connection.prepare<[], { bytes: number }>("SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name = 'nodes'").get()
  const perKey = (stat?.bytes ?? 0) / 2_000
  assert.ok(perKey < 1_500, `${perKey} bytes on disk per key`)
})

test('a file of schema version 2 gains the auth tables when opened', () => {
  const path = temp.newPath()
  temp.close(temp.open(path))
  const raw = new Database(path)
  raw.exec('DROP TABLE auth_users; DROP TABLE auth_roles')
  raw.prepare("UPDATE meta SET value = 2 WHERE key = 'schema_version'").run()
  raw.close()
  temp.close(temp.open(path))
  const check = new Database(path, { readonly: true })
  assert.deepEqual(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get(), { value: schemaVersion })
  assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'auth_%' ORDER BY name").all(), [{ name: 'auth_roles' }, { name: 'auth_users' }])
  check.close()
})
