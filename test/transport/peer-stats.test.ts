/**
 * Goal: the latency figures of `/v2/stats/leader` are right. Method: known samples against
 * hand-computed mean, population standard deviation, minimum and maximum.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LatencyRecorder } from '../../src/transport/peer-stats.js'

test('before any round trip every latency figure is 0', () => {
  assert.deepEqual(new LatencyRecorder().snapshot(), { current: 0, average: 0, standardDeviation: 0, minimum: 0, maximum: 0 })
})

test('latency reports the last, mean, population deviation, minimum and maximum', () => {
  const recorder = new LatencyRecorder()
  for (const ms of [20, 10, 30]) recorder.record(ms)
  const stats = recorder.snapshot()
  assert.equal(stats.current, 30)
  assert.equal(stats.average, 20)
  assert.ok(Math.abs(stats.standardDeviation - Math.sqrt(200 / 3)) < 1e-9)
  assert.equal(stats.minimum, 10)
  assert.equal(stats.maximum, 30)
})

test('one sample has no deviation', () => {
  const recorder = new LatencyRecorder()
  recorder.record(0.25)
  assert.deepEqual(recorder.snapshot(), { current: 0.25, average: 0.25, standardDeviation: 0, minimum: 0.25, maximum: 0.25 })
})
