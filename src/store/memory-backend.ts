/**
 * The store's tree and event history held in memory: for unit tests and the cluster
 * simulator. Production uses the SQLite backend of the storage module; both keep the
 * `StoreBackend` contract (store/types.ts), including its key order (UTF-8 bytes).
 */
import { assert } from '../lib/index.js'
import { compareKeys } from './key-order.js'
import { ROOT_KEY, assertKey, parentKey } from './key-path.js'
import type { EtcdIndex, HistoryRecord, NodeRecord, StoreBackend } from './types.js'

/** A `StoreBackend` over maps. Records are immutable and shared, never copied. */
export class MemoryStoreBackend implements StoreBackend {
  /** Every stored node by key. The root is never stored. */
  private readonly nodes = new Map<string, NodeRecord>()
  /** Keys of the direct children of each directory key ('/' for the root). */
  private readonly childKeys = new Map<string, Set<string>>()
  /** Keys of the nodes whose `expiresAtMs` is not null. */
  private readonly expiringKeys = new Set<string>()
  /** The kept events, ascending and consecutive by index. */
  private events: HistoryRecord[] = []
  /** Index of the last appended event; 0 when none ever. Survives trimming. */
  private lastIndex: EtcdIndex = 0

  getNode(key: string): NodeRecord | undefined {
    assert(key !== ROOT_KEY, 'the root is never stored')
    return this.nodes.get(key)
  }

  children(dirKey: string): NodeRecord[] {
    const keys = this.childKeys.get(dirKey)
    if (keys === undefined) return []
    return this.recordsSorted(keys)
  }

  descendants(dirKey: string): NodeRecord[] {
    const keys: string[] = []
    const stack: string[] = [dirKey]
    for (let key = stack.pop(); key !== undefined; key = stack.pop()) {
      for (const child of this.childKeys.get(key) ?? []) {
        keys.push(child)
        stack.push(child)
      }
    }
    return this.recordsSorted(keys)
  }

  putNode(node: NodeRecord): void {
    assertKey(node.key)
    assert(node.key !== ROOT_KEY, 'the root is never stored')
    const parent = parentKey(node.key)
    assert(parent === ROOT_KEY || this.nodes.get(parent)?.dir === true, 'a node needs a parent directory')
    const old = this.nodes.get(node.key)
    assert(old === undefined || !old.dir || node.dir, 'a directory is replaced only by a directory')
    this.nodes.set(node.key, node)
    let siblings = this.childKeys.get(parent)
    if (siblings === undefined) {
      siblings = new Set()
      this.childKeys.set(parent, siblings)
    }
    siblings.add(node.key)
    if (node.expiresAtMs === null) this.expiringKeys.delete(node.key)
    else this.expiringKeys.add(node.key)
  }

  deleteTree(key: string): void {
    assert(key !== ROOT_KEY, 'the root is never deleted')
    if (!this.nodes.has(key)) return
    this.childKeys.get(parentKey(key))?.delete(key)
    const stack: string[] = [key]
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      for (const child of this.childKeys.get(next) ?? []) stack.push(child)
      this.childKeys.delete(next)
      this.nodes.delete(next)
      this.expiringKeys.delete(next)
    }
  }

  earliestExpirationMs(): number | undefined {
    let earliest: number | undefined
    for (const key of this.expiringKeys) {
      const expiresAtMs = this.nodes.get(key)?.expiresAtMs
      assert(typeof expiresAtMs === 'number', 'an expiring key has an expiry')
      if (earliest === undefined || expiresAtMs < earliest) earliest = expiresAtMs
    }
    return earliest
  }

  expiredBy(timeMs: number, limit = Number.POSITIVE_INFINITY): NodeRecord[] {
    const due: NodeRecord[] = []
    for (const key of this.expiringKeys) {
      const node = this.nodes.get(key)
      assert(node !== undefined, 'an expiring key is stored')
      assert(node.expiresAtMs !== null, 'an expiring key has an expiry')
      if (node.expiresAtMs <= timeMs) due.push(node)
    }
    due.sort((a, b) => (a.expiresAtMs ?? 0) - (b.expiresAtMs ?? 0) || compareKeys(a.key, b.key))
    return Number.isFinite(limit) ? due.slice(0, limit) : due
  }

  appendEvent(record: HistoryRecord): void {
    assert(record.index === this.lastIndex + 1, 'events are appended with consecutive indexes')
    this.events.push(record)
    this.lastIndex = record.index
  }

  eventsFrom(fromIndex: EtcdIndex, limit: number): HistoryRecord[] {
    const oldest = this.events[0]?.index
    if (oldest === undefined) return []
    const offset = Math.max(0, fromIndex - oldest)
    return this.events.slice(offset, offset + limit)
  }

  oldestEventIndex(): EtcdIndex | undefined {
    return this.events[0]?.index
  }

  lastEventIndex(): EtcdIndex {
    return this.lastIndex
  }

  trimEventsBefore(index: EtcdIndex): void {
    const oldest = this.events[0]?.index
    if (oldest === undefined || index <= oldest) return
    this.events = this.events.slice(Math.min(index - oldest, this.events.length))
  }

  /** The records of `keys`, ascending by UTF-8 bytes of key. */
  private recordsSorted(keys: Iterable<string>): NodeRecord[] {
    const records: NodeRecord[] = []
    for (const key of keys) {
      const node = this.nodes.get(key)
      assert(node !== undefined, 'a child key names a stored node')
      records.push(node)
    }
    return records.sort((a, b) => compareKeys(a.key, b.key))
  }
}
