/**
 * The conformance comparer: replays every group of `cases.ts` against a fresh server per
 * group and compares each answer with etcd 3.4.23's recording (`recordings/<group>.json`,
 * written by scripts/record-conformance.ts).
 *
 * Bodies are compared as raw strings after normalization (normalize.ts): byte-exactness is
 * the goal. Tolerated: indexes shifted by a constant per group (learnt at the first write),
 * ids/versions/start times/uptimes that are well-formed, `expiration` within
 * `expirationToleranceMs` of etcd's distance from the request, `ttl` within 1, framing of
 * large bodies, unsorted listings where the case says so, and etcd's internal auth lookups
 * in `getsFail` (Q26). Steps tagged with an etcd quirk arbor fixes run only against etcd.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { groups as allGroups } from './cases.js'
import { framingMatters, normalizeOutcome, sortListing } from './normalize.js'
import type { NormalizeContext, Normalized } from './normalize.js'
import { runGroup } from './runner.js'
import type { GroupRun } from './runner.js'
import type { StartServer } from './servers.js'
import { etcdFirstWriteIndex } from './types.js'
import type { Group, Outcome, Recording, Step, StepRecord } from './types.js'

/** Where the recordings live. */
export const recordingsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'recordings')

/** How far an `expiration` may be from etcd's, measured from the moment of the request. */
export const expirationToleranceMs = 3_000

/** How far a `ttl` may be from etcd's, in seconds. */
export const ttlToleranceSeconds = 1

export interface CompareOptions {
  /** Starts a fresh server; called once per group. */
  readonly startServer: StartServer
  /** `etcd` replays every step; any other target skips steps tagged with an etcd quirk. */
  readonly target: 'etcd' | 'other'
  /** Groups to run (default: every group of cases.ts). */
  readonly groups?: readonly Group[]
  /** Directory of the recordings (default: `recordingsDir`). */
  readonly dir?: string
  /** Progress lines (one per group). */
  readonly log?: (line: string) => void
}

/** One difference between the server and etcd, ready to print. */
export interface Mismatch {
  readonly group: string
  /** `#<n> <step id>` */
  readonly step: string
  readonly sent: string
  readonly note: string | undefined
  readonly diff: string
}

export interface ConformanceReport {
  readonly groups: number
  readonly stepsCompared: number
  readonly stepsSkipped: readonly { group: string; step: string; reason: string }[]
  readonly mismatches: readonly Mismatch[]
}

/** Replays every group against fresh servers and compares with the recordings. */
export async function runConformance(options: CompareOptions): Promise<ConformanceReport> {
  const groups = options.groups ?? allGroups
  const mismatches: Mismatch[] = []
  const stepsSkipped: { group: string; step: string; reason: string }[] = []
  let stepsCompared = 0
  for (const group of groups) {
    const started = Date.now()
    const recording = loadRecording(group.name, options.dir ?? recordingsDir)
    const server = await options.startServer()
    let run: GroupRun
    try {
      run = await runGroup(group, { baseUrl: server.url, skipQuirks: options.target !== 'etcd' })
    } finally {
      await server.stop()
    }
    const result = compareGroup(group, recording, run, { clientUrl: server.url, peerUrl: server.peerUrl })
    mismatches.push(...result.mismatches)
    stepsCompared += result.compared
    for (const s of run.steps) if ('skipped' in s) stepsSkipped.push({ group: group.name, step: s.id, reason: s.skipped })
    options.log?.(`${group.name}: ${result.compared} steps, ${result.mismatches.length} mismatches (${Date.now() - started} ms)`)
  }
  return { groups: groups.length, stepsCompared, stepsSkipped, mismatches }
}

/** Reads `recordings/<name>.json`. */
export function loadRecording(name: string, dir: string = recordingsDir): Recording {
  return JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Recording
}

/**
 * Compares one group's run with its recording. Pure: no I/O.
 * @param urls the replayed server's own URLs (normalized to placeholders).
 */
