/**
 * A consistent copy of a member's applied state, for InstallSnapshot (Raft §7; ARCHITECTURE
 * decision 7), streamed: the leader reads the state tables in key order, a bounded chunk at
 * a time, inside one read transaction on a connection of its own (`openStateReader`: a
 * SQLite WAL reader sees one snapshot of the file for the life of its transaction, whatever
 * the member loop commits meanwhile); the follower writes the rows into staging tables of its
 * own database as they arrive (`StateStager`), and replaces its state tables by them in one
 * transaction once the last chunk landed (`StateStager.install`). Neither side ever holds more
 * than a chunk and one row in memory, whatever the size of the state. The Raft log and hard
 * state are not in it (they belong to the receiving member), nor are the member's own id and
 * the cluster id.
 *
 * Encoding: UTF-8 text, one JSON value per line ('\n' never occurs inside JSON.stringify's
 * output). The first line is the header, then one array per row (the table's name, then its
 * columns in table order), tables in the order of `stateTables` and rows in key order, then
 * the end line with the row count of each table:
 *
 *   {"format":"arbor-state","version":2,"appliedIndex":12,"lastEventIndex":9,"authEnabled":0,"tables":[["nodes",["key","dir",…]],…]}
 *   ["nodes","/a",0,"1",9,9,null]
 *   ["history",9,"set","/a",0,0,"{\"action\":\"set\",...}\n"]
 *   ["members","8e9e05c52164694d","s1","[\"http://…\"]","[\"http://…\"]"]
 *   ["removed_members","26dc8d3e4a506d2c"]
 *   ["auth_users","alice","$2b$10$…","[\"reader\"]"]
 *   ["end",[1,1,1,1,1,0]]
 *
 * The end line and its counts make a truncated copy fail to install; the header's column
 * lists make a copy from a member with another layout fail before any row is written.
 */
import Database from 'better-sqlite3'
import { assert } from '../lib/index.js'
import { isAction } from '../records/index.js'
import type { ArborDatabase } from './database.js'
import { metaKey, tablesSql } from './schema.js'
import { parentOf } from './sqlite-store-backend.js'

/** The data is not a state snapshot this version can read; the state was not changed. */
export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError'
}

/** A table of applied state that a snapshot copies whole. */
export interface StateTable {
  readonly name: string
  /** Its primary key columns: rows are read and sent in this order (keyset pagination). */
  readonly key: readonly string[]
}

/**
 * THE list of the tables a snapshot copies, in the order they travel. A new table of applied
 * state (one that applying log entries writes) belongs here, or a member that catches up by
 * snapshot would miss it. Besides these, the snapshot carries two values of `meta`: the
 * applied index and the newest event index.
 */
export const stateTables: readonly StateTable[] = [
  { name: 'nodes', key: ['key'] },
  { name: 'history', key: ['idx'] },
  { name: 'members', key: ['id'] },
  { name: 'removed_members', key: ['id'] },
  { name: 'auth_users', key: ['name'] },
  { name: 'auth_roles', key: ['name'] },
]

/** Prefix of the staging tables a follower fills while a snapshot arrives. */
const stagedPrefix = 'staged_'

const format = 'arbor-state'
const formatVersion = 2

interface Header {
  format: string
  version: number
  appliedIndex: number
  lastEventIndex: number
  /** Whether v2 auth is on (meta `auth_enabled`): 0 or 1. */
  authEnabled: number
  /** Each state table's name and column names, in `stateTables` order. */
  tables: [string, string[]][]
}

/** A column as `PRAGMA table_info` describes it. */
interface Column {
  readonly name: string
  readonly type: string
  readonly notnull: number
  readonly pk: number
}

/** The columns of `table` on `sql`, in table order. */
function columnsOf(sql: Database.Database, table: string): Column[] {
  const columns = sql.prepare<[], Column>(`SELECT name, type, "notnull", pk FROM pragma_table_info('${table}')`).all()
  assert(columns.length > 0, `state table ${table} does not exist`)
  return columns
}

