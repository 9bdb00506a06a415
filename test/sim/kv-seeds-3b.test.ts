/**
 * Seeds 3001 to 6000 of 3-member clusters (seed-budget.ts): Raft + the shipped member core +
 * the v2 store under drops, delays, duplicates, reordering, partitions, crashes, power cuts,
 * restarts, compaction and snapshot installs, with a random client workload. Each seed
 * checks Raft's safety properties, the leader commit rule, one applied sequence of store
 * events and durable promises after every step, convergence once the faults end, and the
 * linearizability of the clients' writes, compare-and-swaps, creates, deletes and quorum reads.
 */
import { test } from 'node:test'
import { assertExercised, runSeedsWithin } from './seed-budget.js'

test('3-member clusters stay safe and linearizable, seeds 3001 to 6000', () => {
  assertExercised(runSeedsWithin(3001, 3000, 3))
})
