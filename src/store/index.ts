/**
 * @module store
 * The v2 key tree: nodes, the etcd index, TTLs, the last 1000 events, watchers — etcd
 * 3.4's v2 store semantics (spec v2-api.md §3, §4, §7-§11) over a `StoreBackend`.
 * Synchronous and deterministic: no clock, no I/O, no promises; time is an argument, and
 * watcher notifications wait for `flushNotifications()` (after the member loop commits).
 * Modelled on etcd server/etcdserver/api/v2store. Imports: lib, v2error, records (the tree's
 * row types, re-exported here). Never imports node:*, better-sqlite3, undici or fastify.
 */
export { Store } from './store.js'
export { MemoryStoreBackend } from './memory-backend.js'
export { defaultStoreLimits, expiresAtMsMax, type StoreLimits } from './limits.js'
export {
  encodeActionOnly,
  encodeEvent,
  encodeNode,
  nodeView,
  ttlSecondsAt,
  type NodeView,
} from './encode.js'
export { compareKeys } from './key-order.js'
export { ROOT_KEY } from './key-path.js'
export { historyMatches, type WatchCallback, type WatchStart, type Watcher } from './watcher-hub.js'
export type {
  Action,
  EtcdIndex,
  Event,
  GetOptions,
  HistoryRecord,
  NodeRecord,
  StoreBackend,
  StoreRequest,
  StoreStats,
} from './types.js'
