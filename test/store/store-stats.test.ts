/**
 * Goal: `/v2/stats/store` counters in etcd's field order, counting client reads only (Q26
 * fixed), writes by operation with POST as create, expiries and watchers (spec §12.3).
 * Method: a scripted sequence of reads, writes and failures, then one comparison.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { StoreRequest } from '../../src/store/index.js'
import { T0, newStore, outcome, req } from './store-fixture.js'

test('counters follow reads, writes, failures, expiries and watchers', () => {
  const { store } = newStore()
  const attempt = (write: StoreRequest): void => void outcome(() => store.apply(write, T0))
  const writes: StoreRequest[] = [
    req.set('/a', '1'), req.set('/', 'x'), // set 1/1
    req.create('/b', ''), req.post('/q', ''), req.create('/b', ''), // create 2/1
    req.update('/a', '2'), req.update('/nope', ''), // update 1/1
    req.cas('/a', '3', { prevValue: '2' }), req.cas('/a', '4', { prevValue: 'x' }), req.cas('/a', '4', { prevIndex: '1' }), // cas 1/2
    req.del('/b'), req.del('/b'), // delete 1/1
    req.cad('/nope', { prevValue: 'zz' }), req.cad('/a', { prevValue: '3' }), // cad 1/1
    req.set('/t', '', { ttlSeconds: 1 }), // set 2/1
  ]
  for (const write of writes) attempt(write)
  store.get('/q', { recursive: true, sorted: false }, T0)
  for (const key of ['/a', '/x/y']) outcome(() => store.get(key, { recursive: false, sorted: false }, T0))
  store.expire(T0 + 1_000)
  store.watch('/w', { recursive: false, stream: false, sinceIndex: 0 }, () => true)
  const stats = store.stats()
  assert.deepEqual(Object.keys(stats), [
    'getsSuccess', 'getsFail', 'setsSuccess', 'setsFail', 'deleteSuccess', 'deleteFail', 'updateSuccess', 'updateFail',
    'createSuccess', 'createFail', 'compareAndSwapSuccess', 'compareAndSwapFail', 'compareAndDeleteSuccess',
    'compareAndDeleteFail', 'expireCount', 'watchers',
  ])
  assert.deepEqual(stats, {
    getsSuccess: 1, getsFail: 2, setsSuccess: 2, setsFail: 1, deleteSuccess: 1, deleteFail: 1, updateSuccess: 1, updateFail: 1,
    createSuccess: 2, createFail: 1, compareAndSwapSuccess: 1, compareAndSwapFail: 2, compareAndDeleteSuccess: 1,
    compareAndDeleteFail: 1, expireCount: 1, watchers: 1,
  })
})

test('failed compares of compareAndDelete and POSTs into a file are counted as etcd 3.4.23 counts them', () => {
  const { store } = newStore()
  store.apply(req.set('/f', '1'), T0)
  const before = store.stats()
  outcome(() => store.apply(req.cad('/f', { prevValue: 'zz' }), T0))
  outcome(() => store.apply(req.post('/f', ''), T0))
  const after = store.stats()
  assert.equal(after.compareAndDeleteSuccess - before.compareAndDeleteSuccess, 1)
  assert.equal(after.compareAndDeleteFail - before.compareAndDeleteFail, 0)
  assert.equal(after.createFail - before.createFail, 1)
  assert.equal(after.setsFail - before.setsFail, 1)
})
