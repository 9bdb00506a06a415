/**
 * The cluster simulator (simulator.ts) over many seeds: 3- and 5-member clusters under
 * drops, delays, duplicates, reordering, partitions, crashes and restarts, compactions and
 * snapshots, reads and leadership transfers, with Raft's safety properties checked after
 * every step and liveness checked once the faults end. A failure names its seed; rerun it
 * alone with `runSimulation({ seed, members })`, or many more seeds with `runSeeds`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runSeeds, runSimulation } from './simulator.js'

test('3-member clusters keep every safety property and recover, over 400 seeds', () => {
  const summaries = runSeeds(1, 400, 3)
  // The runs exercise what they claim to: elections, commits, snapshots, reads.
  assert.ok(summaries.every((s) => s.committedIndex > 0))
  assert.ok(summaries.some((s) => s.snapshotsInstalled > 0))
  assert.ok(summaries.some((s) => s.readsServed > 0))
  assert.ok(summaries.some((s) => s.leaderTerms > 3))
})

test('5-member clusters keep every safety property and recover, over 200 seeds', () => {
  const summaries = runSeeds(1, 200, 5)
  assert.ok(summaries.every((s) => s.committedIndex > 0))
  assert.ok(summaries.some((s) => s.snapshotsInstalled > 0))
})

test('a simulation is reproducible from its seed', () => {
  assert.deepEqual(runSimulation({ seed: 42, members: 5 }), runSimulation({ seed: 42, members: 5 }))
})