// ---- the leader's side: reading --------------------------------------------------------------

/** The state of a member as it stood when the reader was opened, as chunks of encoded text. */
export interface StateReader {
  /** Raft index of the last entry applied to the state being read. */
  readonly appliedIndex: number
  /**
   * The next chunk: whole lines of about `chunkBytes` (more only when one row alone is
   * larger), or `undefined` once everything was returned. Synchronous: one bounded read.
   */
  next(): Uint8Array | undefined
  /** Ends the read transaction and closes the connection. Idempotent. */
  close(): void
}

/**
 * Opens a reader of the state of `db` as committed now: a read transaction on a new
 * connection to the same file, held until `close`. Call it between two transactions of the
 * member loop (right after a turn committed): the snapshot it reads is then exactly the
 * state at the applied index that turn left. While it is open the WAL cannot be checkpointed
 * past its snapshot, so close it as soon as the transfer ends.
 *
 * @param chunkBytes the size of one chunk, roughly (characters of text): bounds memory.
 */
export function openStateReader(db: ArborDatabase, chunkBytes: number): StateReader {
  assert(Number.isSafeInteger(chunkBytes), 'openStateReader: chunkBytes must be an integer')
  assert(chunkBytes >= 1, 'openStateReader: chunkBytes must be positive')
  const sql = new Database(db.path, { readonly: true, fileMustExist: true })
  try {
    sql.exec('BEGIN')
    return new SqliteStateReader(sql, chunkBytes)
  } catch (error) {
    sql.close()
    throw error
  }
}

class SqliteStateReader implements StateReader {
  readonly appliedIndex: number
  private readonly header: Header
  private readonly counts: number[] = stateTables.map(() => 0)
  private readonly encoder = new TextEncoder()
  /** Where the reading stands: the header, a table (with the key of its last row sent), the end. */
  private position: { kind: 'header' } | { kind: 'table'; table: number; after: unknown[] | undefined } | { kind: 'end' } | { kind: 'done' } = {
    kind: 'header',
  }
  private closed = false
  /** The next row would have passed the chunk's size: the chunk ends here. */
  private chunkFull = false

  constructor(
    private readonly sql: Database.Database,
    private readonly chunkBytes: number,
  ) {
    // The first read fixes the snapshot the whole transaction sees (SQLite WAL read lock).
    const applied = sql.prepare<[string], { value: unknown }>('SELECT value FROM meta WHERE key = ?').get(metaKey.appliedIndex)?.value ?? 0
    assert(typeof applied === 'number', 'meta applied_index is not a number')
    this.appliedIndex = applied
    const tables = stateTables.map((t): [string, string[]] => [t.name, columnsOf(sql, t.name).map((c) => c.name)])
    const authEnabled = sql.prepare<[string], { value: unknown }>('SELECT value FROM meta WHERE key = ?').get(metaKey.authEnabled)?.value ?? 0
    assert(authEnabled === 0 || authEnabled === 1, 'meta auth_enabled is not 0 or 1')
    this.header = { format, version: formatVersion, appliedIndex: applied, lastEventIndex: lastEventIndexOf(sql), authEnabled, tables }
  }

  next(): Uint8Array | undefined {
    assert(!this.closed, 'StateReader.next after close')
    if (this.position.kind === 'done') return undefined
    const lines: string[] = []
    let size = 0
    this.chunkFull = false
    while (size < this.chunkBytes && !this.chunkFull && !this.done()) size += this.readLines(lines, this.chunkBytes - size)
    return this.encoder.encode(lines.join('\n') + '\n')
  }

  private done(): boolean {
    return this.position.kind === 'done'
  }

