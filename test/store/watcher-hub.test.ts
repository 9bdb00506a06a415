/**
 * Goal: watches see the events etcd 3.4 would show them (spec v2-api.md §11.2-§11.5), with
 * the fixes Q19 (removed dirs match by path), Q21 (one delivery per watcher), Q22 (streams
 * continue after history), and notifications held until `flushNotifications`.
 * Method: tables of (seed writes, watch, writes) on a store over the memory backend; a
 * watcher records what it receives.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { V2Error } from '../../src/v2error/index.js'
import type { HistoryRecord, Store, StoreRequest } from '../../src/store/index.js'
import { T0, req, storeWith } from './store-fixture.js'

/** A callback that records the indexes it receives and answers `answer`. */
function recorder(answer = true): { indexes: number[]; onEvent: (record: HistoryRecord) => boolean } {
  const indexes: number[] = []
  return { indexes, onEvent: (record) => (indexes.push(record.index), answer) }
}

/** Applies `writes` at T0 and delivers their notifications. */
function applyAll(store: Store, writes: readonly StoreRequest[]): void {
  for (const write of writes) store.apply(write, T0)
  store.flushNotifications()
}

interface WatchSpec {
  readonly key: string
  readonly recursive?: boolean
}

describe('live watchers (registered before the write)', () => {
  const cases: Array<{ name: string; seed?: StoreRequest[]; watch: WatchSpec; write: StoreRequest; delivered: boolean }> = [
    { name: 'a write at the watched key', watch: { key: '/a' }, write: req.set('/a', '1'), delivered: true },
    { name: 'a write below a recursive watch', watch: { key: '/w', recursive: true }, write: req.set('/w/x/y', '1'), delivered: true },
    { name: 'a write below a non-recursive watch', watch: { key: '/w' }, write: req.set('/w/x', '1'), delivered: false },
    { name: 'a hidden key below a recursive watch', watch: { key: '/wd', recursive: true }, write: req.set('/wd/_h', '1'), delivered: false },
    { name: 'a key in a hidden dir below a recursive watch', watch: { key: '/wd', recursive: true }, write: req.set('/wd/_hd/x', '1'), delivered: false },
    { name: 'a key below a recursive watch inside a hidden dir', watch: { key: '/_foo', recursive: true }, write: req.set('/_foo/bar', '1'), delivered: true },
    { name: 'a hidden key watched directly', watch: { key: '/wd/_h' }, write: req.set('/wd/_h', '1'), delivered: true },
    { name: 'any write under a non-recursive watch on the root', watch: { key: '/' }, write: req.set('/x', '1'), delivered: false },
    { name: 'a write under a recursive watch on the root', watch: { key: '/', recursive: true }, write: req.set('/x/y', '1'), delivered: true },
    { name: 'a hidden write under a recursive watch on the root', watch: { key: '/', recursive: true }, write: req.set('/x/_y', '1'), delivered: false },
    { name: 'the implicit creation of the watched dir (Q32)', watch: { key: '/p' }, write: req.set('/p/q/r', '1'), delivered: false },
    { name: 'a refresh (Q10)', seed: [req.set('/r', 'v', { ttlSeconds: 5 })], watch: { key: '/r' }, write: req.set('/r', '', { refresh: true, ttlSeconds: 9 }), delivered: false },
    { name: 'an update refresh', seed: [req.set('/r', 'v', { ttlSeconds: 5 })], watch: { key: '/r' }, write: req.update('/r', '', { refresh: true, ttlSeconds: 9 }), delivered: false },
    { name: 'a directory TTL update', seed: [req.dir('/d')], watch: { key: '/d' }, write: req.update('/d', '', { ttlSeconds: 9 }), delivered: true },
    { name: 'a failed write', seed: [req.set('/a', '1')], watch: { key: '/a' }, write: req.create('/a', '2'), delivered: false },
  ]
  for (const c of cases) {
    test(`${c.delivered ? 'delivers' : 'does not deliver'} ${c.name}`, () => {
      const store = storeWith(c.seed ?? [])
      const seen = recorder()
      store.watch(c.watch.key, { recursive: c.watch.recursive ?? false, stream: false, sinceIndex: 0 }, seen.onEvent)
      try {
        store.apply(c.write, T0)
      } catch (error) {
        if (!(error instanceof V2Error)) throw error
      }
      store.flushNotifications()
      assert.deepEqual(seen.indexes, c.delivered ? [store.currentIndex] : [])
    })
  }
})

