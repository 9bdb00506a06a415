/**
 * The rows of the v2 tree and its event history: what the store reads and writes through
 * its `StoreBackend`, and what storage keeps in the `nodes` and `history` tables. Source:
 * etcd server/etcdserver/api/v2store (node.go, event.go).
 */

/** Count of store changes: `X-Etcd-Index`, `modifiedIndex`. 0 for an empty store. */
export type EtcdIndex = number

/**
 * One node of the tree as stored. `key` is the full cleaned path ('/a/b'); the root is '/'
 * and is never stored (it always exists, as an index-less directory).
 */
export interface NodeRecord {
  readonly key: string
  readonly dir: boolean
  /** The value of a file; '' for directories. */
  readonly value: string
  readonly createdIndex: EtcdIndex
  readonly modifiedIndex: EtcdIndex
  /** Absolute expiry in ms since the epoch; null for a permanent node. */
  readonly expiresAtMs: number | null
}

/** Every action etcd reports (spec §4.1). */
export const actions = [
  'get',
  'set',
  'create',
  'update',
  'compareAndSwap',
  'delete',
  'compareAndDelete',
  'expire',
] as const

/** One of the actions etcd reports (spec §4.1). */
export type Action = (typeof actions)[number]

const actionSet: ReadonlySet<string> = new Set(actions)

/** Whether `text` (read back from a file or a snapshot) names an action. */
export function isAction(text: unknown): text is Action {
  return typeof text === 'string' && actionSet.has(text)
}

/**
 * One applied change as kept in the event history (etcd's 1000-event window, spec §11.6).
 * `json` is the event body exactly as answered (with its trailing '\n'; ttl values frozen).
 */
export interface HistoryRecord {
  readonly index: EtcdIndex
  readonly action: Action
  /** The event's node key ('/a/b'). */
  readonly key: string
  /** The event's node is a directory (a directory's delete/expire also reaches watchers below it). */
  readonly dir: boolean
  /** A refresh: kept in history, never delivered to watchers (spec §9.4). */
  readonly refresh: boolean
  readonly json: string
}
