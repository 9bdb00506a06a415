/**
 * What arbor's (and etcd's) v2 keys API answers, as the client hands it out: the node shape
 * of spec v2-api.md §4 and the etcd headers of §1.3.
 */

/**
 * One node of the key tree as the v2 API renders it.
 * Invariant: a directory has no `value`; a file has no `nodes`.
 */
export interface NodeView {
  /** Absolute key, `/a/b`; the root has none in etcd's answers, so the client fills in `/`. */
  readonly key: string
  /** True for a directory; absent (false) for a file. */
  readonly dir: boolean
  /** A file's value; undefined for a directory. */
  readonly value: string | undefined
  /** Children, when the node is a directory that was listed (sorted when asked); else undefined. */
  readonly nodes: readonly NodeView[] | undefined
  /** Seconds left until the node expires, rounded up (etcd node.go); undefined without a TTL. */
  readonly ttl: number | undefined
  /** When the node expires, RFC 3339 with nanoseconds (Go's format); undefined without a TTL. */
  readonly expiration: string | undefined
  /** The etcd index that created the node. */
  readonly createdIndex: number
  /** The etcd index of its last change. */
  readonly modifiedIndex: number
}

/** One answer of `/v2/keys`: the action, the node, the previous node, and the etcd index. */
export interface KeysResult {
  /** etcd's action: `get`, `set`, `create`, `update`, `delete`, `compareAndSwap`, ... */
  readonly action: string
  readonly node: NodeView
  readonly prevNode: NodeView | undefined
  /** The store's etcd index when it answered (`X-Etcd-Index`); undefined when the header is absent. */
  readonly etcdIndex: number | undefined
}
