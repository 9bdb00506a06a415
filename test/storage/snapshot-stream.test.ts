/**
 * Goal: a state snapshot streams in bounded chunks: the leader's reader sees one consistent
 * state however the member writes meanwhile, the follower stages chunks cut anywhere (even
 * inside a character) and installs them at once, and a transfer that stops halfway — a new
 * transfer, a restart — leaves the follower's state exactly as it was.
 * Method: two SQLite databases; the state compared through a whole export.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  MemberMeta,
  SnapshotFormatError,
  SqliteStoreBackend,
  StateStager,
  exportState,
  openStateReader,
  type ArborDatabase,
} from '../../src/storage/index.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

/** A member with `count` keys under /dir (values with multi-byte characters), applied index 40. */
function source(count: number): ArborDatabase {
  const db = temp.open()
  const tree = new SqliteStoreBackend(db)
  db.transaction(() => {
    tree.putNode({ key: '/dir', dir: true, value: '', createdIndex: 1, modifiedIndex: 1, expiresAtMs: null })
    for (let i = 0; i < count; i++) {
      tree.putNode({ key: `/dir/k${String(i).padStart(5, '0')}`, dir: false, value: `välue ${i} 😀`, createdIndex: i + 2, modifiedIndex: i + 2, expiresAtMs: i % 3 === 0 ? 1_000 + i : null })
    }
    for (let i = 1; i <= 20; i++) tree.appendEvent({ index: i, action: 'set', key: '/dir', dir: false, refresh: false, json: `{"i":${i}}` })
    new MemberMeta(db).setAppliedIndex(40)
    new MemberMeta(db).upsertMember({ id: 'a1', name: 's1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: [] })
  })
  return db
}

/** A member with a state of its own. */
function target(): ArborDatabase {
  const db = temp.open()
  new SqliteStoreBackend(db).putNode({ key: '/old', dir: false, value: 'x', createdIndex: 1, modifiedIndex: 1, expiresAtMs: 5 })
  new MemberMeta(db).setAppliedIndex(3)
  return db
}

/** Every chunk of a reader of `db`. */
function chunksOf(db: ArborDatabase, chunkBytes: number): Uint8Array[] {
  const reader = openStateReader(db, chunkBytes)
  const chunks: Uint8Array[] = []
  for (let chunk = reader.next(); chunk !== undefined; chunk = reader.next()) chunks.push(chunk)
  reader.close()
  return chunks
}

/** `bytes` cut every `size` bytes. */
function cut(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength; at += size) pieces.push(bytes.subarray(at, at + size))
  return pieces
}

test('a reader returns the state in chunks of about the chunk size, whole lines each', () => {
  const db = source(200)
  const chunks = chunksOf(db, 500)
  assert.ok(chunks.length > 10, `${chunks.length} chunks`)
  for (const chunk of chunks) {
    assert.equal(chunk[chunk.byteLength - 1], 0x0a, 'a chunk ends with a whole line')
    // Never past the chunk size, unless one line alone is longer (the header can be).
    const lines = new TextDecoder().decode(chunk).split('\n').length - 1
    assert.ok(chunk.byteLength <= 500 || lines === 1, `a chunk of ${chunk.byteLength} bytes, ${lines} lines`)
  }
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(exportState(db)))
})

test('chunks cut anywhere, even inside a character, stage and install the same state', () => {
  const data = exportState(source(200))
  for (const size of [1, 7, 4096]) {
    const t = target()
    const stager = new StateStager(t)
    stager.begin('t1')
    for (const piece of cut(data, size)) stager.write('t1', piece)
    stager.install(stager.finish('t1'))
    assert.deepEqual(Buffer.from(exportState(t)), Buffer.from(data), `pieces of ${size} bytes`)
    assert.equal(new MemberMeta(t).appliedIndex(), 40)
    assert.equal(new SqliteStoreBackend(t).earliestExpirationMs(), 1_000)
  }
})

test("a reader sees the state as it was when opened, whatever the member writes meanwhile", () => {
  const db = source(100)
  const before = exportState(db)
  const reader = openStateReader(db, 300)
  const first = reader.next()
  db.transaction(() => {
    new SqliteStoreBackend(db).putNode({ key: '/dir/new', dir: false, value: 'n', createdIndex: 500, modifiedIndex: 500, expiresAtMs: null })
    new SqliteStoreBackend(db).deleteTree('/dir/k00050')
    new MemberMeta(db).setAppliedIndex(41)
  })
  const chunks = [first as Uint8Array]
  for (let chunk = reader.next(); chunk !== undefined; chunk = reader.next()) chunks.push(chunk)
  reader.close()
  assert.equal(reader.appliedIndex, 40)
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(before))
  assert.notDeepEqual(Buffer.from(exportState(db)), Buffer.from(before))
})

test('a transfer cut halfway by a new one leaves the state intact, and the new one installs', () => {
  const t = target()
  const before = exportState(t)
  const data = exportState(source(300))
  const half = data.subarray(0, Math.floor(data.byteLength / 2))
  const stager = new StateStager(t)
  stager.begin('from-old-leader')
  stager.write('from-old-leader', half)
  assert.deepEqual(Buffer.from(exportState(t)), Buffer.from(before), 'staging does not touch the state')
  stager.begin('from-new-leader')
  assert.throws(() => stager.install(new TextEncoder().encode('{"transferId":"from-old-leader"}')), SnapshotFormatError)
  assert.deepEqual(Buffer.from(exportState(t)), Buffer.from(before))
  for (const piece of cut(data, 1000)) stager.write('from-new-leader', piece)
  stager.install(stager.finish('from-new-leader'))
  assert.deepEqual(Buffer.from(exportState(t)), Buffer.from(data))
})

test('a transfer cut halfway by a restart leaves the state intact and no staging behind', () => {
  const path = temp.newPath()
  const t = temp.open(path)
  new SqliteStoreBackend(t).putNode({ key: '/old', dir: false, value: 'x', createdIndex: 1, modifiedIndex: 1, expiresAtMs: 5 })
  const before = exportState(t)
  const data = exportState(source(300))
  const stager = new StateStager(t)
  stager.begin('t1')
  stager.write('t1', data.subarray(0, data.byteLength / 2))
  temp.close(t)
  const reopened = temp.open(path)
  assert.deepEqual(Buffer.from(exportState(reopened)), Buffer.from(before))
  const staged = reopened.connection.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'staged_%'").all()
  assert.deepEqual(staged, [])
})

test('a transfer whose last chunk never came cannot be installed', () => {
  const t = target()
  const before = exportState(t)
  const data = exportState(source(50))
  const stager = new StateStager(t)
  stager.begin('t1')
  stager.write('t1', data.subarray(0, data.byteLength - 3))
  assert.throws(() => stager.finish('t1'), SnapshotFormatError)
  assert.deepEqual(Buffer.from(exportState(t)), Buffer.from(before))
})