  /** Adds lines worth at most about `budget` characters (at least one line); returns their size. */
  private readLines(lines: string[], budget: number): number {
    const position = this.position
    switch (position.kind) {
      case 'header': {
        const line = JSON.stringify(this.header)
        lines.push(line)
        this.position = { kind: 'table', table: 0, after: undefined }
        return line.length + 1
      }
      case 'table':
        return this.readRows(lines, budget, position.table, position.after)
      case 'end': {
        const line = JSON.stringify(['end', this.counts])
        lines.push(line)
        this.position = { kind: 'done' }
        return line.length + 1
      }
      case 'done':
        return 0
    }
  }

  /**
   * Rows of table `index` after the key `after`, in key order, while they fit in `budget`
   * bytes; a row larger than a whole chunk goes alone. `lines` holds the chunk so far.
   */
  private readRows(lines: string[], budget: number, index: number, after: unknown[] | undefined): number {
    const table = stateTables[index]
    assert(table !== undefined, 'readRows: no such state table')
    const keys = table.key.map((k) => `"${k}"`).join(', ')
    const where = after === undefined ? '' : `WHERE (${keys}) > (${table.key.map(() => '?').join(', ')})`
    const statement = this.sql.prepare(`SELECT * FROM "${table.name}" ${where} ORDER BY ${keys}`).raw(true)
    const keyAt = table.key.map((k) => (this.header.tables[index]?.[1] ?? []).indexOf(k))
    let size = 0
    let last: unknown[] | undefined
    for (const row of statement.iterate(...(after ?? [])) as Iterable<unknown[]>) {
      const line = JSON.stringify([table.name, ...row])
      const lineBytes = Buffer.byteLength(line) + 1
      if (lines.length > 0 && size + lineBytes > budget) {
        this.chunkFull = true
        break
      }
      lines.push(line)
      size += lineBytes
      last = row
      this.counts[index] = (this.counts[index] ?? 0) + 1
      if (size >= budget) {
        this.chunkFull = true
        break
      }
    }
    if (!this.chunkFull) {
      // The table is done. (A chunk filled exactly by its last row ends as full: the next
      // call then finds no row after it and moves on.)
      this.position = index + 1 < stateTables.length ? { kind: 'table', table: index + 1, after: undefined } : { kind: 'end' }
    } else if (last !== undefined) {
      const row = last
      this.position = { kind: 'table', table: index, after: keyAt.map((i) => row[i]) }
    }
    return size
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.sql.inTransaction) this.sql.exec('COMMIT')
    this.sql.close()
  }
}

function lastEventIndexOf(sql: Database.Database): number {
  const newest = sql.prepare<[], { newest: number | null }>('SELECT MAX(idx) AS newest FROM history').get()?.newest ?? 0
  const saved = sql.prepare<[string], { value: unknown }>('SELECT value FROM meta WHERE key = ?').get(metaKey.historyLastIndex)?.value ?? 0
  assert(typeof saved === 'number', 'meta history_last_index is not a number')
  return Math.max(newest, saved)
}

// ---- the follower's side: staging and installing ---------------------------------------------

/** Per table, what is known to check a row: its columns, and the checks of its own. */
interface StagedTable {
  readonly name: string
  readonly columns: readonly Column[]
  readonly insert: Database.Statement<unknown[]>
  rows: number
}

/** A staging that received every chunk: ready to be installed. */
interface Complete {
  readonly transferId: string
  readonly appliedIndex: number
  readonly lastEventIndex: number
  readonly authEnabled: number
}

/**
 * Receives the chunks of one snapshot at a time into staging tables (`staged_<name>`) of the
 * member's own database, each chunk in one transaction, checking every row before it is
 * written. Starting a transfer discards whatever was staged before (a leader that restarted
 * or changed starts over); the state tables themselves are never touched here.
 */
export class StateStager {
  private transferId: string | undefined
  private header: Header | undefined
  private tables: StagedTable[] = []
  /** Bytes of a line not yet complete (the rest comes with the next chunk). */
  private pending: Uint8Array = new Uint8Array(0)
  private ended = false
  private complete: Complete | undefined
  private lastNodeParent = ''
  private lastEventIndex: number | undefined
  private parentLookup: Database.Statement<[string], { dir: number }> | undefined
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  constructor(private readonly db: ArborDatabase) {}

