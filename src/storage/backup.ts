/**
 * Backup files of a member's database, for `arbor snapshot save|status|restore` (etcd's
 * `etcdctl snapshot save` and `etcdutl snapshot status|restore`).
 *
 * A backup file is the bytes of a standalone SQLite database (rollback journal, no `-wal`
 * beside it) followed by the 32-byte SHA-256 of those bytes, as etcd appends a SHA-256 to a
 * saved v3 snapshot. The database is a page-for-page copy of the member's, taken with
 * SQLite's online backup API while the member serves (`ArborDatabase.backup`): the tree, the
 * event history, the applied index, the membership, and the Raft log and hard state of the
 * member it was taken from. `restoreBackupFile` turns it into the first state of a new
 * cluster: new identity, new members, an empty log starting after the applied index.
 *
 * A file whose length is not the one its SQLite header announces (plus the checksum) is
 * refused as truncated; one whose bytes do not hash to the recorded checksum as damaged.
 */
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, closeSync, copyFileSync, mkdirSync, fsyncSync, openSync, readSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { assert } from '../lib/index.js'
import type { MemberId } from '../raft/index.js'
import { openDatabase, type ArborDatabase } from './database.js'
import type { MemberUpdate } from './meta.js'
import { metaKey, schemaVersion } from './schema.js'
import { readLastEventIndex } from './sqlite-store-backend.js'
import { prepareStatements, type Statements } from './statements.js'

/** Bytes of the SHA-256 appended to a backup file. */
export const backupChecksumBytes = 32

/** SQLite's file header: the magic string and where the page size and page count are (fileformat2 §1.3). */
const sqliteMagic = 'SQLite format 3\0'
const sqliteHeaderBytes = 100

/** The file is not a complete, intact backup; nothing was written. The message says why, in one line. */
export class BackupFileError extends Error {
  override readonly name = 'BackupFileError'
}

/** What a backup holds, as `arbor snapshot status` shows it. */
export interface BackupStatus {
  /** SHA-256 of the database bytes, lower-case hex (the recorded one, verified). */
  readonly sha256: string
  /** Bytes of the whole file, checksum included. */
  readonly fileBytes: number
  /** Raft index of the last entry applied to the copied state. */
  readonly appliedIndex: number
  /** Raft term of that entry (0 for an empty member). */
  readonly term: number
  /** The store's etcd index (`X-Etcd-Index`) in the copy. */
  readonly etcdIndex: number
  /** Nodes that are keys, and nodes that are directories (the root not counted). */
  readonly keys: number
  readonly dirs: number
  /** The cluster and member the copy was taken from (hex); '' if it has none. */
  readonly clusterId: string
  readonly memberId: string
  /** Layout version of the copied database (schema.ts). */
  readonly schemaVersion: number
}

/**
 * Writes a backup of `db` to `path` (which must not exist): the online copy, made standalone,
 * then its checksum. The file is fsynced; the caller renames it into place.
 * @returns the status of the file written.
 */
export async function writeBackupFile(db: ArborDatabase, path: string, options: { pagesPerStep: number }): Promise<BackupStatus> {
  assert(!existsSync(path), `backup target ${path} exists`)
  try {
    await db.backup(path, options.pagesPerStep)
    makeStandalone(path)
    const sha256 = await sha256Of(path, statSync(path).size)
    // Appended and synced off the event loop: an fsync of a large fresh file can take long.
    const file = await open(path, 'a')
    try {
      await file.write(Buffer.from(sha256, 'hex'))
      await file.sync()
    } finally {
      await file.close()
    }
    // The bytes were just hashed; reading them a second time would only double the disk load.
    return describeFile(path, sha256)
  } catch (error) {
    rmSync(path, { force: true })
    throw error
  }
}

/** Switches the copy from WAL to a rollback journal, so that it is one self-contained file. */
function makeStandalone(path: string): void {
  const sql = new Database(path)
  try {
    const mode = sql.pragma('journal_mode = DELETE', { simple: true })
    assert(mode === 'delete', `backup journal_mode is ${String(mode)}, want delete`)
  } finally {
    sql.close()
  }
}

