/**
 * Limits of the v2 store. Each comment says what the limit protects. The HTTP layer
 * enforces key depth, key length and value size before a request reaches the store.
 */

/** Limits a `Store` is built with (see `defaultStoreLimits`). */
export interface StoreLimits {
  /**
   * Events kept to answer `waitIndex` (the history window); older ones are forgotten and
   * a watch from before it gets error 401. etcd keeps exactly 1000 (watcher_hub.go,
   * spec v2-api.md §11.2). At least 1.
   */
  readonly historyEventsMax: number
  /**
   * Watchers registered at once on this member; one more gets error 300 "too many
   * watchers". Each is an open HTTP response and a slot in the hub's lists; etcd has no
   * such bound (ARCHITECTURE.md decision 9: every limit is named). At least 0.
   */
  readonly watchersMax: number
}

/** The limits arbor runs with unless configured otherwise. */
export const defaultStoreLimits: StoreLimits = {
  /** etcd's window: the last 1000 events. */
  historyEventsMax: 1000,
  /** Ten thousand long polls or streams per member: far above what etcd clients open. */
  watchersMax: 10_000,
}

/**
 * The latest expiry the store can render: 9999-12-31T23:59:59.999Z in ms, the end of
 * RFC 3339's four-digit years. The HTTP layer refuses TTLs past year 2262 long before
 * (spec Q13), so reaching it is a bug.
 */
export const expiresAtMsMax = 253_402_300_799_999
