/**
 * A consistent copy of a member's applied state, for InstallSnapshot (Raft §7; ARCHITECTURE
 * decision 7): the tree, the event history, the applied index, the membership and the v2
 * auth state (users, roles, the enabled flag). The Raft
 * log and hard state are not in it (they belong to the receiving member), nor are the
 * member's own id and the cluster id.
 *
 * Encoding: UTF-8 text, one JSON value per line ('\n' never occurs inside JSON.stringify's
 * output). The first line is the header, then one array per row, then `["end"]`:
 *
 *   {"format":"arbor-state","version":1,"appliedIndex":12,"lastEventIndex":9,"nodes":1,"events":1,"members":1,"removed":0}
 *   ["n","/a",0,"1",9,9,null]                       key, dir, value, createdIndex, modifiedIndex, expiresAtMs
 *   ["e",9,"set","/a",0,0,"{\"action\":\"set\",...}\n"]   index, action, key, dir, refresh, json
 *   ["m","8e9e05c52164694d","s1",["http://…"],["http://…"]]  id, name, peerUrls, clientUrls
 *   ["r","26dc8d3e4a506d2c"]                        a removed member id
 *   ["u","alice","$2y$10$…",["reader"]]            auth user: name, bcrypt hash, roles (or null)
 *   ["o","reader",["/pub/*"],null]                  auth role: name, read, write (or null)
 *   ["end"]
 *
 * The header's `users`, `roles` and `authEnabled` (0/1) describe the auth state; a header
 * without them (written before auth existed) means none and off.
 *
 * The header's counts and the final `["end"]` make a truncated copy fail to import.
 */
import { assert } from '../lib/index.js'
import type { ArborDatabase } from './database.js'
import { metaKey } from './schema.js'
import { eventActions, parentOf, readLastEventIndex } from './sqlite-store-backend.js'
import { stringListOf } from './sqlite-auth-backend.js'
import type { HistoryRow, MemberRow, NodeRow } from './statements.js'

/** The data is not a state snapshot this version can read; nothing was changed. */
export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError'
}

const format = 'arbor-state'
const formatVersion = 1

interface Header {
  format: string
  version: number
  appliedIndex: number
  lastEventIndex: number
  nodes: number
  events: number
  members: number
  removed: number
  users?: number
  roles?: number
  authEnabled?: number
}

type NodeLine = ['n', string, number, string, number, number, number | null]
type EventLine = ['e', number, string, string, number, number, string]
type MemberLine = ['m', string, string, string[], string[]]
type RemovedLine = ['r', string]
type UserLine = ['u', string, string, string[] | null]
type RoleLine = ['o', string, string[] | null, string[] | null]

/** The decoded rows of a snapshot, checked, ready to insert. */
interface StateRows {
  header: Header
  nodes: NodeLine[]
  events: EventLine[]
  members: MemberLine[]
  removed: RemovedLine[]
  users: UserLine[]
  roles: RoleLine[]
}

/** Encodes the state tables of `db` as they are now (read in one transaction). */
export function exportState(db: ArborDatabase): Uint8Array {
  const s = db.statements
  const lines = db.transaction(() => {
    const nodes = s.nodes.all.all().map(nodeLine)
    const events = s.history.all.all().map(eventLine)
    const members = s.members.list.all().map(memberLine)
    const removed = s.members.listRemoved.all().map((r): RemovedLine => ['r', r.id])
    const users = s.auth.users.all().map((r): UserLine => ['u', r.name, r.password_hash, stringListOf(r.roles)])
    const roles = s.auth.roles.all().map((r): RoleLine => ['o', r.name, stringListOf(r.read), stringListOf(r.write)])
    const authEnabled = s.meta.get.get(metaKey.authEnabled)?.value ?? 0
    assert(authEnabled === 0 || authEnabled === 1, 'meta auth_enabled is not 0 or 1')
    const applied = s.meta.get.get(metaKey.appliedIndex)?.value ?? 0
    assert(typeof applied === 'number', 'meta applied_index is not a number')
    const header: Header = {
      format,
      version: formatVersion,
      appliedIndex: applied,
      lastEventIndex: readLastEventIndex(s),
      nodes: nodes.length,
      events: events.length,
      members: members.length,
      removed: removed.length,
      users: users.length,
      roles: roles.length,
      authEnabled,
    }
    return [header, ...nodes, ...events, ...members, ...removed, ...users, ...roles, ['end']].map((line) => JSON.stringify(line))
  })
  return new TextEncoder().encode(lines.join('\n') + '\n')
}