export function compareGroup(
  group: Group,
  recording: Recording,
  run: GroupRun,
  urls: { clientUrl: string; peerUrl: string },
): { compared: number; mismatches: Mismatch[] } {
  const mismatches: Mismatch[] = []
  const stale = staleness(group, recording)
  if (stale !== undefined) {
    return { compared: 0, mismatches: [{ group: group.name, step: '-', sent: '-', note: undefined, diff: stale }] }
  }
  if (run.offset === undefined) {
    mismatches.push({ group: group.name, step: '-', sent: '-', note: undefined, diff: 'no key-space write succeeded: indexes cannot be related' })
  }
  const recordedOffset = recording.firstWriteIndex - etcdFirstWriteIndex
  let offset = run.offset ?? 0
  let compared = 0
  for (const [i, step] of group.steps.entries()) {
    const actual = run.steps[i]
    const recorded = recording.steps[i]
    if (actual === undefined || recorded === undefined || 'skipped' in actual) continue
    compared += 1
    const diff: string[] = []
    const writeOffset = offsetAtWrite(recorded, actual, recordedOffset)
    if (writeOffset !== undefined && writeOffset !== offset && group.indexDrift !== undefined) offset = writeOffset
    if (writeOffset !== undefined && writeOffset !== offset) {
      diff.push(`  index drift: from this write on the server's indexes are ${writeOffset - offset > 0 ? 'ahead' : 'behind'} by ${Math.abs(writeOffset - offset)} more than before (an earlier step changed the index when etcd did not, or the reverse); later steps are compared with the new offset`)
      offset = writeOffset
    }
    const rctx = contextFor(recorded, recordedOffset, recording)
    const actx = contextFor(actual, offset, urls)
    diff.push(...compareStep(step, recorded, actual, rctx, actx, { recording, run, index: i }))
    if (diff.length > 0) {
      const note = 'note' in step ? step.note : undefined
      mismatches.push({ group: group.name, step: `#${i} ${step.id}`, sent: actual.sent + (actual.sentBody !== undefined ? `  body: ${actual.sentBody}` : ''), note, diff: diff.join('\n') })
    }
  }
  return { compared, mismatches }
}

/**
 * When both etcd and the server answered this step as a successful key-space write, the
 * offset that relates their indexes here; otherwise undefined. A change of offset within
 * a group means some earlier step moved one index but not the other: reported once, then
 * followed, so that one difference does not make every later step differ.
 */
function offsetAtWrite(recorded: StepRecord, actual: StepRecord, recordedOffset: number): number | undefined {
  const r = writeIndex(recorded)
  const a = writeIndex(actual)
  return r === undefined || a === undefined ? undefined : a - r + recordedOffset
}

function writeIndex(rec: StepRecord): number | undefined {
  const o = rec.outcome
  if (o.kind !== 'response' || (o.status !== 200 && o.status !== 201)) return undefined
  if (!/^(PUT|POST|DELETE) \/v2\/keys(\/|\?|$)/.test(rec.sent)) return undefined
  const v = o.headers['x-etcd-index']
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined
}

function staleness(group: Group, recording: Recording): string | undefined {
  if (recording.steps.length !== group.steps.length) {
    return `recording has ${recording.steps.length} steps, cases have ${group.steps.length}: re-run scripts/record-conformance.ts`
  }
  for (const [i, step] of group.steps.entries()) {
    if (recording.steps[i]?.id !== step.id) return `step #${i} is ${step.id} in cases but ${recording.steps[i]?.id ?? '?'} in the recording: re-record`
  }
  return undefined
}

function contextFor(rec: StepRecord, offset: number, urls: { clientUrl: string; peerUrl: string }): NormalizeContext {
  return { offset, clientUrl: urls.clientUrl, peerUrl: urls.peerUrl, sentAtMs: rec.sentAtMs, indexTemplated: rec.indexTemplated, sentPrevIndex: sentPrevIndex(rec) }
}

/** The first `prevIndex` the request carried (form body first, as Go reads it), as a
 *  decimal without leading zeros. */
