/**
 * Goal: `Inflight` never runs more than `max` tasks at once, waits for all of them on
 * `drain`, and rethrows the first failure (starting nothing after it).
 *
 * Method: tasks are promises the test resolves by hand, so the count in flight is observed
 * at every step without timers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Inflight } from '../../src/cli/inflight.js'

/** A task that ends when the test calls `finish` (or `fail`). */
function handTask(log: { running: number; peak: number }) {
  let finish!: () => void
  let fail!: (error: Error) => void
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve
    fail = reject
  })
  const run = async (): Promise<void> => {
    log.running += 1
    log.peak = Math.max(log.peak, log.running)
    try {
      await done
    } finally {
      log.running -= 1
    }
  }
  return { run, finish: () => finish(), fail: (e: Error) => fail(e) }
}

test('at most max tasks run; run() waits for a free slot', async () => {
  const log = { running: 0, peak: 0 }
  const inflight = new Inflight(2)
  const tasks = [handTask(log), handTask(log), handTask(log)]
  await inflight.run(tasks[0]!.run)
  await inflight.run(tasks[1]!.run)
  let thirdStarted = false
  const third = inflight.run(tasks[2]!.run).then(() => (thirdStarted = true))
  await Promise.resolve()
  assert.equal(thirdStarted, false)
  assert.equal(log.running, 2)
  tasks[0]!.finish()
  await third
  assert.equal(log.running, 2)
  tasks[1]!.finish()
  tasks[2]!.finish()
  await inflight.drain()
  assert.equal(log.running, 0)
  assert.equal(log.peak, 2)
})

test('the first failure is rethrown by drain and by the next run, which starts nothing', async () => {
  const log = { running: 0, peak: 0 }
  const inflight = new Inflight(1)
  const failing = handTask(log)
  await inflight.run(failing.run)
  failing.fail(new Error('boom'))
  let started = false
  await assert.rejects(
    inflight.run(async () => {
      started = true
    }),
    /boom/,
  )
  assert.equal(started, false)
  await assert.rejects(inflight.drain(), /boom/)
})
