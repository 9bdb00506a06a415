/**
 * Goal: arbor answers every v2 conformance case byte for byte as etcd 3.4.23 did.
 *
 * Method: for each group of test/conformance/cases.ts, start a fresh arbor member as a child
 * process (`node --import tsx src/cli/main.ts` with etcd's member flags, free ports, a
 * temporary data directory), replay the group, stop the member by PID, and compare every
 * answer with etcd's recording after normalization (test/conformance/compare.ts). Steps
 * that show an etcd quirk arbor deliberately fixes (spec §15) are skipped.
 *
 * `CONFORMANCE_TARGET=etcd` replays the same cases against private etcd members instead
 * (every step, quirks included), twice: on fresh members, and on members whose indexes were
 * first shifted by hidden writes (as arbor's may differ by a constant). That run must pass
 * completely: it proves that the recordings are reproducible and that the normalization
 * hides only what legitimately varies. Re-record with `npx tsx scripts/record-conformance.ts`.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { groups } from '../conformance/cases.js'
import { formatReport, runConformance } from '../conformance/compare.js'
import { startArbor, startEtcd } from '../conformance/servers.js'
import type { StartServer } from '../conformance/servers.js'
import type { Group } from '../conformance/types.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Index shift of the second etcd pass: any value other than 0 will do. */
const etcdIndexShift = 5

interface Target {
  readonly name: string
  readonly kind: 'etcd' | 'other'
  readonly startServer: StartServer
}

const targets: readonly Target[] =
  process.env['CONFORMANCE_TARGET'] === 'etcd'
    ? [
        { name: 'etcd', kind: 'etcd', startServer: () => startEtcd() },
        { name: `etcd with indexes shifted by ${etcdIndexShift}`, kind: 'etcd', startServer: () => startEtcd({ indexShift: etcdIndexShift }) },
      ]
    : [{ name: 'arbor', kind: 'other', startServer: () => startArbor(repoRoot) }]

/** The target's server for `group`: arbor gets the group's own flags (`arborArgs`). */
function serverFor(target: Target, group: Group): StartServer {
  return target.kind === 'other' ? () => startArbor(repoRoot, group.arborArgs) : target.startServer
}

for (const target of targets) {
  for (const group of groups) {
    test(`${target.name} answers the "${group.name}" cases (spec ${group.sections}) as etcd 3.4.23 did`, { timeout: 60_000 }, async (t) => {
      const report = await runConformance({
        startServer: serverFor(target, group),
        target: target.kind,
        groups: [group],
        log: (line) => t.diagnostic(line),
      })
      for (const s of report.stepsSkipped) t.diagnostic(`skipped ${s.step}: etcd quirk ${s.reason}`)
      assert.equal(report.mismatches.length, 0, formatReport(report))
      assert.ok(report.stepsCompared > 0)
    })
  }
}