function sentPrevIndex(rec: StepRecord): string | undefined {
  const q = rec.sent.indexOf('?')
  const sources = [rec.sentBody ?? '', q === -1 ? '' : rec.sent.slice(q + 1)]
  for (const src of sources) {
    const m = /(?:^|&)prevIndex=(\d+)(?:&|$)/.exec(src)
    if (m !== null) return BigInt(m[1] ?? '0').toString()
  }
  return undefined
}

interface StepScope {
  readonly recording: Recording
  readonly run: GroupRun
  readonly index: number
}

/** The differences for one step, as printable lines; empty when it conforms. */
function compareStep(step: Step, recorded: StepRecord, actual: StepRecord, rctx: NormalizeContext, actx: NormalizeContext, scope: StepScope): string[] {
  const r = normalizeOutcome(recorded.outcome, rctx)
  const a = normalizeOutcome(actual.outcome, actx)
  let rBody = r.body
  let aBody = a.body
  const vary = step.do === 'request' ? step.vary : undefined
  if (vary?.unordered === true) {
    rBody = sortListing(rBody)
    aBody = sortListing(aBody)
  }
  if (vary?.statsSince !== undefined) {
    const d = statsDeltas(vary.statsSince, recorded, actual, scope)
    rBody = d.recorded
    aBody = d.actual
  }
  const out: string[] = []
  if (r.text !== a.text) out.push(lineDiff('status and headers', r.text, a.text))
  const framing = framingDiff(recorded.outcome, actual.outcome)
  if (framing !== undefined) out.push(framing)
  if (rBody !== aBody) out.push(bodyDiff(rBody, aBody))
  out.push(...toleranceDiffs(r, a))
  for (const p of a.problems) out.push(`  ${p}`)
  return out
}

function framingDiff(recorded: Outcome, actual: Outcome): string | undefined {
  if (recorded.kind !== 'response' && recorded.kind !== 'head') return undefined
  if (actual.kind !== 'response' && actual.kind !== 'head') return undefined
  const bytes = recorded.kind === 'response' ? Buffer.byteLength(recorded.body) : 0
  if (!framingMatters(recorded.framing, bytes) || recorded.framing === actual.framing) return undefined
  return `  framing: expected ${recorded.framing}, got ${actual.framing}`
}

function toleranceDiffs(r: Normalized, a: Normalized): string[] {
  const out: string[] = []
  if (r.expirationsMs.length === a.expirationsMs.length) {
    for (const [k, re] of r.expirationsMs.entries()) {
      const ae = a.expirationsMs[k] ?? Number.NaN
      if (!(Math.abs(ae - re) <= expirationToleranceMs)) out.push(`  expiration #${k}: etcd's was ${re} ms after the request, this one ${ae} ms`)
    }
  }
  if (r.ttls.length === a.ttls.length) {
    for (const [k, rt] of r.ttls.entries()) {
      const at = a.ttls[k] ?? Number.NaN
      if (!(Math.abs(at - rt) <= ttlToleranceSeconds)) out.push(`  ttl #${k}: expected ${rt} ± ${ttlToleranceSeconds}, got ${at}`)
    }
  }
  return out
}

/**
 * Store-stats counters as differences from the baseline step: etcd's own internal writes
 * make absolute values meaningless. `getsFail` may also be etcd's minus one per key-space
 * request that passed parsing (Q26, spec §12.3).
 */
function statsDeltas(sinceId: string, recorded: StepRecord, actual: StepRecord, scope: StepScope): { recorded: string; actual: string } {
  const baseAt = scope.recording.steps.findIndex((s) => s.id === sinceId)
  const rBase = scope.recording.steps[baseAt]
  const aBase = scope.run.steps[baseAt]
  if (rBase === undefined || aBase === undefined || 'skipped' in aBase) return { recorded: 'no baseline', actual: 'no baseline' }
  const rd = deltas(bodyOf(recorded.outcome), bodyOf(rBase.outcome))
  const ad = deltas(bodyOf(actual.outcome), bodyOf(aBase.outcome))
  const lookups = authLookups(scope.recording.steps, baseAt, scope.index)
  const rFail = rd.values['getsFail']
  if (rFail !== undefined && ad.values['getsFail'] === rFail - lookups) ad.values['getsFail'] = rFail
  return { recorded: rd.render(), actual: ad.render() }
}