function nodeLine(r: NodeRow): NodeLine {
  return ['n', r.key, r.dir, r.value, r.created_index, r.modified_index, r.expires_at_ms]
}

function eventLine(r: HistoryRow): EventLine {
  return ['e', r.idx, r.action, r.key, r.dir, r.refresh, r.json]
}

function memberLine(r: MemberRow): MemberLine {
  return ['m', r.id, r.name, JSON.parse(r.peer_urls) as string[], JSON.parse(r.client_urls) as string[]]
}

/**
 * Replaces the tree, history, applied index and membership of `db` by `data` (from
 * `exportState`), in one transaction, then reloads the cached values of every view.
 *
 * @throws SnapshotFormatError when `data` is not a complete snapshot; `db` is unchanged.
 */
export function importState(db: ArborDatabase, data: Uint8Array): void {
  const rows = decodeState(data)
  const s = db.statements
  db.transaction(() => {
    s.nodes.deleteAll.run()
    s.history.deleteAll.run()
    s.members.deleteAll.run()
    s.members.deleteAllRemoved.run()
    for (const [, key, dir, value, created, modified, expires] of rows.nodes) {
      s.nodes.put.run(key, dir, value, created, modified, expires)
    }
    for (const [, idx, action, key, dir, refresh, json] of rows.events) {
      s.history.insert.run(idx, action, key, dir, refresh, json)
    }
    for (const [, id, name, peerUrls, clientUrls] of rows.members) {
      s.members.upsert.run(id, name, JSON.stringify(peerUrls), JSON.stringify(clientUrls))
    }
    for (const [, id] of rows.removed) s.members.insertRemoved.run(id)
    s.auth.deleteAllUsers.run()
    s.auth.deleteAllRoles.run()
    for (const [, name, hash, roles] of rows.users) s.auth.putUser.run(name, hash, JSON.stringify(roles))
    for (const [, name, read, write] of rows.roles) s.auth.putRole.run(name, JSON.stringify(read), JSON.stringify(write))
    s.meta.put.run(metaKey.authEnabled, rows.header.authEnabled ?? 0)
    s.meta.put.run(metaKey.appliedIndex, rows.header.appliedIndex)
    s.meta.put.run(metaKey.historyLastIndex, rows.header.lastEventIndex)
  })
  db.reloadCaches()
}

/** Parses and checks every line before anything is written. */
function decodeState(data: Uint8Array): StateRows {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data)
  } catch {
    throw new SnapshotFormatError('state snapshot is not UTF-8')
  }
  const lines = text.split('\n')
  if (lines.pop() !== '') throw new SnapshotFormatError('state snapshot does not end with a newline')
  const header = checkHeader(parseLine(lines[0] ?? '', 1))
  const rows: StateRows = { header, nodes: [], events: [], members: [], removed: [], users: [], roles: [] }
  for (let i = 1; i < lines.length - 1; i++) addRow(rows, parseLine(lines[i] ?? '', i + 1), i + 1)
  const last = lines.length > 1 ? parseLine(lines[lines.length - 1] ?? '', lines.length) : undefined
  if (!isTuple(last, ['end'])) throw new SnapshotFormatError('state snapshot is truncated (no end line)')
  const counts = [rows.nodes.length, rows.events.length, rows.members.length, rows.removed.length, rows.users.length, rows.roles.length]
  const want = [header.nodes, header.events, header.members, header.removed, header.users ?? 0, header.roles ?? 0]
  if (counts.join() !== want.join()) {
    throw new SnapshotFormatError(`state snapshot has ${counts.join('/')} rows, header says ${want.join('/')}`)
  }
  checkTree(rows.nodes)
  checkHistory(rows.events, header.lastEventIndex)
  return rows
}

