/**
 * The simulator's durable store copies (store-state.ts). Method: write to a store, capture
 * its state, keep writing, then restore the capture (directly and through the snapshot
 * encoding) and compare what a client reads and what the history holds.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStoreBackend, ROOT_KEY, Store, defaultStoreLimits, type StoreRequest } from '../../src/store/index.js'
import { captureState, decodeState, emptyStoreState, encodeState, restoreState } from './store-state.js'

const limits = { ...defaultStoreLimits, historyEventsMax: 1_000_000 }
const timeMs = 1_700_000_000_000

function set(key: string, value: string): StoreRequest {
  return { op: 'set', key, value, dir: false, ttlSeconds: null, refresh: false }
}

function storeWith(requests: readonly StoreRequest[]): { backend: MemoryStoreBackend; store: Store } {
  const backend = new MemoryStoreBackend()
  const store = new Store(backend, limits)
  for (const request of requests) store.apply(request, timeMs)
  return { backend, store }
}

function read(store: Store, key: string): string {
  return store.get(key, { recursive: true, sorted: true }, timeMs).json
}

test('a restored capture reads and remembers exactly what the store held when captured', () => {
  const { backend, store } = storeWith([set('/a', '1'), set('/dir/b', '2'), set('/dir/sub/c', '3'), set('/a', '4')])
  const state = captureState(backend, 17)
  const before = { root: read(store, ROOT_KEY), history: backend.eventsFrom(1, 100) }
  store.apply(set('/a', 'later'), timeMs)
  store.apply({ op: 'delete', key: '/dir', dir: true, recursive: true }, timeMs)
  assert.equal(state.appliedIndex, 17)
  for (const copy of [restoreState(state), restoreState(decodeState(encodeState(state)))]) {
    const restored = new Store(copy, limits)
    assert.equal(read(restored, ROOT_KEY), before.root)
    assert.deepEqual(copy.eventsFrom(1, 100), before.history)
    assert.equal(restored.currentIndex, 4)
  }
})

test('a restored store goes on from the captured index', () => {
  const { backend } = storeWith([set('/a', '1')])
  const restored = new Store(restoreState(captureState(backend, 1)), limits)
  assert.equal(restored.apply(set('/a', '2'), timeMs).index, 2)
})

test('the empty state restores an empty store', () => {
  const restored = new Store(restoreState(emptyStoreState), limits)
  assert.equal(restored.currentIndex, 0)
  assert.equal(read(restored, ROOT_KEY), '{"action":"get","node":{"dir":true}}\n')
})

test('a store whose history was trimmed cannot be captured', () => {
  const backend = new MemoryStoreBackend()
  const store = new Store(backend, { ...defaultStoreLimits, historyEventsMax: 2 })
  for (const value of ['1', '2', '3']) store.apply(set('/a', value), timeMs)
  assert.throws(() => captureState(backend, 3), /keeps its whole history/)
})