  /** Starts staging transfer `transferId`, discarding any staging before it. */
  begin(transferId: string): void {
    this.discard()
    this.transferId = transferId
    const sql = this.db.connection
    this.db.transaction(() => {
      for (const t of stateTables) sql.exec(stagedTableSql(sql, t.name))
    }, false)
  }

  /**
   * Writes the rows `data` completes, in one transaction.
   * @throws SnapshotFormatError when a row or the header is not what this member can install;
   *         the staging is then discarded.
   */
  write(transferId: string, data: Uint8Array): void {
    assert(transferId === this.transferId, 'StateStager.write: not the transfer being staged')
    try {
      this.db.transaction(() => this.writeLines(data), false)
    } catch (error) {
      this.discard()
      throw error
    }
  }

  /**
   * The last chunk was written: checks that nothing is missing and returns the token that
   * names this staging to `install` (it travels as the snapshot's data through Raft).
   * @throws SnapshotFormatError when the copy is incomplete; the staging is then discarded.
   */
  finish(transferId: string): Uint8Array {
    assert(transferId === this.transferId, 'StateStager.finish: not the transfer being staged')
    const header = this.header
    if (this.pending.byteLength > 0 || !this.ended || header === undefined) {
      this.discard()
      throw new SnapshotFormatError('state snapshot is truncated (no end line)')
    }
    this.complete = { transferId, appliedIndex: header.appliedIndex, lastEventIndex: header.lastEventIndex, authEnabled: header.authEnabled }
    return new TextEncoder().encode(JSON.stringify({ format: 'arbor-staged-state', transferId, appliedIndex: header.appliedIndex }))
  }

  /** Drops the staging tables and forgets the transfer. */
  discard(): void {
    this.transferId = undefined
    this.header = undefined
    this.tables = []
    this.pending = new Uint8Array(0)
    this.ended = false
    this.complete = undefined
    this.lastNodeParent = ''
    this.lastEventIndex = undefined
    this.parentLookup = undefined
    discardStagedTables(this.db)
  }

  /**
   * Replaces the state tables by the staging named by `token` (from `finish`), inside the
   * caller's transaction: the tables are swapped by renaming, their indexes rebuilt, the
   * applied and newest event indexes written; then every view's caches are reloaded.
   * @throws SnapshotFormatError when `token` does not name the completed staging.
   */
  install(token: Uint8Array): void {
    const complete = this.complete
    let named: { transferId?: unknown } | undefined
    try {
      named = JSON.parse(new TextDecoder().decode(token)) as { transferId?: unknown }
    } catch {
      named = undefined
    }
    if (complete === undefined || named?.transferId !== complete.transferId) {
      throw new SnapshotFormatError('no staged state snapshot matches the one to install')
    }
    const sql = this.db.connection
    this.db.transaction(() => {
      for (const t of stateTables) {
        sql.exec(`DROP TABLE "${t.name}"`)
        sql.exec(`ALTER TABLE "${stagedPrefix}${t.name}" RENAME TO "${t.name}"`)
      }
      // The indexes went with the old tables: build them again on the new ones.
      sql.exec(tablesSql)
      const put = this.db.statements.meta.put
      put.run(metaKey.appliedIndex, complete.appliedIndex)
      put.run(metaKey.historyLastIndex, complete.lastEventIndex)
      put.run(metaKey.authEnabled, complete.authEnabled)
    })
    this.transferId = undefined
    this.header = undefined
    this.tables = []
    this.complete = undefined
    this.parentLookup = undefined
    this.db.reloadCaches()
  }

