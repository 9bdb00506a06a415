/**
 * Backup files: a copy taken while the member writes holds every write committed before it
 * ended; its status reads back the member's index, term, counts and identity; a truncated or
 * damaged file is refused by status and restore; a restore makes the first state of a new
 * cluster (new identity and members, the log emptied at the applied index) and keeps the
 * tree, the history and the applied index. Method: real databases in temp directories.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { schemaVersion } from '../../src/storage/schema.js'
import {
  BackupFileError,
  MemberMeta,
  SqliteLogStore,
  SqliteStoreBackend,
  backupChecksumBytes,
  readBackupStatus,
  restoreBackupFile,
  writeBackupFile,
  type ArborDatabase,
} from '../../src/storage/index.js'
import type { NodeRecord } from '../../src/store/index.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

const nodes: NodeRecord[] = [
  { key: '/d', dir: true, value: '', createdIndex: 1, modifiedIndex: 1, expiresAtMs: null },
  { key: '/d/a', dir: false, value: 'A', createdIndex: 2, modifiedIndex: 4, expiresAtMs: null },
  { key: '/e', dir: false, value: 'E', createdIndex: 3, modifiedIndex: 3, expiresAtMs: 1_700_000_000_000 },
]

/** A member of cluster 'c0' at applied index 5 (term 2), log 1..6, 2 members and 1 removed. */
function source(): { db: ArborDatabase; path: string } {
  const path = temp.newPath()
  const db = temp.open(path)
  const tree = new SqliteStoreBackend(db)
  const meta = new MemberMeta(db)
  const log = new SqliteLogStore(db)
  for (const n of nodes) tree.putNode(n)
  for (let i = 1; i <= 4; i++) tree.appendEvent({ index: i, action: 'set', key: '/d/a', dir: false, refresh: false, json: `{"i":${i}}\n` })
  log.append([1, 1, 2, 2, 2, 3].map((term, i) => ({ index: i + 1, term, type: 'normal' as const, data: '' })))
  log.setHardState({ term: 3, vote: 'a1', commit: 6 })
  log.setConfState({ voters: ['a1', 'b2'] })
  meta.setAppliedIndex(5)
  meta.setMemberId('a1')
  meta.setClusterId('c0')
  meta.upsertMember({ id: 'a1', name: 's1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'] })
  meta.upsertMember({ id: 'b2', name: 's2', peerUrls: ['http://127.0.0.2:2380'], clientUrls: [] })
  meta.upsertMember({ id: 'c3', name: 's3', peerUrls: ['http://127.0.0.3:2380'], clientUrls: [] })
  meta.removeMember('c3')
  return { db, path }
}

function backupPath(): string {
  return join(dirname(dirname(temp.newPath())), 'backup.db')
}

test('a backup reports the index, term, counts, size, checksum and identity it holds', async () => {
  const { db } = source()
  const path = backupPath()
  const status = await writeBackupFile(db, path, { pagesPerStep: 1 })
  const bytes = readFileSync(path)
  const data = bytes.subarray(0, bytes.length - backupChecksumBytes)
  const sha256 = createHash('sha256').update(data).digest('hex')
  assert.deepEqual(status, {
    sha256,
    fileBytes: bytes.length,
    appliedIndex: 5,
    term: 2,
    etcdIndex: 4,
    keys: 2,
    dirs: 1,
    clusterId: 'c0',
    memberId: 'a1',
    schemaVersion,
  })
  assert.equal(bytes.subarray(bytes.length - backupChecksumBytes).toString('hex'), sha256)
  assert.deepEqual(await readBackupStatus(path), status)
  assert.deepEqual(readdirSync(dirname(path)).filter((f) => f.startsWith('backup')), ['backup.db'], 'one file, no -wal beside it')
})

test('a copy taken while the member writes holds every write committed before it ended', async () => {
  const { db } = source()
  const tree = new SqliteStoreBackend(db)
  for (let i = 0; i < 2_000; i++) tree.putNode({ ...nodes[1]!, key: `/d/bulk${i}`, value: 'x'.repeat(200) })
  let written = 0
  let copying = true
  const writer = (): void => {
    if (!copying) return
    db.transaction(() => tree.putNode({ ...nodes[1]!, key: `/d/during${written}` }))
    written += 1
    setImmediate(writer)
  }
  setImmediate(writer)
  const path = backupPath()
  await db.backup(path, 2).then(() => {
    copying = false
  })
  assert.ok(written > 10, `only ${written} writes interleaved with the copy`)
  const copy = new SqliteStoreBackend(temp.open(path))
  assert.equal(copy.descendants('/').length, nodes.length + 2_000 + written)
  assert.ok(copy.getNode(`/d/during${written - 1}`) !== undefined)
})

