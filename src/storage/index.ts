/**
 * @module storage
 * One SQLite database file per member (better-sqlite3): the Raft log, hard state and
 * configuration (`SqliteLogStore`), the materialized v2 tree and its event history
 * (`SqliteStoreBackend`, the store's backend), the applied index, the member's identity and
 * the membership (`MemberMeta`), the v2 auth rows (`SqliteAuthBackend`), and state snapshots for InstallSnapshot (`exportState`,
 * `importState`). The member loop persists a Ready batch and applies its committed entries
 * inside one `ArborDatabase.transaction`: one fsync per turn (ARCHITECTURE.md, "The tree
 * lives in SQLite"; decision 7).
 * Synchronous: no promises, no clock. Imports: lib, raft (types), better-sqlite3, node:fs,
 * node:path. Never imports store: its backend's record types are restated, matching by shape.
 */
export { openDatabase, ArborDatabase, SchemaVersionError, type OpenOptions, type Synchronous } from './database.js'
export { SqliteLogStore } from './sqlite-log-store.js'
export { SqliteStoreBackend, type TreeRow, type EventRow, type EventAction } from './sqlite-store-backend.js'
export { MemberMeta, type MemberRecord, type MemberUpdate } from './meta.js'
export { SqliteAuthBackend, type AuthUserRecord, type AuthRoleRecord } from './sqlite-auth-backend.js'
export { exportState, importState, SnapshotFormatError } from './snapshot.js'
export { schemaVersion } from './schema.js'
