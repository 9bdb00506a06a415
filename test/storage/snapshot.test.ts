/**
 * State snapshots for InstallSnapshot: `importState(exportState(a))` makes another member's
 * tree, history, applied index and membership equal to a's, and nothing else; a damaged
 * snapshot is refused before anything changes. Method: two databases, compared through
 * their views and through a second export.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  MemberMeta,
  SnapshotFormatError,
  SqliteAuthBackend,
  SqliteLogStore,
  SqliteStoreBackend,
  exportState,
  importState,
  type ArborDatabase,
} from '../../src/storage/index.js'
import type { HistoryRecord, NodeRecord } from '../../src/store/index.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

/** In UTF-8 byte order, as `descendants` answers them. */
const sourceNodes: NodeRecord[] = [
  { key: '/d', dir: true, value: '', createdIndex: 1, modifiedIndex: 1, expiresAtMs: 1_700_000_060_000 },
  { key: '/d/Ａ', dir: false, value: '', createdIndex: 3, modifiedIndex: 3, expiresAtMs: 1_700_000_001_000 },
  { key: '/d/😀', dir: false, value: 'line\nü\u0000"quoted"', createdIndex: 2, modifiedIndex: 4, expiresAtMs: null },
  { key: '/e', dir: false, value: '{"json":true}', createdIndex: 5, modifiedIndex: 5, expiresAtMs: null },
]

function event(index: number, action: HistoryRecord['action'] = 'set'): HistoryRecord {
  return { index, action, key: '/d', dir: action === 'expire', refresh: index === 4, json: `{"action":"${action}","i":${index}}\n` }
}

/** A member with state: 4 nodes, events 3..5 (1..2 trimmed), applied index 17, 2 members, 1 removed. */
function source(): ArborDatabase {
  const db = temp.open()
  const tree = new SqliteStoreBackend(db)
  const meta = new MemberMeta(db)
  for (const n of sourceNodes) tree.putNode(n)
  for (let i = 1; i <= 5; i++) tree.appendEvent(event(i, i === 5 ? 'expire' : 'set'))
  tree.trimEventsBefore(3)
  meta.setAppliedIndex(17)
  meta.upsertMember({ id: 'a1', name: 's1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'] })
  meta.upsertMember({ id: 'b2', name: '', peerUrls: ['http://127.0.0.2:2380'], clientUrls: [] })
  meta.upsertMember({ id: 'c3', name: 's3', peerUrls: ['http://127.0.0.3:2380'], clientUrls: [] })
  meta.removeMember('c3')
  return db
}

/** A member with other state, a log and an identity of its own. */
function target(): { db: ArborDatabase; tree: SqliteStoreBackend; meta: MemberMeta; log: SqliteLogStore } {
  const db = temp.open()
  const tree = new SqliteStoreBackend(db)
  const meta = new MemberMeta(db)
  const log = new SqliteLogStore(db)
  tree.putNode({ key: '/old', dir: false, value: 'x', createdIndex: 1, modifiedIndex: 1, expiresAtMs: 5 })
  tree.appendEvent(event(1))
  meta.setAppliedIndex(3)
  meta.setMemberId('b2')
  meta.upsertMember({ id: 'zz', name: 'gone', peerUrls: [], clientUrls: [] })
  log.append([{ index: 1, term: 1, type: 'normal', data: '' }])
  log.setHardState({ term: 1, vote: 'b2', commit: 1 })
  return { db, tree, meta, log }
}

test('importing a snapshot reproduces the tree, history, applied index and membership', () => {
  const t = target()
  importState(t.db, exportState(source()))
  assert.deepEqual(t.tree.descendants('/'), sourceNodes)
  assert.deepEqual(t.tree.eventsFrom(0, 100), [event(3), event(4), event(5, 'expire')])
  assert.equal(t.tree.lastEventIndex(), 5)
  assert.equal(t.tree.earliestExpirationMs(), 1_700_000_001_000)
  assert.equal(t.meta.appliedIndex(), 17)
  assert.deepEqual(
    t.meta.listMembers().map((m) => m.id),
    ['a1', 'b2'],
  )
  assert.deepEqual(t.meta.removedMemberIds(), ['c3'])
})

test('a snapshot re-exported after import is byte for byte the same', () => {
  const bytes = exportState(source())
  const t = target()
  importState(t.db, bytes)
  assert.deepEqual(exportState(t.db), bytes)
})

test('importing leaves the Raft log, hard state and member id alone', () => {
  const t = target()
  importState(t.db, exportState(source()))
  assert.equal(t.log.lastIndex(), 1)
  assert.deepEqual(t.log.initialState().hardState, { term: 1, vote: 'b2', commit: 1 })
  assert.equal(t.meta.memberId(), 'b2')
})

