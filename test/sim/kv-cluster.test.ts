/**
 * The KV cluster simulation (kv-cluster.ts): replay and the often-duplicating network. The
 * thousands of seeds run in kv-seeds-*.test.ts (seed-budget.ts); the planted bugs that show
 * the checks bite, in planted-bugs.test.ts.
 *
 * A failure names its seed; replay it with `npx tsx scripts/simulate.ts --seed S --members N`,
 * or run many more seeds with `npx tsx scripts/simulate.ts --seeds 10000`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runKvSeeds, runKvSimulation } from './kv-cluster.js'
import { assertExercised } from './seed-budget.js'

test('a run is reproducible from its seed', () => {
  assert.deepEqual(runKvSimulation({ seed: 42, members: 5 }), runKvSimulation({ seed: 42, members: 5 }))
})

test('with the filter, the same often-duplicating network keeps every history linearizable', () => {
  assertExercised(runKvSeeds(1, 100, 3, { duplicateRate: 0.3 }))
})
