/**
 * Goal: clients waiting on a proposal or a read point get its result once, or 300
 * `etcdserver: request timed out` at their deadline; a late result is dropped.
 * Method: a Waiters table on node:test's mock setTimeout.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Waiters } from '../../src/server/waiters.js'
import { V2Error } from '../../src/v2error/index.js'

test('a resolved waiter gets its value and leaves the table', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const waiters = new Waiters<number>(100)
  const done = waiters.wait('a')
  assert.equal(waiters.size, 1)
  assert.equal(waiters.has('a'), true)
  waiters.resolve('a', 7)
  assert.equal(await done, 7)
  assert.equal(waiters.size, 0)
  t.mock.timers.tick(1_000) // its timer was cleared: no late rejection
})

test('at its deadline a waiter fails with 300 request timed out; a later result is dropped', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const waiters = new Waiters<number>(100)
  const done = waiters.wait('a')
  t.mock.timers.tick(99)
  assert.equal(waiters.has('a'), true)
  t.mock.timers.tick(1)
  await assert.rejects(done, (e: unknown) => e instanceof V2Error && e.errorCode === 300 && e.detail === 'etcdserver: request timed out' && e.index === 0)
  assert.equal(waiters.has('a'), false)
  waiters.resolve('a', 1)
  waiters.reject('a', new Error('late'))
})

test('rejectAll fails every waiter with the given error', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const waiters = new Waiters<number>(100)
  const all = ['a', 'b', 'c'].map((id) => waiters.wait(id))
  const stopped = new Error('stopped')
  waiters.rejectAll(stopped)
  for (const p of all) await assert.rejects(p, (e) => e === stopped)
  assert.equal(waiters.size, 0)
})

test('settling an unknown id does nothing', () => {
  const waiters = new Waiters<number>(100)
  waiters.resolve('nope', 1)
  waiters.reject('nope', new Error('x'))
  assert.equal(waiters.size, 0)
})