function bodyOf(o: Outcome): string {
  return o.kind === 'response' || o.kind === 'body' ? o.body : ''
}

function deltas(cur: string, base: string): { values: Record<string, number>; render: () => string } {
  let c: Record<string, unknown>
  let b: Record<string, unknown>
  try {
    c = JSON.parse(cur) as Record<string, unknown>
    b = JSON.parse(base) as Record<string, unknown>
  } catch {
    return { values: {}, render: () => cur }
  }
  const values: Record<string, number> = {}
  for (const [k, v] of Object.entries(c)) {
    const bv = b[k]
    values[k] = k === 'watchers' ? Number(v) : Number(v) - Number(bv ?? Number.NaN)
  }
  const trailing = cur.endsWith('\n') ? '\n' : ''
  return { values, render: () => `changes since baseline: ${JSON.stringify(values)}${trailing}` }
}

/** Key-space requests between two steps that passed parsing, so that etcd looked up its
 *  auth switch (one failing internal get each, Q26). */
function authLookups(steps: readonly StepRecord[], fromExclusive: number, toExclusive: number): number {
  let n = 0
  for (let i = fromExclusive + 1; i < toExclusive; i++) {
    const s = steps[i]
    if (s === undefined) continue
    const o = s.outcome
    if (o.kind === 'loop') {
      for (const [status, count] of Object.entries(o.statuses)) if (status.startsWith('2')) n += count
      continue
    }
    if (o.kind !== 'response' && o.kind !== 'head') continue
    if (!/^(GET|HEAD|PUT|POST|DELETE) \/v2\/keys(\/|\?|$)/.test(s.sent)) continue
    if (o.status === 301 || o.status === 405 || (o.headers['content-type'] ?? '').startsWith('text/plain')) continue
    const body = o.kind === 'response' ? o.body : watchBody(steps, i)
    if (/"errorCode":2\d\d,/.test(body)) continue
    if (o.status === 400 && body === '') continue
    n += 1
  }
  return n
}

function watchBody(steps: readonly StepRecord[], watchAt: number): string {
  const id = steps[watchAt]?.id
  const awaited = steps.find((s) => s.sent === `(await ${id ?? ''})`)
  return awaited !== undefined ? bodyOf(awaited.outcome) : ''
}

function lineDiff(what: string, expected: string, actual: string): string {
  const e = expected.split('\n')
  const a = actual.split('\n')
  const lines = [`  ${what}:`]
  for (const l of e) if (!a.includes(l)) lines.push(`    - ${l}`)
  for (const l of a) if (!e.includes(l)) lines.push(`    + ${l}`)
  return lines.join('\n')
}

function bodyDiff(expected: string, actual: string): string {
  let at = 0
  while (at < expected.length && expected[at] === actual[at]) at++
  const from = Math.max(0, at - 40)
  return [
    '  body:',
    `    expected: ${JSON.stringify(clip(expected))}`,
    `    actual:   ${JSON.stringify(clip(actual))}`,
    `    first difference at char ${at}: expected …${JSON.stringify(expected.slice(from, at + 40))}, got …${JSON.stringify(actual.slice(from, at + 40))}`,
  ].join('\n')
}

function clip(s: string): string {
  return s.length <= 600 ? s : `${s.slice(0, 600)}… (${s.length} chars)`
}

/** A readable report: a summary line, then every mismatch with its diff. */
export function formatReport(report: ConformanceReport): string {
  const lines = [
    `conformance: ${report.groups} groups, ${report.stepsCompared} steps compared, ${report.stepsSkipped.length} skipped (etcd quirks), ${report.mismatches.length} mismatches`,
  ]
  for (const m of report.mismatches) {
    lines.push('', `[${m.group}] ${m.step}`, `  sent: ${m.sent}`)
    if (m.note !== undefined) lines.push(`  note: ${m.note}`)
    lines.push(m.diff)
  }
  return lines.join('\n')
}