/** Every node has a cleaned key and a parent directory listed before it (rows come in key order). */
function checkTree(nodes: readonly NodeLine[]): void {
  const dirs = new Set<string>(['/'])
  for (const [, key, dir] of nodes) {
    if (!key.startsWith('/') || key === '/' || key.endsWith('/') || !dirs.has(parentOf(key))) {
      throw new SnapshotFormatError(`state snapshot node ${JSON.stringify(key)} has a bad key or no parent directory`)
    }
    if (dir === 1) dirs.add(key)
  }
}

/** Events are consecutive and end at the newest event index. */
function checkHistory(events: readonly EventLine[], lastEventIndex: number): void {
  for (let i = 1; i < events.length; i++) {
    if (events[i]?.[1] !== (events[i - 1]?.[1] ?? 0) + 1) throw new SnapshotFormatError('state snapshot events are not consecutive')
  }
  const newest = events[events.length - 1]?.[1]
  if (newest !== undefined && newest !== lastEventIndex) {
    throw new SnapshotFormatError(`state snapshot events end at ${newest}, header says ${lastEventIndex}`)
  }
}

function parseLine(line: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line)
  } catch {
    throw new SnapshotFormatError(`state snapshot line ${lineNumber} is not JSON`)
  }
}

function checkHeader(value: unknown): Header {
  const h = value as Partial<Header> | null
  if (typeof h !== 'object' || h === null || h.format !== format) {
    throw new SnapshotFormatError('not an arbor state snapshot')
  }
  if (h.version !== formatVersion) {
    throw new SnapshotFormatError(`state snapshot version ${String(h.version)} is not ${formatVersion}`)
  }
  const numbers = [h.appliedIndex, h.lastEventIndex, h.nodes, h.events, h.members, h.removed]
  if (!numbers.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
    throw new SnapshotFormatError('state snapshot header has a bad count or index')
  }
  const authNumbers = [h.users ?? 0, h.roles ?? 0]
  if (!authNumbers.every((n) => Number.isSafeInteger(n) && n >= 0) || ![undefined, 0, 1].includes(h.authEnabled)) {
    throw new SnapshotFormatError('state snapshot header has a bad auth count or flag')
  }
  return h as Header
}

/** Checks one row's shape by the kinds of its fields ('s' string, 'i' integer, 'b' 0/1, …). */
function addRow(rows: StateRows, value: unknown, lineNumber: number): void {
  if (isTuple(value, ['n', 's', 'b', 's', 'i', 'i', 'i?'])) rows.nodes.push(value as NodeLine)
  else if (isTuple(value, ['e', 'i', 's', 's', 'b', 'b', 's']) && eventActions.has((value as EventLine)[2])) {
    rows.events.push(value as EventLine)
  }
  else if (isTuple(value, ['m', 's', 's', 'ss', 'ss'])) rows.members.push(value as MemberLine)
  else if (isTuple(value, ['r', 's'])) rows.removed.push(value as RemovedLine)
  else if (isTuple(value, ['u', 's', 's', 'ss?'])) rows.users.push(value as UserLine)
  else if (isTuple(value, ['o', 's', 'ss?', 'ss?'])) rows.roles.push(value as RoleLine)
  else throw new SnapshotFormatError(`state snapshot line ${lineNumber} is not a row`)
}

/**
 * Whether `value` is an array whose first item is the tag `kinds[0]` and whose other items
 * are of the given kinds (see `isKind`).
 */
function isTuple(value: unknown, kinds: readonly string[]): boolean {
  if (!Array.isArray(value) || value.length !== kinds.length || value[0] !== kinds[0]) return false
  for (let i = 1; i < kinds.length; i++) {
    if (!isKind(value[i], kinds[i] ?? '')) return false
  }
  return true
}

/** 's' string, 'i' integer, 'i?' integer or null, 'b' 0 or 1, 'ss' array of strings, 'ss?' that or null. */
function isKind(item: unknown, kind: string): boolean {
  switch (kind) {
    case 's':
      return typeof item === 'string'
    case 'i':
      return Number.isSafeInteger(item)
    case 'i?':
      return item === null || Number.isSafeInteger(item)
    case 'b':
      return item === 0 || item === 1
    case 'ss':
      return Array.isArray(item) && item.every((x) => typeof x === 'string')
    case 'ss?':
      return item === null || (Array.isArray(item) && item.every((x) => typeof x === 'string'))
    default:
      return false
  }
}
