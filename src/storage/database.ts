/**
 * Opening a member's database: the file, its pragmas, its schema, its prepared statements,
 * and the one transaction in which the member loop persists a Ready batch and applies the
 * committed entries (STYLE.md §4: one turn, one transaction, at most one fsync).
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { assert } from '../lib/index.js'
import { metaKey, metaTableSql, migrations, schemaVersion, tablesSql } from './schema.js'
import { prepareStatements, type Statements } from './statements.js'
import { discardStagedTables } from './snapshot.js'

/**
 * How hard a commit waits for the disk (SQLite `PRAGMA synchronous`). In WAL mode, FULL
 * fsyncs the log on every commit, so a committed Ready batch survives a power cut (Raft
 * Figure 2 needs votes and entries durable before replying); NORMAL may lose the last
 * commits on power loss (not on a process crash); OFF is for tests and benchmarks only.
 */
export type Synchronous = 'FULL' | 'NORMAL' | 'OFF'

export interface OpenOptions {
  readonly synchronous: Synchronous
}

/**
 * Told after each outermost commit: how long the COMMIT took (seconds, monotonic clock) and
 * whether it synced the disk (a durable transaction on a file opened with synchronous=FULL:
 * in WAL mode the log is fsynced inside the commit). For metrics only: what is written never
 * depends on it. Must not throw.
 */
export type CommitObserver = (seconds: number, synced: boolean) => void

/** How long a statement waits for a lock held by another connection (a backup, the sqlite3 shell). */
const busyTimeoutMs = 5_000

/**
 * Page size of a new file (bytes; an existing file keeps its own: WAL mode fixes it). `nodes`
 * is WITHOUT ROWID, an index b-tree, whose rows stay in their page only up to about a
 * sixteenth of it: with SQLite's default 4 KiB pages a 1 KiB value spills ~50 bytes into an
 * overflow page of its own, 4.6 KB on disk per key (measured: 1 GB of 1 KiB values took
 * 4.6 GB). 16 KiB pages keep rows up to about 4 KB in place (1.17 KB per such key).
 */
const newFilePageBytes = 16_384

/**
 * The WAL file is cut back to this size (bytes) after a checkpoint: once a burst (a large
 * transaction, a long snapshot read holding checkpoints back) has grown it, it does not keep
 * that size on disk for good.
 */
const walBytesKept = 64 * 1024 * 1024

/** The file is of a newer layout than this build knows; opening it could damage it. */
export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError'
}

/**
 * Opens (creating if needed, with its directory) the database at `path`: WAL journal,
 * the given `synchronous`, foreign keys off (no table references another), the schema,
 * and every statement prepared.
 *
 * @throws SchemaVersionError when the file was written by a newer arbor.
 */
export function openDatabase(path: string, options: OpenOptions = { synchronous: 'FULL' }): ArborDatabase {
  mkdirSync(dirname(path), { recursive: true })
  const sql = new Database(path)
  try {
    configure(sql, options)
    createSchema(sql, path)
    const db = new ArborDatabase(sql, prepareStatements(sql), options.synchronous, path)
    // A snapshot being staged when the member stopped is never completed: its leader starts over.
    discardStagedTables(db)
    return db
  } catch (error) {
    sql.close()
    throw error
  }
}

function configure(sql: Database.Database, options: OpenOptions): void {
  // Takes effect only on a file with no table yet (a new one); ignored otherwise.
  sql.pragma(`page_size = ${newFilePageBytes}`)
  const journalMode = sql.pragma('journal_mode = WAL', { simple: true })
  assert(journalMode === 'wal', `journal_mode is ${String(journalMode)}, want wal`)
  sql.pragma(`synchronous = ${options.synchronous}`)
  sql.pragma('foreign_keys = OFF')
  sql.pragma(`busy_timeout = ${busyTimeoutMs}`)
  sql.pragma(`journal_size_limit = ${walBytesKept}`)
}

/**
 * Creates the tables of a new file, or checks the version of an existing one and migrates an
 * older one, one version per transaction (a crash in between leaves a file of one version).
 */
function createSchema(sql: Database.Database, path: string): void {
  sql.exec(metaTableSql)
  const row = sql.prepare<[string], { value: unknown }>('SELECT value FROM meta WHERE key = ?').get(metaKey.schemaVersion)
  if (row !== undefined && typeof row.value === 'number' && row.value > schemaVersion) {
    throw new SchemaVersionError(
      `${path} has schema version ${row.value}, newer than ${schemaVersion} which this arbor knows; use a newer arbor`,
    )
  }
  assert(row === undefined || (Number.isSafeInteger(row.value) && (row.value as number) >= 1), `unexpected schema version ${String(row?.value)}`)
  for (let from = (row?.value as number | undefined) ?? schemaVersion; from < schemaVersion; from++) migrate(sql, from)
  sql.transaction(() => {
    sql.exec(tablesSql)
    sql.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(metaKey.schemaVersion, schemaVersion)
  }).immediate()
}

/** Brings the file from layout version `from` to `from + 1` (schema.ts `migrations`). */
function migrate(sql: Database.Database, from: number): void {
  const script = migrations[from]
  assert(script !== undefined, `no migration from schema version ${from}`)
  sql.transaction(() => {
    sql.exec(script)
    sql.prepare('UPDATE meta SET value = ? WHERE key = ?').run(from + 1, metaKey.schemaVersion)
  }).immediate()
  // A migration rewrites whole tables: fold them into the file now rather than keep a WAL
  // of their size until the next checkpoint.
  sql.pragma('wal_checkpoint(TRUNCATE)')
}