describe('removing a directory wakes watchers at existing nodes below it (spec §11.3)', () => {
  const seed = [req.set('/dl/a', '1'), req.set('/dl/sub/_hid', '2'), req.set('/dlx', '3'), req.set('/dl/ttl', '4', { ttlSeconds: 1 })]
  const watches: Array<{ watch: WatchSpec; delivered: boolean }> = [
    { watch: { key: '/dl' }, delivered: true },
    { watch: { key: '/dl/a' }, delivered: true },
    { watch: { key: '/dl/sub/_hid' }, delivered: true },
    { watch: { key: '/dl/sub' }, delivered: true },
    { watch: { key: '/dl/nonexist' }, delivered: false },
    { watch: { key: '/dlx' }, delivered: false },
    { watch: { key: '/', recursive: true }, delivered: true },
    { watch: { key: '/' }, delivered: false },
  ]
  const removals: Array<[string, (store: Store) => void]> = [
    ['delete', (store) => store.apply(req.del('/dl', { recursive: true }), T0)],
    ['expire', (store) => {
      store.apply(req.update('/dl', '', { ttlSeconds: 2 }), T0)
      store.flushNotifications()
      store.expire(T0 + 1_000) // /dl/ttl expires alone first
      store.flushNotifications()
    }],
  ]
  for (const [how, remove] of removals) {
    for (const w of watches) {
      test(`${how}: a watch on ${w.watch.key}${w.watch.recursive === true ? ' (recursive)' : ''} ${w.delivered ? 'is' : 'is not'} woken`, () => {
        const store = storeWith(seed)
        const seen = recorder()
        if (how === 'delete') {
          store.watch(w.watch.key, { recursive: w.watch.recursive ?? false, stream: false, sinceIndex: 0 }, seen.onEvent)
          remove(store)
        } else {
          remove(store)
          store.watch(w.watch.key, { recursive: w.watch.recursive ?? false, stream: false, sinceIndex: 0 }, seen.onEvent)
          assert.equal(store.expire(T0 + 2_000), 1)
        }
        store.flushNotifications()
        assert.deepEqual(seen.indexes, w.delivered ? [store.currentIndex] : [])
      })
    }
  }
})

describe('history scan (waitIndex at or before the current index)', () => {
  const seed: StoreRequest[] = [
    req.set('/wd/_h', '1'), // 1 (creates /wd)
    req.set('/pq/sub/x', '2'), // 2
    req.del('/pq', { recursive: true }), // 3
    req.set('/r', 'v', { ttlSeconds: 5 }), // 4
    req.set('/r', '', { refresh: true, ttlSeconds: 5 }), // 5
    req.set('/imp/a/b', '3'), // 6 (creates /imp and /imp/a)
    req.set('/r', 'w'), // 7
  ]
  const cases: Array<{ name: string; watch: WatchSpec; sinceIndex: number; want: number | undefined }> = [
    { name: 'a hidden key under a recursive watch is returned (Q18)', watch: { key: '/wd', recursive: true }, sinceIndex: 1, want: 1 },
    { name: 'a key below a non-recursive watch is not', watch: { key: '/wd' }, sinceIndex: 1, want: undefined },
    { name: 'a deleted dir answers a watch below it, existing or not', watch: { key: '/pq/sub/none' }, sinceIndex: 1, want: 3 },
    { name: 'a deleted dir answers a watch on itself', watch: { key: '/pq' }, sinceIndex: 1, want: 3 },
    { name: 'a deleted dir does not answer a string-prefix sibling (Q19 fixed)', watch: { key: '/pqx' }, sinceIndex: 1, want: undefined },
    { name: 'a refresh is skipped for the next real event', watch: { key: '/r' }, sinceIndex: 5, want: 7 },
    { name: 'the first match at or after waitIndex is returned', watch: { key: '/r' }, sinceIndex: 4, want: 4 },
    { name: 'implicit parent creation does not answer a watch on the parent', watch: { key: '/imp/a' }, sinceIndex: 6, want: undefined },
    { name: 'the event at the current index is returned', watch: { key: '/', recursive: true }, sinceIndex: 7, want: 7 },
    { name: 'a recursive watch on the root sees hidden keys in history', watch: { key: '/', recursive: true }, sinceIndex: 1, want: 1 },
  ]
  for (const c of cases) {
    test(c.name, () => {
      const store = storeWith(seed)
      const seen = recorder()
      const start = store.watch(c.watch.key, { recursive: c.watch.recursive ?? false, stream: false, sinceIndex: c.sinceIndex }, seen.onEvent)
      assert.equal(start.etcdIndex, 7)
      assert.deepEqual(start.fromHistory.map((r) => r.index), c.want === undefined ? [] : [c.want])
      assert.equal(start.watcher === undefined, c.want !== undefined, 'a watch answered from history registers nothing')
      assert.equal(store.watcherCount, c.want === undefined ? 1 : 0)
    })
  }
})

test('a future waitIndex skips earlier matching events', () => {
  const store = storeWith([req.set('/a', '0')])
  const seen = recorder()
  const start = store.watch('/a', { recursive: false, stream: false, sinceIndex: 4 }, seen.onEvent)
  assert.deepEqual(start.fromHistory, [])
  applyAll(store, [req.set('/a', '1'), req.set('/a', '2')])
  assert.deepEqual(seen.indexes, [])
  applyAll(store, [req.set('/a', '3'), req.set('/a', '4')])
  assert.deepEqual(seen.indexes, [4])
})