test('a truncated, damaged or foreign file is refused by status and restore, and restore leaves nothing', async () => {
  const { db } = source()
  const good = backupPath()
  await writeBackupFile(db, good, { pagesPerStep: 100 })
  const bytes = readFileSync(good)
  const cases = [
    { name: 'truncated by one byte', bytes: bytes.subarray(0, bytes.length - 1), want: /is truncated or damaged/ },
    { name: 'truncated to whole pages (no checksum)', bytes: bytes.subarray(0, bytes.length - backupChecksumBytes), want: /is truncated or damaged/ },
    { name: 'one byte changed', bytes: flipped(bytes, 3_000), want: /is damaged: its contents hash to sha256 [0-9a-f]{64}, the file records/ },
    { name: 'checksum changed', bytes: flipped(bytes, bytes.length - 1), want: /is damaged/ },
    { name: 'not SQLite', bytes: Buffer.from('hello\n'.repeat(100)), want: /is not an arbor snapshot/ },
    { name: 'empty', bytes: Buffer.alloc(0), want: /is not an arbor snapshot/ },
  ]
  for (const c of cases) {
    const path = backupPath()
    writeFileSync(path, c.bytes)
    await assert.rejects(readBackupStatus(path), (e: Error) => e instanceof BackupFileError && c.want.test(e.message), c.name)
    const target = join(dirname(dirname(temp.newPath())), 'new.arbor', 'arbor.db')
    await assert.rejects(restoreBackupFile(path, target, identity()), (e: Error) => e instanceof BackupFileError && c.want.test(e.message), c.name)
    assert.equal(existsSync(target), false, c.name)
    assert.deepEqual(existsSync(dirname(target)) ? readdirSync(dirname(target)) : [], [], c.name)
  }
  await assert.rejects(readBackupStatus(join(dirname(good), 'missing.db')), /cannot read .*missing\.db: ENOENT/)
})

function flipped(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes)
  copy[at] = (copy[at] ?? 0) ^ 0xff
  return copy
}

function identity() {
  return {
    memberId: 'f1',
    clusterId: 'cc',
    members: [
      { id: 'f1', name: 'x1', peerUrls: ['http://127.0.0.1:9001'], clientUrls: [] },
      { id: 'e2', name: 'x2', peerUrls: ['http://127.0.0.1:9002'], clientUrls: [] },
    ],
  }
}

test('a restore keeps the state and starts a new cluster: identity, members, log at the applied index', async () => {
  const { db } = source()
  const file = backupPath()
  await writeBackupFile(db, file, { pagesPerStep: 100 })
  const target = join(dirname(dirname(temp.newPath())), 'new.arbor', 'arbor.db')
  const status = await restoreBackupFile(file, target, identity())
  assert.equal(status.appliedIndex, 5)
  assert.deepEqual(readdirSync(dirname(target)), ['arbor.db'])
  const restored = temp.open(target)
  const tree = new SqliteStoreBackend(restored)
  const meta = new MemberMeta(restored)
  const log = new SqliteLogStore(restored)
  assert.deepEqual(tree.descendants('/'), nodes)
  assert.equal(tree.lastEventIndex(), 4)
  assert.equal(tree.eventsFrom(0, 10).length, 4)
  assert.equal(meta.appliedIndex(), 5)
  assert.equal(meta.memberId(), 'f1')
  assert.equal(meta.clusterId(), 'cc')
  assert.deepEqual(meta.listMembers(), identity().members.slice().reverse())
  assert.deepEqual(meta.removedMemberIds(), [])
  assert.equal(log.firstIndex(), 6)
  assert.equal(log.lastIndex(), 5)
  assert.equal(log.term(5), 2)
  assert.deepEqual(log.initialState(), { hardState: { term: 2, vote: '', commit: 5 }, confState: { voters: ['e2', 'f1'] } })
  assert.deepEqual(log.snapshot().metadata, { index: 5, term: 2, confState: { voters: ['e2', 'f1'] } })
  await assert.rejects(restoreBackupFile(file, target, identity()), /arbor\.db exists; restore creates a new data directory/)
  assert.ok(statSync(file).size > 0)
})

test('truncateAfter drops the entries after an index and keeps their terms right', () => {
  const path = temp.newPath()
  const db = temp.open(path)
  const log = new SqliteLogStore(db)
  log.append([1, 1, 2, 2, 3].map((term, i) => ({ index: i + 1, term, type: 'normal' as const, data: '' })))
  log.truncateAfter(3)
  assert.equal(log.lastIndex(), 3)
  assert.equal(log.term(3), 2)
  assert.throws(() => log.term(4), /beyond last index 3/)
  log.truncateAfter(7)
  assert.equal(log.lastIndex(), 3)
  log.append([{ index: 4, term: 4, type: 'normal', data: '' }])
  assert.equal(log.term(4), 4)
  temp.close(db)
  const reopened = new SqliteLogStore(temp.open(path))
  assert.equal(reopened.lastIndex(), 4)
  assert.equal(reopened.term(3), 2)
})
