/**
 * Goal: over random write sequences, every success takes exactly one index and one event,
 * every failure changes nothing, and the history never exceeds its window.
 * Method: fast-check with a fixed seed over a small key space (so that writes collide),
 * checked after every step.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { V2Error } from '../../src/v2error/index.js'
import type { StoreRequest } from '../../src/store/index.js'
import { T0, newStore, req } from './store-fixture.js'

const keyArb = fc.constantFrom('/', '/a', '/a/b', '/a/_h', '/a/b/c', '/d', '/d/e')
const ttlArb = fc.option(fc.integer({ min: 0, max: 3 }), { nil: null })
const requestArb: fc.Arbitrary<StoreRequest> = fc.oneof(
  fc.tuple(keyArb, fc.boolean(), ttlArb, fc.boolean()).map(([k, dir, ttlSeconds, refresh]) => req.set(k, 'v', { dir, ttlSeconds, refresh })),
  fc.tuple(keyArb, fc.boolean(), fc.boolean()).map(([k, dir, inOrder]) => req.create(k, 'c', { dir, inOrder })),
  fc.tuple(keyArb, ttlArb).map(([k, ttlSeconds]) => req.update(k, '', { ttlSeconds })),
  fc.tuple(keyArb, fc.constantFrom('v', 'c', 'x'), fc.constantFrom('', '1', '2', '3')).map(([k, prevValue, prevIndex]) => req.cas(k, 'w', { prevValue, prevIndex })),
  fc.tuple(keyArb, fc.boolean(), fc.boolean()).map(([k, dir, recursive]) => req.del(k, { dir, recursive })),
  fc.tuple(keyArb, fc.constantFrom('v', 'w'), fc.constantFrom('', '1', '2')).map(([k, prevValue, prevIndex]) => req.cad(k, { prevValue, prevIndex })),
)
const stepArb = fc.oneof(
  { weight: 5, arbitrary: requestArb.map((request) => ({ request })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4_000 }).map((expireAfterMs) => ({ expireAfterMs })) },
)

test('random writes keep the index, the history and the tree consistent', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
      const { store, backend } = newStore({ historyEventsMax: 10 })
      for (const step of steps) {
        const before = store.get('/', { recursive: true, sorted: true }, T0).json
        const index = store.currentIndex
        if ('expireAfterMs' in step) {
          const expired = store.expire(T0 + step.expireAfterMs)
          assert.equal(store.currentIndex, index + expired)
          continue
        }
        try {
          const event = store.apply(step.request, T0)
          assert.equal(event.index, index + 1)
          assert.equal(backend.eventsFrom(event.index, 1)[0]?.json, event.json)
        } catch (error) {
          if (!(error instanceof V2Error)) throw error
          assert.equal(error.index, index)
          assert.equal(store.currentIndex, index)
          assert.equal(store.get('/', { recursive: true, sorted: true }, T0).json, before)
        }
        const kept = backend.eventsFrom(0, 100).length
        assert.equal(kept, Math.min(store.currentIndex, 10))
      }
    }),
    { seed: 20261120, numRuns: 300 },
  )
})