test('notifications wait for flushNotifications', () => {
  const store = storeWith([])
  const seen = recorder()
  store.watch('/a', { recursive: false, stream: true, sinceIndex: 0 }, seen.onEvent)
  store.apply(req.set('/a', '1'), T0)
  store.apply(req.set('/a', '2'), T0)
  assert.deepEqual(seen.indexes, [])
  store.flushNotifications()
  assert.deepEqual(seen.indexes, [1, 2])
  store.flushNotifications()
  assert.deepEqual(seen.indexes, [1, 2])
})

test('a non-stream watcher gets one event, even when two are queued, and leaves', () => {
  const store = storeWith([])
  const seen = recorder()
  store.watch('/a', { recursive: false, stream: false, sinceIndex: 0 }, seen.onEvent)
  assert.equal(store.watcherCount, 1)
  store.apply(req.set('/a', '1'), T0)
  assert.equal(store.watcherCount, 0)
  store.apply(req.set('/a', '2'), T0)
  store.flushNotifications()
  assert.deepEqual(seen.indexes, [1])
})

test('a stream gets every matching history event, then live ones (Q22 fixed)', () => {
  const store = storeWith([req.set('/st/a', '1'), req.set('/other', 'x'), req.set('/st/b', '2')])
  const seen = recorder()
  const start = store.watch('/st', { recursive: true, stream: true, sinceIndex: 1 }, seen.onEvent)
  assert.deepEqual(start.fromHistory.map((r) => r.index), [1, 3])
  assert.equal(start.fromHistory[0]?.json, '{"action":"set","node":{"key":"/st/a","value":"1","modifiedIndex":1,"createdIndex":1}}\n')
  assert.notEqual(start.watcher, undefined)
  applyAll(store, [req.del('/st/a'), req.set('/other', 'y'), req.set('/st/c', '3')])
  assert.deepEqual(seen.indexes, [4, 6])
  assert.equal(store.watcherCount, 1)
})

test('a stream watcher on a deleted directory gets the delete once (Q21 fixed)', () => {
  const store = storeWith([req.set('/sd/x', '1')])
  const seen = recorder()
  store.watch('/sd', { recursive: true, stream: true, sinceIndex: 0 }, seen.onEvent)
  applyAll(store, [req.del('/sd', { recursive: true })])
  assert.deepEqual(seen.indexes, [2])
})

test('remove() unregisters at once and drops queued events', () => {
  const store = storeWith([])
  const seen = recorder()
  const { watcher } = store.watch('/a', { recursive: false, stream: true, sinceIndex: 0 }, seen.onEvent)
  store.apply(req.set('/a', '1'), T0)
  watcher?.remove()
  watcher?.remove()
  assert.equal(store.watcherCount, 0)
  applyAll(store, [req.set('/a', '2')])
  assert.deepEqual(seen.indexes, [])
})

test('a stream watcher whose callback answers false is removed (slow consumer)', () => {
  const store = storeWith([])
  const seen = recorder(false)
  store.watch('/a', { recursive: false, stream: true, sinceIndex: 0 }, seen.onEvent)
  applyAll(store, [req.set('/a', '1'), req.set('/a', '2')])
  assert.deepEqual(seen.indexes, [1])
  assert.equal(store.watcherCount, 0)
})

test('a waitIndex older than the history window is 401 with the oldest kept index', () => {
  const store = storeWith(Array.from({ length: 12 }, (_, i) => req.set('/k', String(i))), { historyEventsMax: 5 })
  assert.throws(
    () => store.watch('/k', { recursive: false, stream: false, sinceIndex: 7 }, () => true),
    (error: unknown) => {
      assert.ok(error instanceof V2Error)
      assert.deepEqual([error.errorCode, error.detail, error.index], [401, 'the requested history has been cleared [8/7]', 12])
      return true
    },
  )
  const start = store.watch('/k', { recursive: false, stream: false, sinceIndex: 8 }, () => true)
  assert.deepEqual(start.fromHistory.map((r) => r.index), [8])
})

test('more than watchersMax watchers is error 300; answers from history do not count', () => {
  const store = storeWith([req.set('/a', '1')], { watchersMax: 2 })
  store.watch('/a', { recursive: false, stream: false, sinceIndex: 0 }, () => true)
  store.watch('/b', { recursive: false, stream: true, sinceIndex: 0 }, () => true)
  const fromHistory = store.watch('/a', { recursive: false, stream: false, sinceIndex: 1 }, () => true)
  assert.equal(fromHistory.fromHistory.length, 1)
  assert.throws(
    () => store.watch('/c', { recursive: false, stream: false, sinceIndex: 0 }, () => true),
    (error: unknown) => error instanceof V2Error && error.errorCode === 300 && error.detail === 'too many watchers' && error.index === 1,
  )
  assert.equal(store.watcherCount, 2)
  assert.equal(store.stats().watchers, 2)
})
