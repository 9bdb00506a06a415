/**
 * Goal: clients waiting on a proposal or a read point get its result once, or 300
 * `etcdserver: request timed out` at their deadline; a late result is dropped.
 * Method: a PendingReplies table on a hand-driven scheduler (the core never sets a timer itself).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PendingReplies, type Reply } from '../../src/server/core/pending.js'
import type { Scheduler } from '../../src/server/ports.js'
import { V2Error } from '../../src/v2error/index.js'

/** A scheduler whose timers fire when `advance` moves its time past them. */
class ManualScheduler implements Scheduler {
  private nowMs = 0
  private timers: { atMs: number; fn: () => void; cancelled: boolean }[] = []
  soon(fn: () => void): void {
    fn()
  }
  after(delayMs: number, fn: () => void): () => void {
    const timer = { atMs: this.nowMs + delayMs, fn, cancelled: false }
    this.timers.push(timer)
    return () => (timer.cancelled = true)
  }
  get liveTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length
  }
  advance(ms: number): void {
    this.nowMs += ms
    const due = this.timers.filter((t) => t.atMs <= this.nowMs)
    this.timers = this.timers.filter((t) => t.atMs > this.nowMs)
    for (const t of due) if (!t.cancelled) t.fn()
  }
}

/** A reply that records what it got. */
function recorder<T>(): Reply<T> & { values: T[]; errors: Error[] } {
  const values: T[] = []
  const errors: Error[] = []
  return { values, errors, resolve: (v) => values.push(v), reject: (e) => errors.push(e) }
}

test('a resolved reply gets its value once and leaves the table; its deadline is cancelled', () => {
  const scheduler = new ManualScheduler()
  const pending = new PendingReplies<number>(scheduler, 100)
  const reply = recorder<number>()
  pending.add('a', reply)
  assert.equal(pending.size, 1)
  assert.equal(pending.has('a'), true)
  pending.resolve('a', 7)
  assert.deepEqual(reply.values, [7])
  assert.equal(pending.size, 0)
  assert.equal(scheduler.liveTimers, 0)
  scheduler.advance(1_000)
  assert.deepEqual(reply.errors, [], 'no late rejection')
})

test('at its deadline a reply fails with 300 request timed out; a later result is dropped', () => {
  const scheduler = new ManualScheduler()
  const pending = new PendingReplies<number>(scheduler, 100)
  const reply = recorder<number>()
  pending.add('a', reply)
  scheduler.advance(99)
  assert.equal(pending.has('a'), true)
  scheduler.advance(1)
  assert.equal(reply.errors.length, 1)
  const error = reply.errors[0]
  assert.ok(error instanceof V2Error && error.errorCode === 300 && error.detail === 'etcdserver: request timed out' && error.index === 0)
  assert.equal(pending.has('a'), false)
  assert.equal(pending.timedOut, 1)
  pending.resolve('a', 1)
  pending.reject('a', new Error('late'))
  assert.deepEqual(reply.values, [])
  assert.equal(reply.errors.length, 1)
})

test('rejectAll fails every reply with the given error', () => {
  const pending = new PendingReplies<number>(new ManualScheduler(), 100)
  const replies = ['a', 'b', 'c'].map((id) => {
    const reply = recorder<number>()
    pending.add(id, reply)
    return reply
  })
  const stopped = new Error('stopped')
  pending.rejectAll(stopped)
  for (const reply of replies) assert.deepEqual(reply.errors, [stopped])
  assert.equal(pending.size, 0)
})

test('settling an unknown id does nothing', () => {
  const pending = new PendingReplies<number>(new ManualScheduler(), 100)
  pending.resolve('nope', 1)
  pending.reject('nope', new Error('x'))
  assert.equal(pending.size, 0)
})
