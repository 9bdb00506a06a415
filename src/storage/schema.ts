/**
 * The tables of a member's database and the version of their layout. One file per member
 * holds the Raft log and hard state (what Raft needs to restart) beside the applied state
 * (tree, event history, applied index, membership), so that a single transaction can make
 * a Ready batch durable and apply its committed entries (ARCHITECTURE.md, "The tree lives
 * in SQLite"; decision 7).
 *
 * Integers are SQLite INTEGERs (64-bit); JS numbers read back exactly up to 2^53. Booleans
 * are 0/1. Strings are TEXT, stored as UTF-8, so the default BINARY collation orders keys by
 * their UTF-8 bytes, which is the order etcd's `sorted=true` and the v2 store need.
 */

/**
 * Layout version written in `meta.schema_version`. A newer file is refused, never rewritten;
 * an older one is migrated when opened (`migrations`).
 * - 1: `nodes` with a rowid, a `parent` column and a (parent, key) index.
 * - 2: `nodes` WITHOUT ROWID, keyed by `key` alone: a write touches one b-tree instead of
 *   three (children are found by skipping through the key range, see sqlite-store-backend.ts).
 * - 3: `auth_users` and `auth_roles` (v2 auth), and `meta.auth_enabled`. An older arbor
 *   must not open such a file: it would serve it without its auth.
 */
export const schemaVersion = 3

/** The key/value table; created first so that the version can be read before anything else. */
export const metaTableSql = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value            -- no declared type: numbers stay numbers, text stays text
) WITHOUT ROWID;
`

/**
 * Every other table. Design notes:
 * - `raft_log.idx`, `history.idx` are INTEGER PRIMARY KEY, i.e. the rowid itself: range
 *   scans and appends at the end are the b-tree's best case.
 * - `nodes` is WITHOUT ROWID, clustered on `key`: one b-tree per write (a rowid table would
 *   add the rowid b-tree and a key index). Large values spill to overflow pages, as in any
 *   SQLite table. No parent column or index: keys below a directory form one key range.
 * - `meta`, `members`, `removed_members`, `auth_users`, `auth_roles` have small rows and
 *   text keys: WITHOUT ROWID.
 * - `nodes_by_expiry` is partial: only nodes with a TTL are in it, ordered as `expiredBy`
 *   answers, (expires_at_ms, key).
 */
export const tablesSql = `
CREATE TABLE IF NOT EXISTS raft_log (
  idx   INTEGER PRIMARY KEY,
  term  INTEGER NOT NULL,
  type  TEXT NOT NULL CHECK (type IN ('normal', 'confChange')),
  data  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS raft_state (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  term            INTEGER NOT NULL,
  vote            TEXT NOT NULL,
  commit_index    INTEGER NOT NULL,
  voters          TEXT NOT NULL,   -- JSON array: the configuration in effect
  snapshot_index  INTEGER NOT NULL,
  snapshot_term   INTEGER NOT NULL,
  snapshot_voters TEXT NOT NULL    -- JSON array: the configuration at snapshot_index
);
INSERT OR IGNORE INTO raft_state VALUES (1, 0, '', 0, '[]', 0, 0, '[]');

CREATE TABLE IF NOT EXISTS nodes (
  key            TEXT NOT NULL PRIMARY KEY,
  dir            INTEGER NOT NULL,
  value          TEXT NOT NULL,
  created_index  INTEGER NOT NULL,
  modified_index INTEGER NOT NULL,
  expires_at_ms  INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nodes_by_expiry ON nodes (expires_at_ms, key)
  WHERE expires_at_ms IS NOT NULL;

CREATE TABLE IF NOT EXISTS history (
  idx     INTEGER PRIMARY KEY,
  action  TEXT NOT NULL,
  key     TEXT NOT NULL,
  dir     INTEGER NOT NULL,
  refresh INTEGER NOT NULL,
  json    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS members (
  id          TEXT NOT NULL PRIMARY KEY,
  name        TEXT NOT NULL,
  peer_urls   TEXT NOT NULL,   -- JSON array
  client_urls TEXT NOT NULL    -- JSON array
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS removed_members (
  id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS auth_users (
  name          TEXT NOT NULL PRIMARY KEY,
  password_hash TEXT NOT NULL,   -- bcrypt; never a password
  roles         TEXT NOT NULL    -- JSON array of role names, or null
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS auth_roles (
  name  TEXT NOT NULL PRIMARY KEY,
  read  TEXT NOT NULL,           -- JSON array of key patterns, or null
  write TEXT NOT NULL            -- JSON array of key patterns, or null
) WITHOUT ROWID;
`

/** Keys of the `meta` table. */
export const metaKey = {
  schemaVersion: 'schema_version',
  /** Raft index of the last entry applied to the state tables. */
  appliedIndex: 'applied_index',
  /** This member's id (hex), written once at bootstrap. */
  memberId: 'member_id',
  /** The cluster's id (hex), written once at bootstrap. */
  clusterId: 'cluster_id',
  /**
   * The newest event index, written when a trim leaves the history table empty: the only
   * case where MAX(history.idx) cannot tell it after a restart.
   */
  historyLastIndex: 'history_last_index',
  /** 1 while v2 auth is enabled, 0 (or absent) otherwise. */
  authEnabled: 'auth_enabled',
} as const

/**
 * SQL that brings a file of layout version `from` to `from + 1`, run in one transaction with
 * the new version written beside it. Version 1 → 2: the nodes are copied into the
 * WITHOUT ROWID table (the `parent` column is dropped: it is the key up to its last '/').
 * Version 2 → 3: the two auth tables are created.
 * Each script is frozen as written, not built from `tablesSql`: a later layout gets a
 * migration of its own from the one before it.
 */
export const migrations: Readonly<Record<number, string>> = {
  1: `
CREATE TABLE nodes_v2 (
  key            TEXT NOT NULL PRIMARY KEY,
  dir            INTEGER NOT NULL,
  value          TEXT NOT NULL,
  created_index  INTEGER NOT NULL,
  modified_index INTEGER NOT NULL,
  expires_at_ms  INTEGER
) WITHOUT ROWID;
INSERT INTO nodes_v2 (key, dir, value, created_index, modified_index, expires_at_ms)
  SELECT key, dir, value, created_index, modified_index, expires_at_ms FROM nodes ORDER BY key;
DROP TABLE nodes;
ALTER TABLE nodes_v2 RENAME TO nodes;
CREATE INDEX nodes_by_expiry ON nodes (expires_at_ms, key) WHERE expires_at_ms IS NOT NULL;
`,
  2: `
CREATE TABLE IF NOT EXISTS auth_users (
  name          TEXT NOT NULL PRIMARY KEY,
  password_hash TEXT NOT NULL,   -- bcrypt; never a password
  roles         TEXT NOT NULL    -- JSON array of role names, or null
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS auth_roles (
  name  TEXT NOT NULL PRIMARY KEY,
  read  TEXT NOT NULL,           -- JSON array of key patterns, or null
  write TEXT NOT NULL            -- JSON array of key patterns, or null
) WITHOUT ROWID;
`,
}
