/**
 * @module records
 * The shapes of the state rows that more than one module knows: the v2 tree's nodes and
 * event history (`NodeRecord`, `HistoryRecord`, `Action`), which the store changes, and the
 * auth users and roles (`User`, `Role`, `KvPermissions`), which auth changes; storage
 * persists both. Each is declared once, here, so the two sides cannot drift apart
 * (ARCHITECTURE.md, "The tree lives in SQLite"). Types, plus the list of actions to check
 * what is read back. Imports nothing: no module of src/, no node:*, no package.
 */
export { actions, isAction, type Action, type EtcdIndex, type HistoryRecord, type NodeRecord } from './tree.js'
export type { KvPermissions, Role, User } from './auth.js'