/**
 * An open member database. Build each view of it (`SqliteLogStore`, `SqliteStoreBackend`,
 * `MemberMeta`) once per database: they share its statements and transaction.
 */
export class ArborDatabase {
  /** The statements, prepared at open. */
  readonly statements: Statements
  /** The file (other connections to it read consistent snapshots: snapshot.ts). */
  readonly path: string
  private readonly sql: Database.Database
  private readonly begin: Database.Statement
  private readonly commit: Database.Statement
  private readonly rollback: Database.Statement
  private commitObserver: CommitObserver | undefined
  private readonly reloaders: Array<() => void> = []
  /** The `synchronous` the file was opened with: the most any commit waits for. */
  private readonly synchronous: Synchronous
  /** The `synchronous` set on the connection now. */
  private currentSynchronous: Synchronous

  constructor(sql: Database.Database, statements: Statements, synchronous: Synchronous, path: string) {
    this.sql = sql
    this.path = path
    this.statements = statements
    this.synchronous = synchronous
    this.currentSynchronous = synchronous
    this.begin = sql.prepare('BEGIN IMMEDIATE')
    this.commit = sql.prepare('COMMIT')
    this.rollback = sql.prepare('ROLLBACK')
  }

  /** Registers the one observer told the duration of every commit (replaces an earlier one). */
  onCommit(observer: CommitObserver): void {
    this.commitObserver = observer
  }

  /**
   * Runs `fn` in one transaction (BEGIN IMMEDIATE … COMMIT: one fsync with synchronous=FULL),
 * then tells the commit observer how long the COMMIT took.
   * A call made inside another joins it: nothing commits until the outermost call returns.
   * When `fn` throws, everything since the outermost BEGIN is rolled back, the in-memory
   * caches of every view are reloaded from the file, and the error is rethrown.
   *
   * `durable: false` commits without waiting for the disk (synchronous=NORMAL, never more than
   * the file was opened with): the transaction is atomic and survives a process crash, and a
   * power cut loses it only together with every later one (the write-ahead log is one file,
   * and the next durable commit syncs all of it). For what can be rebuilt from durable data.
   */
  transaction<T>(fn: () => T, durable = true): T {
    if (this.sql.inTransaction) return fn()
    this.useSynchronous(durable ? this.synchronous : weaker(this.synchronous, 'NORMAL'))
    this.begin.run()
    let result: T
    try {
      result = fn()
      const observer = this.commitObserver
      const startMs = observer === undefined ? 0 : performance.now()
      this.commit.run()
      observer?.((performance.now() - startMs) / 1000, durable && this.synchronous === 'FULL')
    } catch (error) {
      // A failed COMMIT (SQLITE_BUSY, a full disk) leaves the transaction open: undo it too.
      if (this.sql.inTransaction) this.rollback.run()
      this.reloadCaches()
      throw error
    }
    return result
  }

  private useSynchronous(level: Synchronous): void {
    if (level === this.currentSynchronous) return
    this.sql.pragma(`synchronous = ${level}`)
    this.currentSynchronous = level
  }

  /** The connection's `PRAGMA synchronous` now, read from SQLite (what a commit now would do). */
  synchronousInEffect(): Synchronous {
    const level = this.sql.pragma('synchronous', { simple: true })
    const names: Synchronous[] = ['OFF', 'NORMAL', 'FULL']
    const name = typeof level === 'number' ? names[level] : undefined
    assert(name !== undefined, `unexpected synchronous level ${String(level)}`)
    return name
  }

  /**
   * The connection itself, for this module's own files that run statements not prepared at
   * open (snapshot.ts: staging tables). Never handed outside the storage module.
   */
  get connection(): Database.Database {
    return this.sql
  }

  /** Whether a transaction is open (writes are not durable yet). */
  get inTransaction(): boolean {
    return this.sql.inTransaction
  }

  /**
   * Registers `reload`, called whenever tables may have changed underneath a view's cached
   * values: after a rollback, and after `importState` replaced the state tables.
   */
  onReload(reload: () => void): void {
    this.reloaders.push(reload)
  }

  /** Calls every registered reload hook (see `onReload`). */
  reloadCaches(): void {
    for (const reload of this.reloaders) reload()
  }

  /**
   * Copies the whole database, as it is when the copy ends, to a new file at `path` with
   * SQLite's online backup API (better-sqlite3 `backup()`): `pagesPerStep` pages per step, one
   * step per turn of the event loop, so the member keeps serving in between. Writes made on
   * this connection meanwhile are carried into the copy by SQLite, so it is consistent: every
   * transaction committed before the copy ends is in it, and none in part.
   * @returns the pages copied.
   */
  async backup(path: string, pagesPerStep: number): Promise<number> {
    assert(Number.isSafeInteger(pagesPerStep) && pagesPerStep > 0, `pagesPerStep ${pagesPerStep} is not a positive integer`)
    const result = await this.sql.backup(path, { progress: () => pagesPerStep })
    return result.totalPages
  }

  /** Closes the file. Asserts that no transaction is open (its writes would be lost). */
  close(): void {
    assert(!this.sql.inTransaction, 'close() inside a transaction')
    this.sql.close()
  }
}

const synchronousStrength: Record<Synchronous, number> = { OFF: 0, NORMAL: 1, FULL: 2 }

/** The weaker of two `synchronous` levels. */
function weaker(a: Synchronous, b: Synchronous): Synchronous {
  return synchronousStrength[a] <= synchronousStrength[b] ? a : b
}
