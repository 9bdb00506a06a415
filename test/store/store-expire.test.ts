/**
 * Goal: expiry removes due nodes as etcd 3.4 does: one `expire` event and one index per
 * node, in (expiresAtMs, key) order, a directory with its subtree, TTLs below it dropped
 * silently (spec v2-api.md §4.2, §9.5).
 * Method: writes with TTLs at T0, then `expire(time)` at chosen times.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { T0, newStore, req } from './store-fixture.js'

test('nothing due: no event, no index', () => {
  const { store } = newStore()
  store.apply(req.set('/a', 'v', { ttlSeconds: 5 }), T0)
  assert.equal(store.expire(T0 + 4_999), 0)
  assert.equal(store.currentIndex, 1)
  assert.equal(store.earliestExpirationMs(), T0 + 5_000)
})

test('a key expires at its expiry time with an expire event', () => {
  const { store, backend } = newStore()
  store.apply(req.set('/ex', 'v', { ttlSeconds: 5 }), T0)
  assert.equal(store.expire(T0 + 5_000), 1)
  assert.equal(store.currentIndex, 2)
  assert.equal(
    backend.eventsFrom(2, 1)[0]?.json,
    '{"action":"expire","node":{"key":"/ex","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/ex","value":"v","expiration":"2026-11-20T23:41:05Z","modifiedIndex":1,"createdIndex":1}}\n',
  )
  assert.equal(store.earliestExpirationMs(), undefined)
  assert.throws(() => store.get('/ex', { recursive: false, sorted: false }, T0 + 5_000))
})

test('a late sweep shows the negative ttl in prevNode', () => {
  const { store, backend } = newStore()
  store.apply(req.set('/ex', 'v', { ttlSeconds: 5 }), T0)
  store.expire(T0 + 8_200)
  assert.match(backend.eventsFrom(2, 1)[0]?.json ?? '', /"expiration":"2026-11-20T23:41:05Z","ttl":-3,"modifiedIndex":1/)
})

test('an expiring directory takes its subtree in one event; TTLs below it are dropped', () => {
  const { store, backend } = newStore()
  store.apply(req.create('/edir', '', { dir: true, ttlSeconds: 5 }), T0) // 1
  store.apply(req.set('/edir/a', '1', { ttlSeconds: 9 }), T0) // 2
  store.apply(req.set('/edir/sub/b', '2'), T0) // 3
  assert.equal(store.expire(T0 + 6_000), 1)
  assert.equal(
    backend.eventsFrom(4, 1)[0]?.json,
    '{"action":"expire","node":{"key":"/edir","dir":true,"modifiedIndex":4,"createdIndex":1},"prevNode":{"key":"/edir","dir":true,"expiration":"2026-11-20T23:41:05Z","ttl":-1,"modifiedIndex":1,"createdIndex":1}}\n',
  )
  assert.equal(store.earliestExpirationMs(), undefined)
  assert.equal(store.expire(T0 + 10_000), 0)
  assert.equal(store.get('/', { recursive: true, sorted: true }, T0).json, '{"action":"get","node":{"dir":true}}\n')
})

test('due nodes expire by (expiresAtMs, key), each with its own index', () => {
  const { store, backend } = newStore()
  store.apply(req.set('/b', '', { ttlSeconds: 2 }), T0) // 1
  store.apply(req.set('/a', '', { ttlSeconds: 2 }), T0) // 2
  store.apply(req.set('/d/child', '', { ttlSeconds: 1 }), T0) // 3
  store.apply(req.update('/d', '', { ttlSeconds: 3 }), T0) // 4
  store.apply(req.set('/later', '', { ttlSeconds: 4 }), T0) // 5
  assert.equal(store.expire(T0 + 3_000), 4)
  assert.deepEqual(backend.eventsFrom(6, 10).map((r) => [r.index, r.action, r.key, r.dir]), [
    [6, 'expire', '/d/child', false],
    [7, 'expire', '/a', false],
    [8, 'expire', '/b', false],
    [9, 'expire', '/d', true],
  ])
  assert.equal(store.earliestExpirationMs(), T0 + 4_000)
  assert.equal(store.stats().expireCount, 4)
})

test('a ttl of 0 expires at the next sweep', () => {
  const { store } = newStore()
  store.apply(req.set('/z', 'v', { ttlSeconds: 0 }), T0)
  assert.equal(store.get('/z', { recursive: false, sorted: false }, T0).json, '{"action":"get","node":{"key":"/z","value":"v","expiration":"2026-11-20T23:41:00Z","modifiedIndex":1,"createdIndex":1}}\n')
  assert.equal(store.expire(T0), 1)
})

test('expire events reach watchers on the key and on recursive ancestors', () => {
  const { store } = newStore()
  store.apply(req.set('/w/k', 'v', { ttlSeconds: 1 }), T0)
  const got: string[] = []
  store.watch('/w/k', { recursive: false, stream: false, sinceIndex: 0 }, (r) => (got.push(`k:${r.action}`), true))
  store.watch('/w', { recursive: true, stream: false, sinceIndex: 0 }, (r) => (got.push(`w:${r.action}`), true))
  store.expire(T0 + 1_000)
  assert.deepEqual(got, [])
  store.flushNotifications()
  assert.deepEqual(got.sort(), ['k:expire', 'w:expire'])
})