  private writeLines(data: Uint8Array): void {
    const joined = concat(this.pending, data)
    const lastNewline = joined.lastIndexOf(0x0a)
    this.pending = joined.slice(lastNewline + 1)
    if (lastNewline < 0) return
    let text: string
    try {
      text = this.decoder.decode(joined.subarray(0, lastNewline))
    } catch {
      throw new SnapshotFormatError('state snapshot is not UTF-8')
    }
    for (const line of text.split('\n')) this.writeLine(line)
  }

  private writeLine(line: string): void {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      throw new SnapshotFormatError('state snapshot line is not JSON')
    }
    if (this.ended) throw new SnapshotFormatError('state snapshot has lines after its end line')
    if (this.header === undefined) {
      this.header = checkHeader(value, this.db)
      const sql = this.db.connection
      this.tables = stateTables.map((t) => {
        const columns = columnsOf(sql, t.name)
        const insert = sql.prepare<unknown[]>(`INSERT INTO "${stagedPrefix}${t.name}" VALUES (${columns.map(() => '?').join(', ')})`)
        return { name: t.name, columns, insert, rows: 0 }
      })
      this.parentLookup = sql.prepare<[string], { dir: number }>(`SELECT dir FROM "${stagedPrefix}nodes" WHERE key = ?`)
      return
    }
    if (!Array.isArray(value) || value.length === 0) throw new SnapshotFormatError('state snapshot line is not a row')
    if (value[0] === 'end') {
      this.checkEnd(value)
      return
    }
    const table = this.tables.find((t) => t.name === value[0])
    if (table === undefined) throw new SnapshotFormatError(`state snapshot row of unknown table ${JSON.stringify(value[0])}`)
    const row = value.slice(1) as unknown[]
    checkRow(table, row)
    this.checkOwn(table.name, row)
    try {
      table.insert.run(...row)
    } catch (error) {
      throw new SnapshotFormatError(`state snapshot row of ${table.name} cannot be written: ${(error as Error).message}`)
    }
    table.rows += 1
  }

  /** Checks of the tree and the history: parents before children, consecutive events. */
  private checkOwn(table: string, row: readonly unknown[]): void {
    if (table === 'nodes') {
      const key = row[0] as string
      if (!key.startsWith('/') || key === '/' || key.endsWith('/')) throw new SnapshotFormatError(`state snapshot node ${JSON.stringify(key)} has a bad key`)
      const parent = parentOf(key)
      if (parent !== '/' && parent !== this.lastNodeParent) {
        const found = this.parentLookup?.get(parent)
        if (found?.dir !== 1) throw new SnapshotFormatError(`state snapshot node ${JSON.stringify(key)} has no parent directory`)
        this.lastNodeParent = parent
      }
    } else if (table === 'history') {
      const idx = row[0] as number
      if (!isAction(row[1])) throw new SnapshotFormatError(`state snapshot event ${idx} has an unknown action`)
      if (this.lastEventIndex !== undefined && idx !== this.lastEventIndex + 1) throw new SnapshotFormatError('state snapshot events are not consecutive')
      this.lastEventIndex = idx
    }
  }

  private checkEnd(value: unknown[]): void {
    const counts = value[1]
    const want = this.tables.map((t) => t.rows)
    if (value.length !== 2 || !Array.isArray(counts) || counts.join() !== want.join()) {
      throw new SnapshotFormatError(`state snapshot has ${want.join('/')} rows, its end line says ${JSON.stringify(counts)}`)
    }
    const newest = this.lastEventIndex
    if (newest !== undefined && newest !== this.header?.lastEventIndex) {
      throw new SnapshotFormatError(`state snapshot events end at ${newest}, header says ${this.header?.lastEventIndex}`)
    }
    this.ended = true
  }
}

