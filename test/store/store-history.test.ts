/**
 * Goal: the etcd index and the event history behave as etcd 3.4's: one index and one event
 * per change, none per failure or read; exactly `historyEventsMax` events kept; refreshes
 * kept but never delivered (spec v2-api.md §5.3, §9.4, §11.2, §11.6).
 * Method: writes on a store over the memory backend, read back through the backend and
 * through watches.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { V2Error } from '../../src/v2error/index.js'
import type { StoreRequest } from '../../src/store/index.js'
import { T0, newStore, req } from './store-fixture.js'

test('each change appends one event whose json is the answer', () => {
  const { store, backend } = newStore()
  const writes: StoreRequest[] = [req.set('/a', '1'), req.create('/b', ''), req.update('/a', '2'), req.cas('/a', '3', { prevValue: '2' }), req.post('/q', 'j'), req.del('/b'), req.cad('/a', { prevIndex: '4' })]
  const answers = writes.map((write) => store.apply(write, T0))
  assert.deepEqual(answers.map((a) => a.index), [1, 2, 3, 4, 5, 6, 7])
  const history = backend.eventsFrom(1, 100)
  assert.deepEqual(history.map((r) => [r.index, r.action, r.key, r.dir, r.refresh]), [
    [1, 'set', '/a', false, false],
    [2, 'create', '/b', false, false],
    [3, 'update', '/a', false, false],
    [4, 'compareAndSwap', '/a', false, false],
    [5, 'create', '/q/00000000000000000005', false, false],
    [6, 'delete', '/b', false, false],
    [7, 'compareAndDelete', '/a', false, false],
  ])
  assert.deepEqual(history.map((r) => r.json), answers.map((a) => a.json))
})

test('failures and reads consume no index and append no event', () => {
  const { store, backend } = newStore()
  store.apply(req.set('/a', '1'), T0)
  for (const write of [req.create('/a', ''), req.del('/nope'), req.set('/', ''), req.cas('/a', '', { prevValue: 'x' })]) {
    assert.throws(() => store.apply(write, T0), V2Error)
  }
  store.get('/a', { recursive: false, sorted: false }, T0)
  assert.equal(store.currentIndex, 1)
  assert.equal(backend.eventsFrom(1, 100).length, 1)
})

test('a refresh is kept in history, flagged, and skipped by watches', () => {
  const { store, backend } = newStore()
  store.apply(req.set('/r', 'v', { ttlSeconds: 5 }), T0)
  store.apply(req.update('/r', '', { refresh: true, ttlSeconds: 5 }), T0)
  assert.deepEqual(backend.eventsFrom(2, 1).map((r) => [r.action, r.refresh]), [['update', true]])
  const start = store.watch('/r', { recursive: false, stream: false, sinceIndex: 2 }, () => true)
  assert.deepEqual(start.fromHistory, [])
  assert.notEqual(start.watcher, undefined)
})

test('exactly historyEventsMax events are kept', () => {
  const { store, backend } = newStore({ historyEventsMax: 4 })
  for (let i = 1; i <= 4; i++) store.apply(req.set('/k', String(i)), T0)
  assert.equal(backend.oldestEventIndex(), 1)
  store.apply(req.set('/k', '5'), T0)
  assert.equal(backend.oldestEventIndex(), 2)
  assert.deepEqual(backend.eventsFrom(0, 100).map((r) => r.index), [2, 3, 4, 5])
})

test("etcd's window: after 1100 writes the oldest waitIndex is the 101st", () => {
  const { store } = newStore()
  for (let i = 1; i <= 1100; i++) store.apply(req.set('/k', String(i)), T0)
  const start = store.watch('/k', { recursive: false, stream: false, sinceIndex: 101 }, () => true)
  assert.deepEqual(start.fromHistory.map((r) => r.index), [101])
  assert.throws(
    () => store.watch('/k', { recursive: false, stream: false, sinceIndex: 100 }, () => true),
    (error: unknown) => error instanceof V2Error && error.detail === 'the requested history has been cleared [101/100]' && error.index === 1100,
  )
})

test('waitIndex 0 waits for the event after the current index', () => {
  const { store } = newStore()
  store.apply(req.set('/a', '1'), T0)
  const got: number[] = []
  const start = store.watch('/a', { recursive: false, stream: false, sinceIndex: 0 }, (r) => (got.push(r.index), true))
  assert.deepEqual([start.etcdIndex, start.fromHistory.length], [1, 0])
  store.apply(req.set('/a', '2'), T0)
  store.flushNotifications()
  assert.deepEqual(got, [2])
})

test('a watch on an empty store registers without error', () => {
  const { store } = newStore()
  const start = store.watch('/a', { recursive: true, stream: false, sinceIndex: 1 }, () => true)
  assert.deepEqual([start.etcdIndex, start.fromHistory.length, store.watcherCount], [0, 0, 1])
})
