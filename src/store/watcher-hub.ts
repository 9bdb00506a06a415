/**
 * The watcher hub: registered watchers by key, which of them an applied event reaches
 * (spec v2-api.md §11.3), and the queue of notifications held until the member loop has
 * committed the write (`flush`). Modelled on etcd v2store watcher_hub.go and watcher.go,
 * with spec Q21 fixed (a watcher gets each event at most once).
 */
import { assert } from '../lib/index.js'
import { ROOT_KEY, isHiddenBelow, isKeyBelow, keyPrefixes } from './key-path.js'
import type { EtcdIndex, HistoryRecord } from './types.js'

/** A registered watcher, as handed to the HTTP layer. */
export interface Watcher {
  /** Unregisters the watcher (client gone); queued events for it are dropped. Idempotent. */
  remove(): void
}

/** What `Store.watch` answers. */
export interface WatchStart {
  /** The store's etcd index at registration: the watch's `X-Etcd-Index` (spec Q25). */
  readonly etcdIndex: EtcdIndex
  /** Matching events already in history, ascending; to be sent before any live event. */
  readonly fromHistory: HistoryRecord[]
  /** The registered watcher, or undefined when a non-stream watch was answered from history. */
  readonly watcher: Watcher | undefined
}

/**
 * Receives one event for a watcher. Returns false when it could not take it (a slow
 * consumer, as the HTTP layer decides); the watcher is then removed. Must not throw.
 */
export type WatchCallback = (record: HistoryRecord) => boolean

/**
 * Does history event `record` answer a watch on `key` (spec §11.3, history column)?
 * Refreshes never do; hidden keys do (Q18); a removed directory D answers a watch on D
 * or below it, by path (Q19 fixed: `/pq` does not answer `/pqx`).
 */
export function historyMatches(record: HistoryRecord, key: string, recursive: boolean): boolean {
  if (record.refresh) return false
  if (record.key === key) return true
  if (recursive && isKeyBelow(record.key, key)) return true
  const removal = record.action === 'delete' || record.action === 'expire'
  return removal && record.dir && isKeyBelow(key, record.key)
}

/** One registered watcher. */
interface HubWatcher extends Watcher {
  readonly key: string
  readonly recursive: boolean
  readonly stream: boolean
  /** Events with a smaller index are not for this watcher (a future `waitIndex`). */
  readonly sinceIndex: EtcdIndex
  readonly onEvent: WatchCallback
  /** waiting: registered; satisfied: a non-stream watcher with its event queued; removed. */
  state: 'waiting' | 'satisfied' | 'removed'
}

/** An event waiting in the queue for one watcher. */
interface Notification {
  readonly watcher: HubWatcher
  readonly record: HistoryRecord
}

/** Watchers by key, and the notifications of applied events not yet delivered. */
export class WatcherHub {
  /** Watchers registered at each key, in registration order. */
  private readonly watchersByKey = new Map<string, Set<HubWatcher>>()
  /** Notifications in event order, delivered by `flush`. */
  private pending: Notification[] = []
  /** Watchers in `watchersByKey`. */
  private registered = 0

  /** Watchers registered now (etcd's `watchers` stat). */
  get count(): number {
    return this.registered
  }

  /** Registers a watcher on `key`; it receives events with index ≥ `sinceIndex`. */
  add(key: string, recursive: boolean, stream: boolean, sinceIndex: EtcdIndex, onEvent: WatchCallback): Watcher {
    const watcher: HubWatcher = {
      key,
      recursive,
      stream,
      sinceIndex,
      onEvent,
      state: 'waiting',
      remove: () => {
        if (watcher.state === 'waiting') this.unregister(watcher)
        watcher.state = 'removed'
      },
    }
    let list = this.watchersByKey.get(key)
    if (list === undefined) {
      list = new Set()
      this.watchersByKey.set(key, list)
    }
    list.add(watcher)
    this.registered += 1
    return watcher
  }

  /** The keys strictly below `dirKey` that have watchers (the candidates of a removal). */
  watchedKeysBelow(dirKey: string): string[] {
    const keys: string[] = []
    for (const key of this.watchersByKey.keys()) if (isKeyBelow(key, dirKey)) keys.push(key)
    return keys
  }

  /**
   * Queues `record` for every watcher it reaches (spec §11.3, live column; §11.9):
   * watchers at `record.key`; recursive watchers at its ancestors unless the key is hidden
   * from them; and, for a removal, watchers at `removedKeys` (keys below the removed node
   * that existed just before it). Refreshes reach nobody. A non-stream watcher leaves the
   * hub at once, so that a later event in the same batch cannot reach it.
   *
   * @param removedKeys existing watched keys strictly below `record.key`; [] otherwise.
   */
  queue(record: HistoryRecord, removedKeys: readonly string[]): void {
    if (record.refresh) return
    const reached = new Set<HubWatcher>()
    for (const key of removedKeys) {
      assert(isKeyBelow(key, record.key), 'removed keys lie below the event key')
      for (const watcher of this.watchersAt(key)) this.offer(watcher, record, reached)
    }
    for (const key of [ROOT_KEY, ...keyPrefixes(record.key)]) {
      for (const watcher of this.watchersAt(key)) {
        const reaches = key === record.key || (watcher.recursive && !isHiddenBelow(key, record.key))
        if (reaches) this.offer(watcher, record, reached)
      }
    }
  }

  /**
   * Delivers the queued notifications in event order. A stream watcher whose callback
   * answers false is removed; a non-stream watcher is done after its one event.
   */
  flush(): void {
    const batch = this.pending
    this.pending = []
    for (const { watcher, record } of batch) {
      if (watcher.state === 'removed') continue
      const taken = watcher.onEvent(record)
      if (!watcher.stream) {
        assert(watcher.state !== 'waiting', 'a non-stream watcher left the hub when queued')
        watcher.state = 'removed'
      } else if (!taken) {
        watcher.remove()
      }
    }
  }

  /** The watchers registered at `key`, copied so the caller may unregister while iterating. */
  private watchersAt(key: string): HubWatcher[] {
    const list = this.watchersByKey.get(key)
    return list === undefined ? [] : [...list]
  }

  /** Queues `record` for `watcher` unless it had it already or it starts later. */
  private offer(watcher: HubWatcher, record: HistoryRecord, reached: Set<HubWatcher>): void {
    if (reached.has(watcher)) return
    if (record.index < watcher.sinceIndex) return
    assert(watcher.state === 'waiting', 'only registered watchers are offered events')
    reached.add(watcher)
    this.pending.push({ watcher, record })
    if (!watcher.stream) {
      this.unregister(watcher)
      watcher.state = 'satisfied'
    }
  }

  /** Takes `watcher` out of the lists (state is the caller's business). */
  private unregister(watcher: HubWatcher): void {
    const list = this.watchersByKey.get(watcher.key)
    assert(list !== undefined, 'a registered watcher is listed')
    assert(list.delete(watcher), 'a registered watcher is in its list')
    if (list.size === 0) this.watchersByKey.delete(watcher.key)
    this.registered -= 1
    assert(this.registered >= 0)
  }
}
