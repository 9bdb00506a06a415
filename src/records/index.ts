/**
 * @module records
 * The shapes of the state rows that more than one module knows: the v2 tree's nodes and
 * event history (`NodeRecord`, `HistoryRecord`, `Action`). The store changes them, storage
 * persists them; both import them from here, so there is one declaration to keep right
 * (ARCHITECTURE.md, "The tree lives in SQLite"). Types, plus the list of actions to check
 * what is read back. Imports nothing: no module of src/, no node:*, no package.
 */
export { actions, isAction, type Action, type EtcdIndex, type HistoryRecord, type NodeRecord } from './tree.js'
