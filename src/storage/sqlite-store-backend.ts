/**
 * The v2 tree and its event history in a member's database: the store's `StoreBackend`
 * (store/types.ts) over the `nodes` and `history` tables. The storage module may not import
 * the store; the rows' types come from the records module, which the store imports too.
 *
 * Keys are full cleaned paths ('/a/b'). Every node below directory D has a key that starts
 * with D + '/', and in UTF-8 byte order those keys are exactly the ones strictly between
 * D + '/' and D + '0' ('0' is the byte after '/'): one range scan of the key index answers
 * `descendants` and `deleteTree`, in the order the store needs (a parent is a prefix of its
 * children, so it comes first). For the root, D + '/' is just '/'.
 */
import { assert } from '../lib/index.js'
import { isAction, type HistoryRecord, type NodeRecord } from '../records/index.js'
import { metaKey } from './schema.js'
import type { ArborDatabase } from './database.js'
import type { HistoryRow, NodeRow, Statements } from './statements.js'

/**
 * The store's backend on SQLite. Writes join the member loop's transaction when one is
 * open (ArborDatabase.transaction); build one per database.
 */
export class SqliteStoreBackend {
  private readonly db: ArborDatabase
  private readonly nodes: Statements['nodes']
  private readonly history: Statements['history']
  private readonly meta: Statements['meta']
  /** Index of the newest event ever appended (0 when none); cached, as every write asks for it. */
  private lastIndex = 0

  constructor(db: ArborDatabase) {
    this.db = db
    this.nodes = db.statements.nodes
    this.history = db.statements.history
    this.meta = db.statements.meta
    this.reload()
    db.onReload(() => this.reload())
  }

  getNode(key: string): NodeRecord | undefined {
    assertNodeKey(key)
    const row = this.nodes.get.get(key)
    return row === undefined ? undefined : toNodeRecord(row)
  }

  /**
   * The nodes right below `dirKey`, ascending by key. They lie in the key range below the
   * directory, among their own descendants: a skip scan reads the next key, and when it lies
   * inside a child's subtree, jumps past that subtree (child + '0'). One indexed read per
   * child, and one per child directory that holds anything.
   */
  children(dirKey: string): NodeRecord[] {
    const { after, before } = rangeBelow(dirKey)
    const out: NodeRecord[] = []
    let row = this.nodes.firstAfter.get(after, before)
    while (row !== undefined) {
      const slash = row.key.indexOf('/', after.length)
      if (slash === -1) {
        out.push(toNodeRecord(row))
        row = this.nodes.firstAfter.get(row.key, before)
      } else {
        row = this.nodes.firstFrom.get(row.key.slice(0, slash) + '0', before)
      }
    }
    return out
  }

  descendants(dirKey: string): NodeRecord[] {
    const range = rangeBelow(dirKey)
    return this.nodes.between.all(range.after, range.before).map(toNodeRecord)
  }

  putNode(node: NodeRecord): void {
    assertNodeKey(node.key)
    assert(!node.dir || node.value === '', `putNode: directory ${node.key} has a value`)
    assert(node.createdIndex <= node.modifiedIndex, `putNode: ${node.key} created after modified`)
    const parent = parentOf(node.key)
    assert(parent === '/' || this.nodes.get.get(parent)?.dir === 1, `putNode: ${node.key} has no parent directory`)
    assert(node.dir || this.nodes.get.get(node.key)?.dir !== 1, `putNode: directory ${node.key} replaced by a file`)
    this.nodes.put.run(
      node.key,
      node.dir ? 1 : 0,
      node.value,
      node.createdIndex,
      node.modifiedIndex,
      node.expiresAtMs,
    )
  }

  deleteTree(key: string): void {
    assertNodeKey(key)
    const range = rangeBelow(key)
    this.db.transaction(() => {
      this.nodes.deleteOne.run(key)
      this.nodes.deleteBetween.run(range.after, range.before)
    })
  }