/**
 * Checks that `path` is a complete backup whose bytes match its checksum.
 * @returns the length of the database part (bytes) and its SHA-256 (hex).
 * @throws BackupFileError naming what is wrong.
 */
export async function verifyBackupFile(path: string): Promise<{ databaseBytes: number; sha256: string }> {
  let fileBytes: number
  try {
    fileBytes = statSync(path).size
  } catch (error) {
    throw new BackupFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const header = readHead(path, Math.min(fileBytes, sqliteHeaderBytes))
  if (header.length < sqliteHeaderBytes || header.toString('latin1', 0, 16) !== sqliteMagic) {
    throw new BackupFileError(`${path} is not an arbor snapshot (no SQLite database header)`)
  }
  const pageSizeField = header.readUInt16BE(16)
  const pageSize = pageSizeField === 1 ? 65_536 : pageSizeField
  const pages = header.readUInt32BE(28)
  const wantBytes = pageSize * pages + backupChecksumBytes
  if (fileBytes !== wantBytes) {
    throw new BackupFileError(
      `${path} is truncated or damaged: ${fileBytes} bytes, its header announces ${pages} pages of ${pageSize} bytes and a checksum (${wantBytes} bytes)`,
    )
  }
  const databaseBytes = fileBytes - backupChecksumBytes
  const recorded = readRange(path, databaseBytes, backupChecksumBytes).toString('hex')
  const actual = await sha256Of(path, databaseBytes)
  if (recorded !== actual) {
    throw new BackupFileError(`${path} is damaged: its contents hash to sha256 ${actual}, the file records ${recorded}`)
  }
  return { databaseBytes, sha256: actual }
}

/**
 * Verifies `path` and reads what it holds, without writing anything (the database is opened
 * read-only; SQLite reads no further than the size in its header, so the checksum is ignored).
 * @throws BackupFileError when the file is not an intact arbor backup.
 */
export async function readBackupStatus(path: string): Promise<BackupStatus> {
  const { sha256 } = await verifyBackupFile(path)
  return describeFile(path, sha256)
}

/** Reads the status of the backup at `path`, whose checksum `sha256` is known good. */
function describeFile(path: string, sha256: string): BackupStatus {
  let sql: Database.Database
  try {
    sql = new Database(path, { readonly: true, fileMustExist: true })
  } catch (error) {
    throw new BackupFileError(`${path} cannot be opened: ${(error as Error).message}`)
  }
  try {
    const version = readSchemaVersion(sql, path)
    if (version > schemaVersion) {
      throw new BackupFileError(`${path} has schema version ${version}, newer than ${schemaVersion} which this arbor knows; use a newer arbor`)
    }
    return { sha256, fileBytes: statSync(path).size, schemaVersion: version, ...describe(prepareStatements(sql)) }
  } finally {
    sql.close()
  }
}

function readSchemaVersion(sql: Database.Database, path: string): number {
  let row: { value: unknown } | undefined
  try {
    row = sql.prepare<[string], { value: unknown }>('SELECT value FROM meta WHERE key = ?').get(metaKey.schemaVersion)
  } catch {
    throw new BackupFileError(`${path} is an SQLite database but not an arbor snapshot (no meta table)`)
  }
  if (row === undefined || typeof row.value !== 'number') {
    throw new BackupFileError(`${path} is an SQLite database but not an arbor snapshot (no schema version)`)
  }
  return row.value
}

/** Index, term, counts and identity of a member database, read through its statements. */
function describe(s: Statements): Omit<BackupStatus, 'sha256' | 'fileBytes' | 'schemaVersion'> {
  const appliedIndex = numberOr0(s.meta.get.get(metaKey.appliedIndex)?.value)
  const counts = s.nodes.counts.get()
  return {
    appliedIndex,
    term: termAt(s, appliedIndex),
    etcdIndex: readLastEventIndex(s),
    keys: counts?.keys ?? 0,
    dirs: counts?.dirs ?? 0,
    clusterId: textOrEmpty(s.meta.get.get(metaKey.clusterId)?.value),
    memberId: textOrEmpty(s.meta.get.get(metaKey.memberId)?.value),
  }
}

/** Term of the entry at `index`: from the log, or the snapshot's term at its index (0 at 0). */
function termAt(s: Statements, index: number): number {
  const state = s.raftState.get.get()
  assert(state !== undefined, 'raft_state row missing')
  if (index === state.snapshot_index) return state.snapshot_term
  const row = s.log.range.get(index, index + 1)
  if (row === undefined) throw new BackupFileError(`the snapshot has no term for its applied index ${index}`)
  return row.term
}

/** The identity of the first member of a new cluster restored from a backup. */
export interface RestoreIdentity {
  readonly memberId: MemberId
  readonly clusterId: string
  /** Every member of the new cluster (this one included), with no client URLs yet. */
  readonly members: readonly MemberUpdate[]
}

/**
 * Creates the database file `databasePath` (which must not exist) from the backup at `path`,
 * as the first state of a member of a new cluster (etcd's `snapshot restore`): the tree,
 * history and applied index of the backup; the member and cluster ids and the member list of
 * `identity` (removed ids forgotten); the Raft log emptied, its snapshot point set at the
 * applied index and term with the new members as the configuration, the hard state at that
 * term with no vote and everything up to the applied index committed. Every member restored
 * from one backup so starts from the same log position and configuration.
 *
 * Written under a temporary name and renamed when complete and durable.
 * @returns the status of the backup as read (before the identity was replaced).
 * @throws BackupFileError when the backup is not intact; nothing is left behind then.
 */
export async function restoreBackupFile(path: string, databasePath: string, identity: RestoreIdentity): Promise<BackupStatus> {
  assert(identity.members.some((m) => m.id === identity.memberId), 'restore: the member is not in its member list')
  if (existsSync(databasePath)) throw new BackupFileError(`${databasePath} exists; restore creates a new data directory`)
  const status = await readBackupStatus(path)
  const staging = `${databasePath}.restoring`
  rmSync(staging, { force: true })
  try {
    mkdirSync(dirname(databasePath), { recursive: true })
    copyFileSync(path, staging)
    truncateSync(staging, status.fileBytes - backupChecksumBytes)
    const db = openDatabase(staging, { synchronous: 'FULL' })
    try {
      resetForNewCluster(db, status, identity)
    } finally {
      db.close()
    }
    fsyncFile(staging)
    renameSync(staging, databasePath)
    fsyncFile(dirname(databasePath))
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(staging + suffix, { force: true })
    throw error
  }
  return status
}

function resetForNewCluster(db: ArborDatabase, status: BackupStatus, identity: RestoreIdentity): void {
  const s = db.statements
  const voters = JSON.stringify(identity.members.map((m) => m.id).sort())
  db.transaction(() => {
    s.meta.put.run(metaKey.memberId, identity.memberId)
    s.meta.put.run(metaKey.clusterId, identity.clusterId)
    s.members.deleteAll.run()
    s.members.deleteAllRemoved.run()
    for (const m of identity.members) s.members.upsert.run(m.id, m.name, JSON.stringify(m.peerUrls), JSON.stringify(m.clientUrls))
    s.log.deleteFrom.run(0)
    s.raftState.setHardState.run(status.term, '', status.appliedIndex)
    s.raftState.setVoters.run(voters)
    s.raftState.setSnapshot.run(status.appliedIndex, status.term, voters)
  })
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** SHA-256 (hex) of the first `bytes` bytes of `path`, read in a stream (the event loop keeps turning). */
async function sha256Of(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256')
  if (bytes > 0) {
    for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer)
  }
  return hash.digest('hex')
}

function readHead(path: string, bytes: number): Buffer {
  return readRange(path, 0, bytes)
}

function readRange(path: string, position: number, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes)
  const fd = openSync(path, 'r')
  try {
    let done = 0
    while (done < bytes) {
      const n = readSync(fd, buffer, done, bytes - done, position + done)
      if (n === 0) break
      done += n
    }
    return buffer.subarray(0, done)
  } finally {
    closeSync(fd)
  }
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' ? value : 0
}

function textOrEmpty(value: unknown): string {
  return typeof value === 'string' ? value : ''
}