test('the newest event index travels even when the history is empty', () => {
  const a = temp.open()
  const tree = new SqliteStoreBackend(a)
  for (let i = 1; i <= 3; i++) tree.appendEvent(event(i))
  tree.trimEventsBefore(4)
  const t = target()
  importState(t.db, exportState(a))
  assert.equal(t.tree.lastEventIndex(), 3)
  assert.equal(t.tree.oldestEventIndex(), undefined)
  t.tree.appendEvent(event(4))
})

test('an empty state round-trips', () => {
  const t = target()
  importState(t.db, exportState(temp.open()))
  assert.deepEqual(t.tree.descendants('/'), [])
  assert.equal(t.tree.lastEventIndex(), 0)
  assert.equal(t.meta.appliedIndex(), 0)
  assert.deepEqual(t.meta.listMembers(), [])
})

test('the auth state (users, roles, enabled flag) travels with the snapshot and replaces the old one', () => {
  const a = temp.open()
  const auth = new SqliteAuthBackend(a)
  a.transaction(() => {
    auth.putUser({ name: 'root', passwordHash: '$2y$10$hash', roles: ['root'] })
    auth.putUser({ name: 'carol', passwordHash: '$2y$10$other', roles: null })
    auth.putRole({ name: 'guest', permissions: { read: ['/pub/*'], write: null } })
    auth.setEnabled(true)
  })
  const b = temp.open()
  const stale = new SqliteAuthBackend(b)
  b.transaction(() => stale.putUser({ name: 'stale', passwordHash: 'x', roles: [] }))
  importState(b, exportState(a))
  assert.deepEqual(stale.load(), auth.load())
  assert.equal(stale.load().enabled, true)
  const text = new TextDecoder().decode(exportState(b))
  assert.doesNotMatch(text, /"password"/, 'hashes only')
})

/** Damages the text of a good snapshot. */
function damaged(edit: (text: string) => string): Uint8Array {
  const text = new TextDecoder().decode(exportState(source()))
  const edited = edit(text)
  assert.notEqual(edited, text, 'the damage did not apply')
  return new TextEncoder().encode(edited)
}

const damages = [
  { name: 'truncated before the end line', data: () => damaged((t) => t.replace(/\["end",.*\n/, '')) },
  { name: 'cut in the middle of a line', data: () => damaged((t) => t.slice(0, t.length / 2)) },
  { name: 'a row missing', data: () => damaged((t) => t.replace(/^\["nodes","\/e".*\n/m, '')) },
  { name: 'a row of an unknown table', data: () => damaged((t) => t.replace('["removed_members","c3"]', '["x","c3"]')) },
  { name: 'a row with a value too many', data: () => damaged((t) => t.replace('["removed_members","c3"]', '["removed_members","c3",1]')) },
  { name: 'an event with an unknown action', data: () => damaged((t) => t.replace('"expire",', '"explode",')) },
  { name: 'a node with a non-integer index', data: () => damaged((t) => t.replace('["nodes","/e",0,"{\\"json\\":true}",5', '["nodes","/e",0,"{\\"json\\":true}",5.5')) },
  { name: 'a node without its parent directory', data: () => damaged((t) => t.replace(/^\["nodes","\/d",1.*\n/m, '["nodes","/x",0,"",1,1,null]\n')) },
  { name: 'a gap in the events', data: () => damaged((t) => t.replace('["history",4,', '["history",7,')) },
  { name: 'two rows with one key', data: () => damaged((t) => t.replace('["removed_members","c3"]', '["removed_members","c3"]\n["removed_members","c3"]').replace(',1]]', ',2]]')) },
  { name: 'another format', data: () => damaged((t) => t.replace('arbor-state', 'other')) },
  { name: 'a newer version', data: () => damaged((t) => t.replace('"version":2', '"version":3')) },
  { name: 'of another table layout', data: () => damaged((t) => t.replace('"expires_at_ms"]', '"expires_at_ms","ttl"]')) },
  { name: 'not UTF-8', data: () => new Uint8Array([0xff, 0xfe, 0x0a]) },
  { name: 'empty', data: () => new Uint8Array(0) },
]
for (const d of damages) {
  test(`a snapshot that is ${d.name} is refused and changes nothing`, () => {
    const t = target()
    const before = exportState(t.db)
    assert.throws(() => importState(t.db, d.data()), SnapshotFormatError)
    assert.deepEqual(exportState(t.db), before)
    assert.equal(t.tree.lastEventIndex(), 1)
  })
}
