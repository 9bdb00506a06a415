/**
 * Records etcd 3.4.23's answers to the conformance cases (test/conformance/cases.ts) into
 * test/conformance/recordings/<group>.json.
 *
 * Usage: npx tsx scripts/record-conformance.ts [group ...]   (default: every group)
 *
 * Each group runs on its own private etcd (`/usr/bin/etcd --enable-v2=true`, 127.0.0.1,
 * free ports, a temporary data directory), started fresh and killed by PID afterwards. The
 * requests go out through Node's raw http module (or a raw socket), exactly as written.
 * Nothing is committed; the files are just left in place.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { groups, stepCount } from '../test/conformance/cases.js'
import { recordingsDir } from '../test/conformance/compare.js'
import { runGroup } from '../test/conformance/runner.js'
import { startEtcd } from '../test/conformance/servers.js'
import { etcdFirstWriteIndex } from '../test/conformance/types.js'
import type { Group, Recording, StepRecord } from '../test/conformance/types.js'

/** Records one group; returns the recording and warnings about the case data. */
async function recordGroup(group: Group): Promise<{ recording: Recording; warnings: string[] }> {
  const server = await startEtcd()
  try {
    const version = await (await fetch(`${server.url}/version`)).json() as { etcdserver?: string }
    const run = await runGroup(group, { baseUrl: server.url, skipQuirks: false })
    const steps = run.steps.filter((s): s is StepRecord => !('skipped' in s))
    const warnings = checkRun(group, steps, run.firstWriteIndex)
    const recording: Recording = {
      group: group.name,
      sections: group.sections,
      etcdVersion: version.etcdserver ?? 'unknown',
      recordedAt: new Date().toISOString(),
      clientUrl: server.url,
      peerUrl: server.peerUrl,
      firstWriteIndex: run.firstWriteIndex ?? 0,
      steps,
    }
    return { recording, warnings }
  } finally {
    await server.stop()
  }
}

/** Things in a run that point at a mistake in the cases rather than at etcd. */
function checkRun(group: Group, steps: readonly StepRecord[], firstWriteIndex: number | undefined): string[] {
  const warnings: string[] = []
  if (firstWriteIndex !== etcdFirstWriteIndex) warnings.push(`first write got index ${firstWriteIndex ?? 'none'}, expected ${etcdFirstWriteIndex}`)
  for (const [i, s] of steps.entries()) {
    const step = group.steps[i]
    if (s.outcome.kind === 'error' && step?.quirk === undefined) warnings.push(`#${i} ${s.id}: connection failed (${s.outcome.error})`)
    if (s.outcome.kind === 'body' && s.outcome.pending && step?.do === 'await' && step.timeoutMs === undefined) {
      warnings.push(`#${i} ${s.id}: the watch never fired`)
    }
    if (s.outcome.kind === 'loop' && Object.keys(s.outcome.statuses).some((k) => !k.startsWith('2'))) {
      warnings.push(`#${i} ${s.id}: loop statuses ${JSON.stringify(s.outcome.statuses)}`)
    }
  }
  return warnings
}

function statusSummary(steps: readonly StepRecord[]): string {
  const counts = new Map<string, number>()
  for (const s of steps) {
    const o = s.outcome
    const key = o.kind === 'response' || o.kind === 'head' ? String(o.status) : o.kind === 'body' ? (o.pending ? 'pending' : 'event') : o.kind
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k}×${n}`).join(' ')
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2)
  const selected = wanted.length === 0 ? groups : groups.filter((g) => wanted.includes(g.name))
  if (selected.length === 0) throw new Error(`no group named ${wanted.join(', ')}; groups: ${groups.map((g) => g.name).join(', ')}`)
  mkdirSync(recordingsDir, { recursive: true })
  let warningsTotal = 0
  const started = Date.now()
  for (const group of selected) {
    const t0 = Date.now()
    const { recording, warnings } = await recordGroup(group)
    writeFileSync(path.join(recordingsDir, `${group.name}.json`), JSON.stringify(recording, null, 1) + '\n')
    console.log(`${group.name.padEnd(14)} ${String(recording.steps.length).padStart(4)} steps  ${((Date.now() - t0) / 1000).toFixed(1)} s  ${statusSummary(recording.steps)}`)
    for (const w of warnings) console.log(`  warning: ${w}`)
    warningsTotal += warnings.length
  }
  console.log(`recorded ${selected.length} groups, ${stepCount(selected)} steps in ${((Date.now() - started) / 1000).toFixed(1)} s; ${warningsTotal} warnings; files in ${path.relative(process.cwd(), recordingsDir)}/`)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})
