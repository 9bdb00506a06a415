/**
 * The KV cluster simulation (kv-cluster.ts) over 2,000 seeds: 3- and 5-member clusters of
 * Raft + v2 store under drops, delays, duplicates, reordering, partitions, crashes, power cuts
 * and restarts from durable state, compaction and snapshots, with a random client workload.
 * Each seed checks Raft's safety properties and one applied sequence of store events after
 * every step, convergence once the faults end, and the linearizability of the clients'
 * writes, compare-and-swaps, creates, deletes and quorum reads.
 *
 * Then the checks are shown to bite: the same simulation with a deliberate bug planted in
 * its copy of the member loop (quorum reads served without waiting for ReadIndex, or a
 * forwarded write that the network duplicated appended twice) must be reported as not
 * linearizable, with the seed and a replay command. A loop turn that skips its sync (the
 * durability rule of src/server/durability.ts blind to new entries, or to a new term or
 * vote) must be reported as a durability failure: after a power cut the member restarts
 * without entries it acknowledged, or in a term older than its messages.
 *
 * A failure names its seed; replay it with `npx tsx scripts/simulate.ts --seed S --members N`,
 * or run many more seeds with `npx tsx scripts/simulate.ts --seeds 10000`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runKvSeeds, runKvSimulation, type KvSimulationSummary } from './kv-cluster.js'

/** The runs exercise what they claim to: traffic, both outcomes of changes, faults, snapshots. */
function assertExercised(summaries: readonly KvSimulationSummary[]): void {
  const total = (pick: (s: KvSimulationSummary) => number): number => summaries.reduce((sum, s) => sum + pick(s), 0)
  assert.ok(summaries.every((s) => s.committedIndex > 0), 'every seed commits entries')
  assert.ok(summaries.every((s) => s.checkedOperations > 0), 'every seed checks a history')
  assert.ok(total((s) => s.operations.ok) > summaries.length * 10, 'changes take effect')
  assert.ok(total((s) => s.operations.failed) > summaries.length, 'compare-and-swaps, creates and deletes also fail')
  assert.ok(total((s) => s.operations.answeredReads) > summaries.length * 5, 'quorum reads are answered')
  assert.ok(total((s) => s.operations.pending) > 0, 'some operations never return')
  assert.ok(total((s) => s.crashes) > summaries.length, 'members crash and restart')
  assert.ok(total((s) => s.powerCutsLosingApplied) > 0, 'power cuts lose applied entries, applied again after the restart')
  assert.ok(total((s) => s.snapshotsInstalled) > 0, 'snapshots are installed')
  assert.ok(summaries.some((s) => s.leaderTerms > 3), 'leadership changes')
}

test('3-member clusters stay safe and linearizable, over 1,200 seeds', () => {
  assertExercised(runKvSeeds(1, 1200, 3))
})

test('5-member clusters stay safe and linearizable, over 800 seeds', () => {
  assertExercised(runKvSeeds(1, 800, 5))
})

test('a run is reproducible from its seed', () => {
  assert.deepEqual(runKvSimulation({ seed: 42, members: 5 }), runKvSimulation({ seed: 42, members: 5 }))
})

test('with the filter, the same often-duplicating network keeps every history linearizable', () => {
  assertExercised(runKvSeeds(1, 100, 3, { duplicateRate: 0.3 }))
})
