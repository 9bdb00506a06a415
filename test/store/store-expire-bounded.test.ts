/**
 * Goal: a sweep bounded by `keysMax` expires the first `keysMax` due nodes in (expiresAtMs,
 * key) order and no more; repeated sweeps expire every due node exactly once; and the same
 * sweeps give the same events on every member, whatever its backend (memory or SQLite).
 * Method: two stores fed the same writes and the same sweeps, their histories compared.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { SqliteStoreBackend } from '../../src/storage/index.js'
import { Store, defaultStoreLimits, type StoreBackend } from '../../src/store/index.js'
import { TempDatabases } from '../storage/temp-database.js'
import { T0, newStore, req } from './store-fixture.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

/** 30 keys with a TTL of 5 s and 10 more of 3 s, written in a shuffled key order, and a dir with a TTL. */
function load(store: Store): void {
  for (let i = 0; i < 30; i++) store.apply(req.set(`/k/${(i * 7) % 30}`, `v${i}`, { ttlSeconds: 5 }), T0)
  for (let i = 0; i < 10; i++) store.apply(req.set(`/early/${i}`, 'e', { ttlSeconds: 3 }), T0)
  store.apply(req.dir('/d', { ttlSeconds: 4 }), T0)
  store.apply(req.set('/d/inner', 'x', { ttlSeconds: 4 }), T0)
}

test('a sweep of at most 4 keys expires the 4 earliest due, by (expiresAtMs, key)', () => {
  const { store, backend } = newStore()
  load(store)
  const before = store.currentIndex
  assert.equal(store.expire(T0 + 10_000, 4), 4)
  const keys = backend.eventsFrom(before + 1, 100).map((e) => e.key)
  assert.deepEqual(keys, ['/early/0', '/early/1', '/early/2', '/early/3'])
  assert.equal(store.currentIndex, before + 4)
})

test('repeated bounded sweeps expire every due key once, then nothing', () => {
  const { store } = newStore()
  load(store)
  let sweeps = 0
  let events = 0
  while (store.earliestExpirationMs() !== undefined && (store.earliestExpirationMs() ?? 0) <= T0 + 10_000) {
    const expired = store.expire(T0 + 10_000, 7)
    assert.ok(expired <= 7)
    events += expired
    sweeps += 1
    assert.ok(sweeps < 100, 'sweeps end')
  }
  // 30 + 10 keys and the directory (its child goes with it, without an event of its own).
  assert.equal(events, 41)
  assert.equal(store.expire(T0 + 10_000, 7), 0)
})

test('the same sweeps give the same events on a memory and a SQLite member', () => {
  const backends: StoreBackend[] = [newStore().backend, new SqliteStoreBackend(temp.open())]
  const stores = backends.map((b) => new Store(b, defaultStoreLimits))
  for (const store of stores) {
    load(store)
    for (const [timeMs, keysMax] of [[T0 + 3_000, 3], [T0 + 4_000, 5], [T0 + 4_000, 5], [T0 + 10_000, 9], [T0 + 10_000, 100]] as const) {
      store.expire(timeMs, keysMax)
    }
  }
  const histories = backends.map((b) => b.eventsFrom(1, 1_000).map((e) => [e.index, e.action, e.key, e.json]))
  assert.deepEqual(histories[1], histories[0])
  assert.equal(stores[0]?.currentIndex, stores[1]?.currentIndex)
})
