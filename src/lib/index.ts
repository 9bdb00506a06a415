/**
 * @module lib
 * Small building blocks shared by every layer: assertions, time and randomness as values,
 * bounded queues, Go-compatible JSON strings. Imports nothing from src/ and no node:* module.
 */
export { assert, unreachable, AssertionFailure } from './assert.js'
export { type Clock, systemClock, FakeClock } from './clock.js'
export { type Rng, SeededRng } from './random.js'
export { BoundedQueue } from './bounded-queue.js'
export { goJsonString } from './go-json.js'
export { goRfc3339Nano } from './go-time.js'