  earliestExpirationMs(): number | undefined {
    return this.nodes.earliestExpiration.get()?.ms ?? undefined
  }

  expiredBy(timeMs: number, limit = Number.POSITIVE_INFINITY): NodeRecord[] {
    assert(limit >= 0, 'expiredBy: limit must not be negative')
    return this.nodes.expiredBy.all(timeMs, Number.isFinite(limit) ? limit : -1).map(toNodeRecord)
  }

  appendEvent(record: HistoryRecord): void {
    assert(record.index === this.lastIndex + 1, `appendEvent: index ${record.index} after ${this.lastIndex}`)
    this.history.insert.run(
      record.index,
      record.action,
      record.key,
      record.dir ? 1 : 0,
      record.refresh ? 1 : 0,
      record.json,
    )
    this.lastIndex = record.index
  }

  eventsFrom(fromIndex: number, limit: number): HistoryRecord[] {
    assert(limit >= 0, `eventsFrom: negative limit ${limit}`)
    const events = this.history.from.all(fromIndex, limit).map(toHistoryRecord)
    for (let i = 0; i < events.length; i++) {
      const event = events[i]
      assert(event !== undefined, 'hole in events')
      assert(event.index >= fromIndex, `eventsFrom: event ${event.index} before ${fromIndex}`)
      assert(i === 0 || event.index === (events[i - 1]?.index ?? 0) + 1, `eventsFrom: gap before ${event.index}`)
    }
    return events
  }

  oldestEventIndex(): number | undefined {
    return this.history.bounds.get()?.oldest ?? undefined
  }

  lastEventIndex(): number {
    return this.lastIndex
  }

  /**
   * Forgets the events with index < `index`. When none is left, the newest index is written
   * to `meta`, so that `lastEventIndex` survives a restart.
   */
  trimEventsBefore(index: number): void {
    this.db.transaction(() => {
      this.history.deleteBefore.run(index)
      if (index > this.lastIndex) this.meta.put.run(metaKey.historyLastIndex, this.lastIndex)
    })
  }

  private reload(): void {
    this.lastIndex = readLastEventIndex(this.db.statements)
  }
}

/** The newest event index from the file: the history's newest row, or the one saved by a trim. */
export function readLastEventIndex(statements: Statements): number {
  const newest = statements.history.bounds.get()?.newest ?? 0
  const saved = statements.meta.get.get(metaKey.historyLastIndex)?.value ?? 0
  assert(typeof saved === 'number', 'meta history_last_index is not a number')
  return Math.max(newest, saved)
}

/** The parent's key of `key` ('/' for a top-level node). */
export function parentOf(key: string): string {
  const slash = key.lastIndexOf('/')
  return slash === 0 ? '/' : key.slice(0, slash)
}

/** The open key range (after, before) holding exactly the nodes strictly below `dirKey`. */
export function rangeBelow(dirKey: string): { after: string; before: string } {
  assert(dirKey.startsWith('/'), `key ${dirKey} does not start with '/'`)
  const after = dirKey === '/' ? '/' : dirKey + '/'
  return { after, before: after.slice(0, -1) + '0' }
}

function assertNodeKey(key: string): void {
  assert(key.startsWith('/'), `key ${key} does not start with '/'`)
  assert(key !== '/', 'the root is never stored')
  assert(!key.endsWith('/'), `key ${key} ends with '/'`)
}

function toNodeRecord(row: NodeRow): NodeRecord {
  return {
    key: row.key,
    dir: row.dir === 1,
    value: row.value,
    createdIndex: row.created_index,
    modifiedIndex: row.modified_index,
    expiresAtMs: row.expires_at_ms,
  }
}

function toHistoryRecord(row: HistoryRow): HistoryRecord {
  const action = row.action
  assert(isAction(action), `history ${row.idx}: unknown action ${action}`)
  return {
    index: row.idx,
    action,
    key: row.key,
    dir: row.dir === 1,
    refresh: row.refresh === 1,
    json: row.json,
  }
}
