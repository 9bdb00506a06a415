/**
 * Every SQL statement arbor runs against a member's database, prepared once when the
 * database opens (`prepareStatements`), grouped by table. Callers never prepare SQL
 * themselves, so no request pays for parsing and planning, and every query the storage
 * module can run is readable in this one file, next to the schema (schema.ts).
 */
import type Database from 'better-sqlite3'

/** A row of `raft_log`. `type` is 'normal' or 'confChange' (CHECK constraint). */
export interface LogRow {
  idx: number
  term: number
  type: string
  data: string
}

/** The single row of `raft_state`; `voters` and `snapshot_voters` are JSON arrays of ids. */
export interface RaftStateRow {
  term: number
  vote: string
  commit_index: number
  voters: string
  snapshot_index: number
  snapshot_term: number
  snapshot_voters: string
}

/** A row of `nodes`. */
export interface NodeRow {
  key: string
  dir: number
  value: string
  created_index: number
  modified_index: number
  expires_at_ms: number | null
}

/** A row of `history`. `dir` and `refresh` are 0/1. */
export interface HistoryRow {
  idx: number
  action: string
  key: string
  dir: number
  refresh: number
  json: string
}

/** A row of `members`; the URL columns are JSON arrays of strings. */
export interface MemberRow {
  id: string
  name: string
  peer_urls: string
  client_urls: string
}

type Stmt<P extends unknown[], R = unknown> = Database.Statement<P, R>

/** The prepared statements, by table. Parameters are positional, in the order of the `?`s. */
export interface Statements {
  readonly log: {
    /** (idx, term, type, data) */
    insert: Stmt<[number, number, string, string]>
    /** Removes entries with idx ≥ ?. */
    deleteFrom: Stmt<[number]>
    /** Removes entries with idx ≤ ?. */
    deleteThrough: Stmt<[number]>
    /** Entries with lo ≤ idx < hi, ascending. */
    range: Stmt<[number, number], LogRow>
    /** The first index of each term in the log, ascending (terms never decrease along it, §5.3). */
    termRuns: Stmt<[], { first: number; term: number }>
    bounds: Stmt<[], { first: number | null; last: number | null }>
  }
  readonly raftState: {
    get: Stmt<[], RaftStateRow>
    /** (term, vote, commit_index) */
    setHardState: Stmt<[number, string, number]>
    /** (voters JSON) */
    setVoters: Stmt<[string]>
    /** (snapshot_index, snapshot_term, snapshot_voters JSON) */
    setSnapshot: Stmt<[number, number, string]>
  }
  readonly nodes: {
    get: Stmt<[string], NodeRow>
    /** The first node with lo < key < hi (UTF-8 byte order), if any. */
    firstAfter: Stmt<[string, string], NodeRow>
    /** The first node with lo ≤ key < hi, if any. */
    firstFrom: Stmt<[string, string], NodeRow>
    /** Nodes with lo < key < hi, ascending by key. */
    between: Stmt<[string, string], NodeRow>
    all: Stmt<[], NodeRow>
    /** How many nodes are keys (dir = 0) and how many directories. */
    counts: Stmt<[], { keys: number | null; dirs: number | null }>
    /** (key, dir, value, created_index, modified_index, expires_at_ms) */
    put: Stmt<[string, number, string, number, number, number | null]>
    deleteOne: Stmt<[string]>
    /** Removes nodes with lo < key < hi. */
    deleteBetween: Stmt<[string, string]>
    deleteAll: Stmt<[]>
    earliestExpiration: Stmt<[], { ms: number | null }>
    /** Nodes with expires_at_ms ≤ ?, by (expires_at_ms, key), at most ? of them (-1: all). */
    expiredBy: Stmt<[number, number], NodeRow>
  }
  readonly history: {
    /** (idx, action, key, dir, refresh, json) */
    insert: Stmt<[number, string, string, number, number, string]>
    /** Events with idx ≥ ?, ascending, at most ? of them. */
    from: Stmt<[number, number], HistoryRow>
    all: Stmt<[], HistoryRow>
    bounds: Stmt<[], { oldest: number | null; newest: number | null }>
    deleteBefore: Stmt<[number]>
    deleteAll: Stmt<[]>
  }
  readonly meta: {
    get: Stmt<[string], { value: unknown }>
    /** (key, value) */
    put: Stmt<[string, string | number]>
  }
  readonly members: {
    /** Members by numeric id: hex without padding sorts numerically by (length, text). */
    list: Stmt<[], MemberRow>
    /** (id, name, peer_urls JSON, client_urls JSON) */
    upsert: Stmt<[string, string, string, string]>
    delete: Stmt<[string]>
    deleteAll: Stmt<[]>
    listRemoved: Stmt<[], { id: string }>
    isRemoved: Stmt<[string], { id: string }>
    insertRemoved: Stmt<[string]>
    deleteAllRemoved: Stmt<[]>
  }
  readonly auth: {
    users: Stmt<[], AuthUserRow>
    /** (name, password_hash, roles JSON) */
    putUser: Stmt<[string, string, string]>
    deleteUser: Stmt<[string]>
    deleteAllUsers: Stmt<[]>
    roles: Stmt<[], AuthRoleRow>
    /** (name, read JSON, write JSON) */
    putRole: Stmt<[string, string, string]>
    deleteRole: Stmt<[string]>
    deleteAllRoles: Stmt<[]>
  }
}

