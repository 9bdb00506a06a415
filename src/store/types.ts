/**
 * Shapes of the v2 store: the events, the requests applied from the log, and the backend the
 * store reads and writes through (ARCHITECTURE.md, "The tree lives in SQLite"). Source: etcd
 * server/etcdserver/api/v2store (event.go, store.go).
 */

import type { Action, EtcdIndex, HistoryRecord, NodeRecord } from '../records/index.js'

/**
 * The tree's rows (`NodeRecord`, `HistoryRecord`, `Action`, `EtcdIndex`) live in the records
 * module, which storage imports too; they are re-exported here for the store's users.
 */
export type { Action, EtcdIndex, HistoryRecord, NodeRecord } from '../records/index.js'

/**
 * Where the store keeps its tree and history. Implementations: `MemoryStoreBackend`
 * (store/memory-backend.ts, tests and simulator) and the SQLite backend (storage module),
 * which writes inside the member loop's transaction. All methods are synchronous.
 */
export interface StoreBackend {
  /** The node at `key`, or undefined. Never called with '/'. */
  getNode(key: string): NodeRecord | undefined
  /** Direct children of directory `dirKey` ('/' for the root), ascending by UTF-8 bytes of key. */
  children(dirKey: string): NodeRecord[]
  /** Every node strictly below `dirKey`, ascending by UTF-8 bytes of key (parents before children). */
  descendants(dirKey: string): NodeRecord[]
  /** Inserts or replaces the node at `node.key`. */
  putNode(node: NodeRecord): void
  /** Removes the node at `key` and every node below it. */
  deleteTree(key: string): void
  /** The earliest `expiresAtMs` of any node, or undefined when no node has a TTL. */
  earliestExpirationMs(): number | undefined
  /** The first `limit` (default: all) nodes with expiresAtMs ≤ `timeMs`, ordered by (expiresAtMs, key). */
  expiredBy(timeMs: number, limit?: number): NodeRecord[]

  /** Appends one event; `record.index` is one more than the last appended. */
  appendEvent(record: HistoryRecord): void
  /** Events with index ≥ `fromIndex`, ascending, at most `limit`. */
  eventsFrom(fromIndex: EtcdIndex, limit: number): HistoryRecord[]
  /** Index of the oldest kept event, or undefined when none. */
  oldestEventIndex(): EtcdIndex | undefined
  /** Index of the newest event (the store's current etcd index), or 0 when none ever. */
  lastEventIndex(): EtcdIndex
  /** Forgets events with index < `index`. */
  trimEventsBefore(index: EtcdIndex): void
}

/**
 * A change to the store, as carried (JSON) in a Raft log entry and applied on every member.
 * The HTTP layer builds it from a request (spec §3.1 dispatch table); `prevIndex` is the
 * normalized decimal text of a uint64 ('' when absent or 0), so 2^64-1 survives intact.
 * `ttlSeconds` is null for no TTL; the expiry is `timeMs + ttlSeconds * 1000`, where
 * `timeMs` is the proposing member's clock carried in the entry (ARCHITECTURE decision 1).
 */
export type StoreRequest =
  | {
      readonly op: 'set'
      readonly key: string
      readonly value: string
      readonly dir: boolean
      readonly ttlSeconds: number | null
      readonly refresh: boolean
    }
  | {
      readonly op: 'create'
      readonly key: string
      readonly value: string
      readonly dir: boolean
      readonly ttlSeconds: number | null
      /** POST: create `<key>/<20-digit new index>` (spec §8). */
      readonly inOrder: boolean
    }
  | {
      readonly op: 'update'
      readonly key: string
      readonly value: string
      readonly ttlSeconds: number | null
      readonly refresh: boolean
    }
  | {
      readonly op: 'compareAndSwap'
      readonly key: string
      readonly value: string
      readonly ttlSeconds: number | null
      readonly refresh: boolean
      /** undefined: no value condition. */
      readonly prevValue: string | undefined
      readonly prevIndex: string
    }
  | { readonly op: 'delete'; readonly key: string; readonly dir: boolean; readonly recursive: boolean }
  | {
      readonly op: 'compareAndDelete'
      readonly key: string
      readonly prevValue: string | undefined
      readonly prevIndex: string
    }

/** Options of a read (spec §4.3). */
export interface GetOptions {
  readonly recursive: boolean
  readonly sorted: boolean
}

/** The result of a store operation: the event, its index and its body. */
export interface Event {
  readonly action: Action
  /** For writes, the new etcd index (= node.modifiedIndex); for reads, the current index. */
  readonly index: EtcdIndex
  /** The body as etcd answers it, with the trailing '\n'. */
  readonly json: string
  /** A `set` that created the node answers 201; everything else (but `create`) 200 (spec §5.1). */
  readonly created: boolean
}

/** `/v2/stats/store` counters, in etcd's field order (spec §12.3). */
export interface StoreStats {
  getsSuccess: number
  getsFail: number
  setsSuccess: number
  setsFail: number
  deleteSuccess: number
  deleteFail: number
  updateSuccess: number
  updateFail: number
  createSuccess: number
  createFail: number
  compareAndSwapSuccess: number
  compareAndSwapFail: number
  compareAndDeleteSuccess: number
  compareAndDeleteFail: number
  expireCount: number
  watchers: number
}
