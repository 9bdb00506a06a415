/**
 * The v2 store: etcd v2's key tree semantics over a `StoreBackend`, pure and synchronous.
 * Every successful write or expiry consumes one etcd index and appends one history event;
 * a failure changes nothing. Time is an argument. Modelled on etcd 3.4
 * server/etcdserver/api/v2store/store.go; behaviour per spec v2-api.md §3, §4, §7-§11.
 */
import { ErrorCode, V2Error } from '../v2error/index.js'
import { assert, unreachable } from '../lib/index.js'
import { compareKeys } from './key-order.js'
import { ROOT_KEY, assertKey, childKey, isHiddenKey, isKeyBelow, keyPrefixes, parentKey } from './key-path.js'
import { encodeEvent, nodeView, type NodeView } from './encode.js'
import { expiresAtMsMax, type StoreLimits } from './limits.js'
import { WatcherHub, historyMatches, type WatchCallback, type WatchStart } from './watcher-hub.js'
import type {
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

/** The root: always present, an index-less directory, never stored (spec §4.4). */
const ROOT_NODE: NodeRecord = {
  key: ROOT_KEY,
  dir: true,
  value: '',
  createdIndex: 0,
  modifiedIndex: 0,
  expiresAtMs: null,
}

/** History events read from the backend per page while scanning for a watch. */
const HISTORY_PAGE_EVENTS = 100

/** Digits of an in-order key's name: every uint64 fits, so byte order is numeric order (§8). */
const IN_ORDER_NAME_DIGITS = 20

/** Where a path walk ended (etcd store.go internalGet). */
type Lookup =
  | { readonly kind: 'found'; readonly node: NodeRecord }
  /** `missingKey`: the first component of the path that does not exist (spec Q17). */
  | { readonly kind: 'missing'; readonly missingKey: string }
  /** `fileKey`: a file on the path above the target. */
  | { readonly kind: 'underFile'; readonly fileKey: string }

/** The request variant of one store operation. */
type RequestOf<Op extends StoreRequest['op']> = Extract<StoreRequest, { op: Op }>

/** A directory view whose children are still being collected. */
type ListingView = NodeView & { nodes: NodeView[] }

/** The in-memory counters of `/v2/stats/store` (all but `watchers`). */
type Counter = Exclude<keyof StoreStats, 'watchers'>

/** The success and failure counter of each write operation (etcd stats.go). */
const writeCounters: Readonly<Record<StoreRequest['op'], readonly [Counter, Counter]>> = {
  set: ['setsSuccess', 'setsFail'],
  create: ['createSuccess', 'createFail'],
  update: ['updateSuccess', 'updateFail'],
  compareAndSwap: ['compareAndSwapSuccess', 'compareAndSwapFail'],
  delete: ['deleteSuccess', 'deleteFail'],
  compareAndDelete: ['compareAndDeleteSuccess', 'compareAndDeleteFail'],
}

/** The key tree, its etcd index, TTLs, event history and watchers. */
export class Store {
  private readonly hub = new WatcherHub()
  /** Counters since this process started (etcd keeps them in memory too, spec §12.3). */
  private readonly counters: Record<Counter, number> = {
    getsSuccess: 0,
    getsFail: 0,
    setsSuccess: 0,
    setsFail: 0,
    deleteSuccess: 0,
    deleteFail: 0,
    updateSuccess: 0,
    updateFail: 0,
    createSuccess: 0,
    createFail: 0,
    compareAndSwapSuccess: 0,
    compareAndSwapFail: 0,
    compareAndDeleteSuccess: 0,
    compareAndDeleteFail: 0,
    expireCount: 0,
  }

  constructor(
    private readonly backend: StoreBackend,
    private readonly limits: StoreLimits,
  ) {
    assert(Number.isSafeInteger(limits.historyEventsMax), 'historyEventsMax is an integer')
    assert(limits.historyEventsMax >= 1, 'historyEventsMax is at least 1')
    assert(Number.isSafeInteger(limits.watchersMax), 'watchersMax is an integer')
    assert(limits.watchersMax >= 0, 'watchersMax is not negative')
  }

  /** The etcd index: the number of the last store change (`X-Etcd-Index`), 0 when none. */
  get currentIndex(): EtcdIndex {
    return this.backend.lastEventIndex()
  }

  /** Watchers registered now. */
  get watcherCount(): number {
    return this.hub.count
  }

  /**
   * Reads `key` (spec §3.2 get, §4.3 listings). A directory lists its visible children
   * (hidden ones left out at every depth), nested when `recursive`, always sorted by UTF-8
   * bytes of key (`sorted` is implied, Q3). `ttl` fields are computed against `nowMs`.
   *
   * @returns the `get` event; `index` is the current etcd index.
   * @throws V2Error 100 naming the first missing component, 104 naming a file on the path.
   */
  get(key: string, options: GetOptions, nowMs: number): Event {
    assertKey(key)
    assertTimeMs(nowMs)
    const found = this.lookup(key)
    if (found.kind !== 'found') {
      this.counters.getsFail += 1
      throw this.lookupError(found)
    }
    const view = found.node.dir ? this.listing(found.node, options.recursive) : nodeView(found.node, true)
    this.counters.getsSuccess += 1
    return { action: 'get', index: this.currentIndex, json: encodeEvent('get', view, undefined, nowMs), created: false }
  }

  /**
   * Applies one write (spec §3.1 dispatch, §3.2 semantics, §8, §9, §10). On success it
   * consumes exactly one etcd index, appends one history event and queues its watcher
   * notifications (delivered by `flushNotifications`). On failure nothing changes.
   *
   * @param timeMs the proposer's clock (ms since the epoch) carried in the log entry: TTLs
   *               expire at `timeMs + ttlSeconds * 1000`, and the answer's `ttl` counts from it.
   * @throws V2Error 100, 101, 102, 104, 105, 107 or 108 with `index` = the current index.
   */
  apply(request: StoreRequest, timeMs: number): Event {
    assertKey(request.key)
    assertTimeMs(timeMs)
    const [success, failure] = writeCounters[request.op]
    try {
      const event = this.applyWrite(request, timeMs)
      this.counters[success] += 1
      return event
    } catch (error) {
      if (error instanceof V2Error) this.countFailure(request, error, failure)
      throw error
    }
  }

  /**
   * Counts a failed write as etcd 3.4.23 does (recorded, test/conformance stats-store): a
   * compareAndDelete whose comparison fails is counted as a success (etcd's deferred counter
   * reads an error variable the failing return never sets), and a POST into a file counts a
   * failed set as well as a failed create.
   */
  private countFailure(request: StoreRequest, error: V2Error, failure: Counter): void {
    if (request.op === 'compareAndDelete' && error.errorCode === ErrorCode.TestFailed) {
      this.counters.compareAndDeleteSuccess += 1
      return
    }
    if (request.op === 'create' && request.inOrder && error.errorCode === ErrorCode.NotDir) this.counters.setsFail += 1
    this.counters[failure] += 1
  }

  /**
   * Removes the nodes whose expiry is at or before `timeMs`, earliest first (ties by key),
   * each as an `expire` event with its own index (spec §9.5): the first `keysMax` of them,
   * so that one sync entry's work is bounded (the leader proposes another while keys are
   * still due). An expiring directory takes its subtree; TTLs below it are dropped without
   * events of their own. Same state, `timeMs` and `keysMax` → same events, on every member.
   *
   * @param timeMs  the leader's clock carried in the sync entry (ARCHITECTURE decision 2).
   * @param keysMax the most due nodes looked at, carried in the sync entry too (default: all,
   *                as entries written before the bound say nothing).
   * @returns the number of `expire` events (≤ keysMax: a node already removed with an
   *          ancestor that expired first counts against the bound without an event).
   */
  expire(timeMs: number, keysMax = Number.POSITIVE_INFINITY): number {
    assertTimeMs(timeMs)
    assert(keysMax >= 1, 'expire: keysMax must be at least 1')
    const due = this.backend.expiredBy(timeMs, keysMax)
    assert(due.length <= keysMax, 'the backend answered at most keysMax nodes')
    assertExpiryOrder(due, timeMs)
    let expired = 0
    for (const candidate of due) {
      const node = this.backend.getNode(candidate.key)
      if (node === undefined) continue // removed with an ancestor that expired first
      this.expireNode(node, timeMs)
      expired += 1
    }
    return expired
  }

  /** The earliest expiry of any node (ms since the epoch), or undefined when none has a TTL. */
  earliestExpirationMs(): number | undefined {
    return this.backend.earliestExpirationMs()
  }

  /**
   * Starts a watch on `key` (spec §11). `sinceIndex` 0 means "after the current index".
   * A non-stream watch answered from history gets its first matching event and no watcher;
   * otherwise a watcher is registered (a non-stream one leaves after its first event). A
   * stream gets every matching history event (Q22 fixed), then live events.
   *
   * @param onEvent receives live events at `flushNotifications`; false removes the watcher.
   * @throws V2Error 401 when `sinceIndex` is older than the history window;
   *         V2Error 300 "too many watchers" beyond `watchersMax`.
   */
  watch(
    key: string,
    options: { readonly recursive: boolean; readonly stream: boolean; readonly sinceIndex: EtcdIndex },
    onEvent: WatchCallback,
  ): WatchStart {
    assertKey(key)
    assert(Number.isInteger(options.sinceIndex), 'sinceIndex is an integer')
    assert(options.sinceIndex >= 0, 'sinceIndex is not negative')
    const etcdIndex = this.currentIndex
    const sinceIndex = options.sinceIndex === 0 ? etcdIndex + 1 : options.sinceIndex
    const oldest = this.backend.oldestEventIndex() ?? etcdIndex + 1
    if (sinceIndex < oldest) {
      const cause = `the requested history has been cleared [${oldest}/${sinceIndex}]`
      throw new V2Error(ErrorCode.EventIndexCleared, cause, etcdIndex)
    }
    const wanted = options.stream ? Number.POSITIVE_INFINITY : 1
    const fromHistory = this.scanHistory(key, options.recursive, sinceIndex, wanted)
    if (!options.stream && fromHistory.length > 0) return { etcdIndex, fromHistory, watcher: undefined }
    if (this.hub.count >= this.limits.watchersMax) {
      throw new V2Error(ErrorCode.RaftInternal, 'too many watchers', etcdIndex)
    }
    const watcher = this.hub.add(key, options.recursive, options.stream, sinceIndex, onEvent)
    return { etcdIndex, fromHistory, watcher }
  }

  /**
   * Delivers the watcher notifications of the writes and expiries applied since the last
   * call. The member loop calls it after the transaction holding them has committed.
   */
  flushNotifications(): void {
    this.hub.flush()
  }

  /** The `/v2/stats/store` counters, in etcd's field order (spec §12.3). */
  stats(): StoreStats {
    const c = this.counters
    return {
      getsSuccess: c.getsSuccess,
      getsFail: c.getsFail,
      setsSuccess: c.setsSuccess,
      setsFail: c.setsFail,
      deleteSuccess: c.deleteSuccess,
      deleteFail: c.deleteFail,
      updateSuccess: c.updateSuccess,
      updateFail: c.updateFail,
      createSuccess: c.createSuccess,
      createFail: c.createFail,
      compareAndSwapSuccess: c.compareAndSwapSuccess,
      compareAndSwapFail: c.compareAndSwapFail,
      compareAndDeleteSuccess: c.compareAndDeleteSuccess,
      compareAndDeleteFail: c.compareAndDeleteFail,
      expireCount: c.expireCount,
      watchers: this.hub.count,
    }
  }

  /** Dispatches one write to its operation. */
  private applyWrite(request: StoreRequest, timeMs: number): Event {
    switch (request.op) {
      case 'set':
        return this.applySet(request, timeMs)
      case 'create':
        return this.applyCreate(request, timeMs)
      case 'update':
        return this.applyUpdate(request, timeMs)
      case 'compareAndSwap':
        return this.applyCompareAndSwap(request, timeMs)
      case 'delete':
        return this.applyDelete(request, timeMs)
      case 'compareAndDelete':
        return this.applyCompareAndDelete(request, timeMs)
      default:
        return unreachable(request)
    }
  }

  /**
   * set (spec §3.2): 104, then 100 for a refresh of a missing key, then 107, then 102 over
   * a directory. An existing file is replaced by a new node (new createdIndex, `prevNode`);
   * a refresh keeps the value but still recreates the node (Q9) and reaches no watcher.
   */
  private applySet(request: RequestOf<'set'>, timeMs: number): Event {
    const current = this.currentIndex
    const found = this.lookup(request.key)
    if (found.kind === 'underFile') throw this.lookupError(found)
    if (request.refresh && found.kind === 'missing') throw this.lookupError(found)
    if (request.key === ROOT_KEY) throw new V2Error(ErrorCode.RootReadOnly, ROOT_KEY, current)
    const prev = found.kind === 'found' ? found.node : undefined
    if (prev?.dir === true) throw new V2Error(ErrorCode.NotFile, request.key, current)
    const index = current + 1
    const value = request.refresh && prev !== undefined ? prev.value : request.value
    const node = newNode(request.key, request.dir, value, index, expiresAt(timeMs, request.ttlSeconds))
    if (found.kind === 'missing') this.createParents(found.missingKey, node.key, index)
    this.backend.putNode(node)
    const json = encodeEvent('set', nodeView(node, true), prev && nodeView(prev, true), timeMs)
    this.commit(recordOf(index, 'set', node, request.refresh, json), [])
    return { action: 'set', index, json, created: prev === undefined }
  }

  /**
   * create (PUT prevExist=false, and POST with `inOrder`; spec §3.2, §8): 107, 104, then 105
   * when the name exists. Missing parents are created. An in-order name is the new index,
   * zero-padded to 20 digits.
   */
  private applyCreate(request: RequestOf<'create'>, timeMs: number): Event {
    const current = this.currentIndex
    const index = current + 1
    const key = request.inOrder ? childKey(request.key, inOrderName(index)) : request.key
    if (key === ROOT_KEY) throw new V2Error(ErrorCode.RootReadOnly, ROOT_KEY, current)
    const found = this.lookup(key)
    if (found.kind === 'underFile') throw this.lookupError(found)
    if (found.kind === 'found') throw new V2Error(ErrorCode.NodeExist, key, current)
    const node = newNode(key, request.dir, request.value, index, expiresAt(timeMs, request.ttlSeconds))
    this.createParents(found.missingKey, key, index)
    this.backend.putNode(node)
    const json = encodeEvent('create', nodeView(node, true), undefined, timeMs)
    this.commit(recordOf(index, 'create', node, false, json), [])
    return { action: 'create', index, json, created: true }
  }

  /**
   * update (PUT prevExist=true; spec §3.2, §9.2): 107, 104/100, 102 for a value on a
   * directory. The value and TTL become the sent ones (a refresh keeps the value). A
   * directory only changes its TTL and keeps its stored modifiedIndex while the answer
   * shows the new index (Q16, kept).
   */
  private applyUpdate(request: RequestOf<'update'>, timeMs: number): Event {
    const current = this.currentIndex
    if (request.key === ROOT_KEY) throw new V2Error(ErrorCode.RootReadOnly, ROOT_KEY, current)
    const prev = this.mustGet(request.key)
    if (prev.dir && request.value !== '') throw new V2Error(ErrorCode.NotFile, request.key, current)
    const index = current + 1
    const expiresAtMs = expiresAt(timeMs, request.ttlSeconds)
    const value = request.refresh ? prev.value : request.value
    const node: NodeRecord = prev.dir
      ? { ...prev, expiresAtMs }
      : { ...prev, value, modifiedIndex: index, expiresAtMs }
    this.backend.putNode(node)
    const view: NodeView = { ...nodeView(node, true), modifiedIndex: index }
    const json = encodeEvent('update', view, nodeView(prev, true), timeMs)
    this.commit(recordOf(index, 'update', node, request.refresh, json), [])
    return { action: 'update', index, json, created: false }
  }

  /**
   * compareAndSwap (spec §3.2, §10): 107, 104/100, 102 on a directory, 101 when a
   * condition fails; then like update of a file (createdIndex kept).
   */
  private applyCompareAndSwap(request: RequestOf<'compareAndSwap'>, timeMs: number): Event {
    const current = this.currentIndex
    if (request.key === ROOT_KEY) throw new V2Error(ErrorCode.RootReadOnly, ROOT_KEY, current)
    const prev = this.mustGet(request.key)
    if (prev.dir) throw new V2Error(ErrorCode.NotFile, request.key, current)
    const cause = compareFailure(prev, request.prevValue, request.prevIndex)
    if (cause !== undefined) throw new V2Error(ErrorCode.TestFailed, cause, current)
    const index = current + 1
    const value = request.refresh ? prev.value : request.value
    const node: NodeRecord = { ...prev, value, modifiedIndex: index, expiresAtMs: expiresAt(timeMs, request.ttlSeconds) }
    this.backend.putNode(node)
    const json = encodeEvent('compareAndSwap', nodeView(node, true), nodeView(prev, true), timeMs)
    this.commit(recordOf(index, 'compareAndSwap', node, request.refresh, json), [])
    return { action: 'compareAndSwap', index, json, created: false }
  }

  /**
   * delete (spec §3.2): 107, 104/100; a directory needs `dir` or `recursive` (102) and,
   * when not empty (hidden children count), `recursive` (108). One event for the subtree.
   */
  private applyDelete(request: RequestOf<'delete'>, timeMs: number): Event {
    const current = this.currentIndex
    if (request.key === ROOT_KEY) throw new V2Error(ErrorCode.RootReadOnly, ROOT_KEY, current)
    const prev = this.mustGet(request.key)
    if (prev.dir && !request.dir && !request.recursive) {
      throw new V2Error(ErrorCode.NotFile, request.key, current)
    }
    if (prev.dir && !request.recursive && this.backend.children(prev.key).length > 0) {
      throw new V2Error(ErrorCode.DirNotEmpty, request.key, current)
    }
    return this.removeNode(prev, 'delete', timeMs)
  }

  /**
   * compareAndDelete (spec §3.2, §10.2): 104/100; a directory gives 102, the root with an
   * empty cause (Q2); 101 when a condition fails; else the file is removed.
   */
  private applyCompareAndDelete(request: RequestOf<'compareAndDelete'>, timeMs: number): Event {
    const current = this.currentIndex
    const prev = this.mustGet(request.key)
    if (prev.dir) throw new V2Error(ErrorCode.NotFile, prev.key === ROOT_KEY ? '' : prev.key, current)
    const cause = compareFailure(prev, request.prevValue, request.prevIndex)
    if (cause !== undefined) throw new V2Error(ErrorCode.TestFailed, cause, current)
    return this.removeNode(prev, 'compareAndDelete', timeMs)
  }

  /** Expires `node` (and its subtree) as one `expire` event. */
  private expireNode(node: NodeRecord, timeMs: number): void {
    this.removeNode(node, 'expire', timeMs)
    this.counters.expireCount += 1
  }

  /**
   * Removes `prev` and everything below it as one event whose node has the new
   * modifiedIndex, the kept createdIndex and no value (spec §4.2). Watchers at existing
   * nodes below it are told too (spec §11.3), so they are found before the removal.
   */
  private removeNode(prev: NodeRecord, action: 'delete' | 'compareAndDelete' | 'expire', timeMs: number): Event {
    assert(prev.key !== ROOT_KEY, 'the root is never removed')
    const index = this.currentIndex + 1
    const removedKeys = prev.dir ? this.existingWatchedKeysBelow(prev.key) : []
    this.backend.deleteTree(prev.key)
    const view: NodeView = {
      key: prev.key,
      value: undefined,
      dir: prev.dir,
      expiresAtMs: null,
      nodes: undefined,
      modifiedIndex: index,
      createdIndex: prev.createdIndex,
    }
    const json = encodeEvent(action, view, nodeView(prev, true), timeMs)
    this.commit(recordOf(index, action, prev, false, json), removedKeys)
    return { action, index, json, created: false }
  }

  /** Watched keys strictly below `dirKey` whose node exists now. */
  private existingWatchedKeysBelow(dirKey: string): string[] {
    return this.hub.watchedKeysBelow(dirKey).filter((key) => this.backend.getNode(key) !== undefined)
  }

  /**
   * Records an applied change: appends its event, trims the history to
   * `historyEventsMax` events, and queues its watcher notifications.
   */
  private commit(record: HistoryRecord, removedKeys: readonly string[]): void {
    assert(record.index === this.currentIndex + 1, 'each change takes the next index')
    this.backend.appendEvent(record)
    assert(this.backend.lastEventIndex() === record.index, 'the backend kept the event')
    const keepFrom = record.index - this.limits.historyEventsMax + 1
    const oldest = this.backend.oldestEventIndex()
    assert(oldest !== undefined, 'the history holds the new event')
    if (oldest < keepFrom) this.backend.trimEventsBefore(keepFrom)
    this.hub.queue(record, removedKeys)
  }

  /** Creates the missing directories from `missingKey` down to the parent of `key`. */
  private createParents(missingKey: string, key: string, index: EtcdIndex): void {
    for (const prefix of keyPrefixes(key)) {
      if (prefix === key) break
      if (prefix.length < missingKey.length) continue
      this.backend.putNode(newNode(prefix, true, '', index, null))
    }
  }

  /** Walks `key` from the root (etcd internalGet): the node, or where the walk stopped. */
  private lookup(key: string): Lookup {
    if (key === ROOT_KEY) return { kind: 'found', node: ROOT_NODE }
    // A stored node's ancestors are all directories (putNode keeps it so), so a node found at
    // once needs no walk; the walk only names what is missing or in the way.
    const leaf = this.backend.getNode(key)
    if (leaf !== undefined) return { kind: 'found', node: leaf }
    const prefixes = keyPrefixes(key)
    let node: NodeRecord | undefined
    for (const [i, prefix] of prefixes.entries()) {
      node = this.backend.getNode(prefix)
      if (node === undefined) return { kind: 'missing', missingKey: prefix }
      assert(node.key === prefix, 'the backend answers the node asked for')
      if (!node.dir && i < prefixes.length - 1) return { kind: 'underFile', fileKey: prefix }
    }
    assert(node !== undefined)
    return { kind: 'found', node }
  }

  /** The node at `key`; throws 104 or 100 as a read would. */
  private mustGet(key: string): NodeRecord {
    const found = this.lookup(key)
    if (found.kind !== 'found') throw this.lookupError(found)
    return found.node
  }

  /** The error of a walk that did not find its node: 104 naming the file, or 100. */
  private lookupError(found: Exclude<Lookup, { kind: 'found' }>): V2Error {
    if (found.kind === 'underFile') return new V2Error(ErrorCode.NotDir, found.fileKey, this.currentIndex)
    return new V2Error(ErrorCode.KeyNotFound, found.missingKey, this.currentIndex)
  }

  /** The view of directory `dir` with its visible children, nested when `recursive`. */
  private listing(dir: NodeRecord, recursive: boolean): NodeView {
    const top: ListingView = { ...nodeView(dir, true), nodes: [] }
    if (!recursive) {
      const children = this.backend.children(dir.key)
      assertSortedBelow(children, dir.key)
      for (const child of children) if (!isHiddenKey(child.key)) top.nodes.push(nodeView(child, true))
      return top
    }
    const descendants = this.backend.descendants(dir.key)
    assertSortedBelow(descendants, dir.key)
    const listed = new Map<string, ListingView>([[dir.key, top]])
    for (const node of descendants) {
      if (isHiddenKey(node.key)) continue
      const parent = listed.get(parentKey(node.key))
      if (parent === undefined) continue // below a hidden directory
      const view: ListingView = { ...nodeView(node, true), nodes: [] }
      parent.nodes.push(view)
      if (node.dir) listed.set(node.key, view)
    }
    return top
  }

  /** History events from `fromIndex` on that answer a watch on `key`, at most `wanted`. */
  private scanHistory(key: string, recursive: boolean, fromIndex: EtcdIndex, wanted: number): HistoryRecord[] {
    const matches: HistoryRecord[] = []
    const lastIndex = this.currentIndex
    let next = fromIndex
    while (next <= lastIndex && matches.length < wanted) {
      const page = this.backend.eventsFrom(next, HISTORY_PAGE_EVENTS)
      assert(page.length > 0, 'the history holds every index from the oldest kept to the last')
      for (const record of page) {
        assert(record.index === next, 'history events are consecutive')
        next += 1
        if (!historyMatches(record, key, recursive)) continue
        matches.push(record)
        if (matches.length >= wanted) break
      }
    }
    return matches
  }
}

/** A new node record with both indexes at `index`; directories hold no value. */
function newNode(key: string, dir: boolean, value: string, index: EtcdIndex, expiresAtMs: number | null): NodeRecord {
  return { key, dir, value: dir ? '' : value, createdIndex: index, modifiedIndex: index, expiresAtMs }
}

/** The history record of an event about `node`. */
function recordOf(index: EtcdIndex, action: Action, node: NodeRecord, refresh: boolean, json: string): HistoryRecord {
  return { index, action, key: node.key, dir: node.dir, refresh, json }
}

/** The name of an in-order key: the index in decimal, zero-padded to 20 digits (spec §8). */
function inOrderName(index: EtcdIndex): string {
  return String(index).padStart(IN_ORDER_NAME_DIGITS, '0')
}

/** The expiry of a write at `timeMs` with `ttlSeconds` (null: permanent). */
function expiresAt(timeMs: number, ttlSeconds: number | null): number | null {
  if (ttlSeconds === null) return null
  assert(Number.isSafeInteger(ttlSeconds), 'ttlSeconds is an integer')
  assert(ttlSeconds >= 0, 'ttlSeconds is not negative')
  const expiresAtMs = timeMs + ttlSeconds * 1000
  assert(expiresAtMs <= expiresAtMsMax, 'the HTTP layer bounds TTLs (Q13)')
  return expiresAtMs
}

/**
 * The 101 cause when a compare fails (spec §10.3), or undefined when it holds. An absent
 * or empty `prevValue`, and an empty or zero `prevIndex`, are no condition (etcd node.go
 * Compare). `prevIndex` is uint64 decimal text, compared as text once leading zeros go.
 */
function compareFailure(node: NodeRecord, prevValue: string | undefined, prevIndex: string): string | undefined {
  assert(/^[0-9]*$/.test(prevIndex), 'prevIndex is decimal digits')
  const wantedIndex = prevIndex.replace(/^0+/, '')
  const valueFails = prevValue !== undefined && prevValue !== '' && prevValue !== node.value
  const indexFails = wantedIndex !== '' && wantedIndex !== String(node.modifiedIndex)
  const parts: string[] = []
  if (valueFails) parts.push(`[${prevValue} != ${node.value}]`)
  if (indexFails) parts.push(`[${wantedIndex} != ${node.modifiedIndex}]`)
  return parts.length === 0 ? undefined : parts.join(' ')
}

/** Fails unless `timeMs` is an integer count of ms since the epoch. */
function assertTimeMs(timeMs: number): void {
  assert(Number.isSafeInteger(timeMs), 'time is an integer of ms')
  assert(timeMs >= 0, 'time is not before the epoch')
}

/** Checks what the backend answered for a listing: below `dirKey`, ascending by key. */
function assertSortedBelow(nodes: readonly NodeRecord[], dirKey: string): void {
  let previous: string | undefined
  for (const node of nodes) {
    assert(isKeyBelow(node.key, dirKey), 'listed nodes lie below the directory')
    assert(previous === undefined || compareKeys(previous, node.key) < 0, 'listed nodes ascend by key')
    previous = node.key
  }
}

/** Checks what the backend answered for an expiry: due by `timeMs`, by (expiresAtMs, key). */
function assertExpiryOrder(due: readonly NodeRecord[], timeMs: number): void {
  let previous: NodeRecord | undefined
  for (const node of due) {
    assert(node.expiresAtMs !== null, 'an expired node had an expiry')
    assert(node.expiresAtMs <= timeMs, 'an expired node is due')
    if (previous !== undefined && previous.expiresAtMs !== null) {
      const order = previous.expiresAtMs - node.expiresAtMs || compareKeys(previous.key, node.key)
      assert(order < 0, 'expired nodes ascend by (expiresAtMs, key)')
    }
    previous = node
  }
}
