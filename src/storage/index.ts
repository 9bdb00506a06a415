/**
 * @module storage
 * One SQLite database file per member (better-sqlite3): the Raft log, hard state and
 * configuration (`SqliteLogStore`), the materialized v2 tree and its event history
 * (`SqliteStoreBackend`, the store's backend), the applied index, the member's identity and
 * the membership (`MemberMeta`), the v2 auth rows (`SqliteAuthBackend`), and state snapshots
 * for InstallSnapshot, streamed in bounded chunks (`openStateReader` on the leader,
 * `StateStager` on the follower). The member loop persists a Ready batch and applies its
 * committed entries inside one `ArborDatabase.transaction`: one fsync per turn
 * (ARCHITECTURE.md, "The tree lives in SQLite"; decision 7). Backup files
 * (`writeBackupFile`, `restoreBackupFile`) for `arbor snapshot save|status|restore`.
 * Synchronous and without a clock (commit durations are measured for metrics only), except
 * the backup functions: an online copy runs in steps between turns of the event loop, and a
 * file's checksum is read as a stream. Imports: lib, raft (types), records (the row types of
 * the tree and of auth, shared with store and auth), better-sqlite3, node:fs, node:path,
 * node:crypto. Never imports store or auth.
 */
export { openDatabase, ArborDatabase, SchemaVersionError, type CommitObserver, type OpenOptions, type Synchronous } from './database.js'
export { SqliteLogStore } from './sqlite-log-store.js'
export { SqliteStoreBackend } from './sqlite-store-backend.js'
export { MemberMeta, type MemberRecord, type MemberUpdate } from './meta.js'
export { SqliteAuthBackend } from './sqlite-auth-backend.js'
export {
  exportState,
  importState,
  openStateReader,
  StateStager,
  stateTables,
  SnapshotFormatError,
  type StateReader,
  type StateTable,
} from './snapshot.js'
export { schemaVersion } from './schema.js'
export {
  writeBackupFile,
  verifyBackupFile,
  readBackupStatus,
  restoreBackupFile,
  BackupFileError,
  backupChecksumBytes,
  type BackupStatus,
  type RestoreIdentity,
} from './backup.js'
