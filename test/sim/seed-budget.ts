/**
 * Many seeds of the KV cluster simulation within a time budget, for `npm test`: the seed
 * files (kv-seeds-*.test.ts) each run their range of seeds, stop early only when their wall
 * budget is spent (a loaded machine), and print how many seeds ran. Together they cover
 * 10,000 seeds of 3- and 5-member clusters on this machine.
 */
import assert from 'node:assert/strict'
import { runKvSimulation, type KvSimulationSummary } from './kv-cluster.js'

/** Wall time one seed file may take before it stops starting seeds (ms). */
export const seedFileBudgetMs = 75_000

/**
 * Runs seeds [from, from + count) of `members`-member clusters until done or `budgetMs` passed.
 * @throws KvSimulationFailure on the first failing seed (its message names the replay command)
 */
export function runSeedsWithin(from: number, count: number, members: number, budgetMs = seedFileBudgetMs): KvSimulationSummary[] {
  const started = performance.now()
  const out: KvSimulationSummary[] = []
  for (let seed = from; seed < from + count && performance.now() - started < budgetMs; seed++) out.push(runKvSimulation({ seed, members }))
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(`# ${out.length} of ${count} seeds (${members} members, from ${from}) in ${seconds.toFixed(1)} s, ${(out.length / seconds).toFixed(0)} seeds/s\n`)
  return out
}

/** The runs exercise what they claim to: traffic, both outcomes of changes, faults, snapshots. */
export function assertExercised(summaries: readonly KvSimulationSummary[]): void {
  const total = (pick: (s: KvSimulationSummary) => number): number => summaries.reduce((sum, s) => sum + pick(s), 0)
  assert.ok(summaries.length >= 100, `at least 100 seeds ran (${summaries.length})`)
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