/** `CREATE TABLE staged_<name>` with the columns and key of the state table `name`. */
function stagedTableSql(sql: Database.Database, name: string): string {
  const row = sql.prepare<[string], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(name)
  assert(row !== undefined, `state table ${name} does not exist`)
  const created = row.sql.replace(/^CREATE TABLE\s+(?:IF NOT EXISTS\s+)?(?:"[^"]+"|\S+)\s*\(/i, `CREATE TABLE "${stagedPrefix}${name}" (`)
  assert(created !== row.sql, `cannot rename the definition of ${name}`)
  return created
}

/** Drops every staging table (a transfer abandoned, or cut by a restart). */
export function discardStagedTables(db: ArborDatabase): void {
  const sql = db.connection
  const staged = sql
    .prepare<[string, string], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, length(?)) = ?")
    .all(stagedPrefix, stagedPrefix)
  if (staged.length === 0) return
  db.transaction(() => {
    for (const { name } of staged) sql.exec(`DROP TABLE "${name}"`)
  }, false)
}

function checkHeader(value: unknown, db: ArborDatabase): Header {
  const h = value as Partial<Header> | null
  if (typeof h !== 'object' || h === null || h.format !== format) throw new SnapshotFormatError('not an arbor state snapshot')
  if (h.version !== formatVersion) throw new SnapshotFormatError(`state snapshot version ${String(h.version)} is not ${formatVersion}`)
  const numbers = [h.appliedIndex, h.lastEventIndex]
  if (!numbers.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
    throw new SnapshotFormatError('state snapshot header has a bad index')
  }
  const ours = stateTables.map((t) => [t.name, columnsOf(db.connection, t.name).map((c) => c.name)])
  if (JSON.stringify(h.tables) !== JSON.stringify(ours)) {
    throw new SnapshotFormatError(`state snapshot tables ${JSON.stringify(h.tables)} are not this member's ${JSON.stringify(ours)}`)
  }
  if (h.authEnabled !== 0 && h.authEnabled !== 1) throw new SnapshotFormatError('state snapshot header has a bad auth flag')
  return h as Header
}

/** A row has one value per column, each of the column's declared type. */
function checkRow(table: StagedTable, row: readonly unknown[]): void {
  if (row.length !== table.columns.length) throw new SnapshotFormatError(`state snapshot row of ${table.name} has ${row.length} values, not ${table.columns.length}`)
  for (let i = 0; i < row.length; i++) {
    const column = table.columns[i]
    assert(column !== undefined)
    const item = row[i]
    const ok =
      item === null
        ? column.notnull === 0 && column.pk === 0
        : column.type === 'INTEGER'
          ? Number.isSafeInteger(item)
          : column.type === 'TEXT'
            ? typeof item === 'string'
            : typeof item === 'string' || typeof item === 'number'
    if (!ok) throw new SnapshotFormatError(`state snapshot row of ${table.name} has a bad ${column.name}`)
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b
  const joined = new Uint8Array(a.byteLength + b.byteLength)
  joined.set(a, 0)
  joined.set(b, a.byteLength)
  return joined
}

// ---- whole copies, for tests and tools --------------------------------------------------------

/**
 * The whole encoded state of `db`, in memory. For tests and small tools only: memory grows
 * with the state (members stream it with `openStateReader`).
 */
export function exportState(db: ArborDatabase, chunkBytes = 1024 * 1024): Uint8Array {
  const reader = openStateReader(db, chunkBytes)
  const pieces: Uint8Array[] = []
  try {
    for (let chunk = reader.next(); chunk !== undefined; chunk = reader.next()) pieces.push(chunk)
  } finally {
    reader.close()
  }
  let joined: Uint8Array = new Uint8Array(0)
  for (const piece of pieces) joined = concat(joined, piece)
  return joined
}

/**
 * Replaces the state of `db` by `data` (from `exportState`): staged, then installed in one
 * transaction. For tests and small tools (members stage chunk by chunk with `StateStager`).
 * @throws SnapshotFormatError when `data` is not a complete snapshot; `db`'s state is unchanged.
 */
export function importState(db: ArborDatabase, data: Uint8Array): void {
  const stager = new StateStager(db)
  stager.begin('import')
  stager.write('import', data)
  stager.install(stager.finish('import'))
}