/** A row of `auth_users`; `roles` is a JSON array of strings, or `null`. */
export interface AuthUserRow {
  name: string
  password_hash: string
  roles: string
}

/** A row of `auth_roles`; `read` and `write` are JSON arrays of strings, or `null`. */
export interface AuthRoleRow {
  name: string
  read: string
  write: string
}

const nodeColumns = 'key, dir, value, created_index, modified_index, expires_at_ms'
const historyColumns = 'idx, action, key, dir, refresh, json'
const byNumericId = 'ORDER BY length(id), id'

/** Prepares every statement; the schema (schema.ts) must exist already. */
export function prepareStatements(sql: Database.Database): Statements {
  return {
    log: {
      insert: sql.prepare('INSERT INTO raft_log (idx, term, type, data) VALUES (?, ?, ?, ?)'),
      deleteFrom: sql.prepare('DELETE FROM raft_log WHERE idx >= ?'),
      deleteThrough: sql.prepare('DELETE FROM raft_log WHERE idx <= ?'),
      range: sql.prepare('SELECT idx, term, type, data FROM raft_log WHERE idx >= ? AND idx < ? ORDER BY idx'),
      termRuns: sql.prepare('SELECT MIN(idx) AS first, term FROM raft_log GROUP BY term ORDER BY first'),
      // Two subqueries: SQLite answers a lone MIN or MAX from the b-tree's edge, both at once by a scan.
      bounds: sql.prepare('SELECT (SELECT MIN(idx) FROM raft_log) AS first, (SELECT MAX(idx) FROM raft_log) AS last'),
    },
    raftState: {
      get: sql.prepare(
        'SELECT term, vote, commit_index, voters, snapshot_index, snapshot_term, snapshot_voters FROM raft_state WHERE id = 1',
      ),
      setHardState: sql.prepare('UPDATE raft_state SET term = ?, vote = ?, commit_index = ? WHERE id = 1'),
      setVoters: sql.prepare('UPDATE raft_state SET voters = ? WHERE id = 1'),
      setSnapshot: sql.prepare(
        'UPDATE raft_state SET snapshot_index = ?, snapshot_term = ?, snapshot_voters = ? WHERE id = 1',
      ),
    },
    nodes: {
      get: sql.prepare(`SELECT ${nodeColumns} FROM nodes WHERE key = ?`),
      firstAfter: sql.prepare(`SELECT ${nodeColumns} FROM nodes WHERE key > ? AND key < ? ORDER BY key LIMIT 1`),
      firstFrom: sql.prepare(`SELECT ${nodeColumns} FROM nodes WHERE key >= ? AND key < ? ORDER BY key LIMIT 1`),
      between: sql.prepare(`SELECT ${nodeColumns} FROM nodes WHERE key > ? AND key < ? ORDER BY key`),
      all: sql.prepare(`SELECT ${nodeColumns} FROM nodes ORDER BY key`),
      counts: sql.prepare('SELECT SUM(dir = 0) AS keys, SUM(dir = 1) AS dirs FROM nodes'),
      put: sql.prepare(
        'INSERT OR REPLACE INTO nodes (key, dir, value, created_index, modified_index, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteOne: sql.prepare('DELETE FROM nodes WHERE key = ?'),
      deleteBetween: sql.prepare('DELETE FROM nodes WHERE key > ? AND key < ?'),
      deleteAll: sql.prepare('DELETE FROM nodes'),
      earliestExpiration: sql.prepare('SELECT MIN(expires_at_ms) AS ms FROM nodes WHERE expires_at_ms IS NOT NULL'),
      expiredBy: sql.prepare(
        `SELECT ${nodeColumns} FROM nodes WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ? ORDER BY expires_at_ms, key LIMIT ?`,
      ),
    },
    history: {
      insert: sql.prepare(`INSERT INTO history (${historyColumns}) VALUES (?, ?, ?, ?, ?, ?)`),
      from: sql.prepare(`SELECT ${historyColumns} FROM history WHERE idx >= ? ORDER BY idx LIMIT ?`),
      all: sql.prepare(`SELECT ${historyColumns} FROM history ORDER BY idx`),
      bounds: sql.prepare('SELECT (SELECT MIN(idx) FROM history) AS oldest, (SELECT MAX(idx) FROM history) AS newest'),
      deleteBefore: sql.prepare('DELETE FROM history WHERE idx < ?'),
      deleteAll: sql.prepare('DELETE FROM history'),
    },
    meta: {
      get: sql.prepare('SELECT value FROM meta WHERE key = ?'),
      put: sql.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    },
    members: {
      list: sql.prepare(`SELECT id, name, peer_urls, client_urls FROM members ${byNumericId}`),
      upsert: sql.prepare('INSERT OR REPLACE INTO members (id, name, peer_urls, client_urls) VALUES (?, ?, ?, ?)'),
      delete: sql.prepare('DELETE FROM members WHERE id = ?'),
      deleteAll: sql.prepare('DELETE FROM members'),
      listRemoved: sql.prepare(`SELECT id FROM removed_members ${byNumericId}`),
      isRemoved: sql.prepare('SELECT id FROM removed_members WHERE id = ?'),
      insertRemoved: sql.prepare('INSERT OR IGNORE INTO removed_members (id) VALUES (?)'),
      deleteAllRemoved: sql.prepare('DELETE FROM removed_members'),
    },
    auth: {
      users: sql.prepare('SELECT name, password_hash, roles FROM auth_users ORDER BY name'),
      putUser: sql.prepare('INSERT OR REPLACE INTO auth_users (name, password_hash, roles) VALUES (?, ?, ?)'),
      deleteUser: sql.prepare('DELETE FROM auth_users WHERE name = ?'),
      deleteAllUsers: sql.prepare('DELETE FROM auth_users'),
      roles: sql.prepare('SELECT name, read, write FROM auth_roles ORDER BY name'),
      putRole: sql.prepare('INSERT OR REPLACE INTO auth_roles (name, read, write) VALUES (?, ?, ?)'),
      deleteRole: sql.prepare('DELETE FROM auth_roles WHERE name = ?'),
      deleteAllRoles: sql.prepare('DELETE FROM auth_roles'),
    },
  }
}
