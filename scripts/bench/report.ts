/**
 * The benchmark's results as one JSON document and as markdown tables: one row per workload
 * with arbor, etcd and arbor/etcd side by side. Ratios above 1 mean arbor has more (ops/s:
 * better; latency: worse). A missing side shows as "—".
 */
import type { FanoutResult } from './fanout.js'
import type { LoadResult } from './load.js'
import type { ServerKind } from './servers.js'

/** What one server did on one workload. */
export type Measurement =
  | { readonly kind: 'load'; readonly result: LoadResult }
  | { readonly kind: 'fanout'; readonly result: FanoutResult }
  | { readonly kind: 'failed'; readonly error: string }

/** One workload and what each server did on it. */
export interface Row {
  readonly id: string
  readonly title: string
  readonly type: 'load' | 'fanout'
  readonly results: Partial<Record<ServerKind, Measurement>>
}

/** The whole run, as written to `.tmp/bench-<timestamp>.json`. */
export interface BenchReport {
  readonly startedAt: string
  readonly settings: Record<string, unknown>
  readonly environment: Record<string, unknown>
  readonly rows: readonly Row[]
  /** arbor/etcd per workload and metric (only where both sides measured). */
  readonly ratios: Record<string, Record<string, number>>
  /** The tables as printed. */
  readonly markdown: string
  readonly profile?: unknown
}

const dash = '—'

/** arbor/etcd of each numeric metric of each row with both sides measured. */
export function ratiosOf(rows: readonly Row[]): Record<string, Record<string, number>> {
  const ratios: Record<string, Record<string, number>> = {}
  for (const row of rows) {
    const arbor = metricsOf(row.results.arbor)
    const etcd = metricsOf(row.results.etcd)
    if (arbor === undefined || etcd === undefined) continue
    const pairs: Record<string, number> = {}
    for (const [name, value] of Object.entries(arbor)) {
      const other = etcd[name]
      if (value !== undefined && other !== undefined && other !== 0) pairs[name] = value / other
    }
    ratios[row.id] = pairs
  }
  return ratios
}

/** The comparable numbers of one measurement (undefined where not measured). */
function metricsOf(m: Measurement | undefined): Record<string, number | undefined> | undefined {
  if (m === undefined || m.kind === 'failed') return undefined
  if (m.kind === 'load') {
    const r = m.result
    const measured = r.ops > 0
    return {
      opsPerSecond: r.opsPerSecond,
      p50Ms: measured ? r.p50Ms : undefined,
      p99Ms: measured ? r.p99Ms : undefined,
      serverUsPerOp: r.cpu?.serverUsPerOp,
    }
  }
  return { medianMs: m.result.medianMs, maxMs: m.result.maxMs }
}

/** Both markdown tables (closed-loop workloads, then watch fan-out), with a blank line between. */
export function markdown(rows: readonly Row[]): string {
  const loadRows = rows.filter((r) => r.type === 'load')
  const fanoutRows = rows.filter((r) => r.type === 'fanout')
  const parts: string[] = []
  if (loadRows.length > 0) parts.push(loadTable(loadRows))
  if (fanoutRows.length > 0) parts.push(fanoutTable(fanoutRows))
  const failures = rows.flatMap((r) =>
    Object.entries(r.results).flatMap(([kind, m]) => (m?.kind === 'failed' ? [`- ${kind} ${r.id}: ${m.error.split('\n')[0]}`] : [])),
  )
  if (failures.length > 0) parts.push(['Failed:', ...failures].join('\n'))
  parts.push(noiseLine(rows))
  return parts.join('\n\n')
}

/** The most CPU other processes used during any workload, per server: how clean the numbers are. */
function noiseLine(rows: readonly Row[]): string {
  const worst = new Map<string, number>()
  for (const row of rows) {
    for (const [kind, m] of Object.entries(row.results)) {
      if (m === undefined || m.kind === 'failed' || m.result.cpu === undefined) continue
      worst.set(kind, Math.max(worst.get(kind) ?? 0, m.result.cpu.otherPercent))
    }
  }
  const parts = [...worst.entries()].map(([kind, percent]) => `${kind} ${Math.round(percent)}`)
  return (
    `CPU µs/op: the server's CPU time (user + system, all members) per operation in the measured window. ` +
    `Other processes used at most this % of one core during a workload: ${parts.length === 0 ? dash : parts.join(', ')}.`
  )
}

function loadTable(rows: readonly Row[]): string {
  const lines = [
    '| workload | arbor ops/s | etcd ops/s | arbor/etcd | arbor p50 ms | etcd p50 ms | arbor/etcd | arbor p99 ms | etcd p99 ms | arbor/etcd | arbor errors | etcd errors | arbor CPU µs/op | etcd CPU µs/op | arbor/etcd |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ]
  for (const row of rows) {
    const a = loadOf(row.results.arbor)
    const e = loadOf(row.results.etcd)
    // Latencies of a window without one answered request are not 0 but unknown.
    const aLat = a !== undefined && a.ops > 0 ? a : undefined
    const eLat = e !== undefined && e.ops > 0 ? e : undefined
    lines.push(
      `| ${row.title} | ${ops(a?.opsPerSecond)} | ${ops(e?.opsPerSecond)} | ${ratio(a?.opsPerSecond, e?.opsPerSecond)} ` +
        `| ${ms(aLat?.p50Ms)} | ${ms(eLat?.p50Ms)} | ${ratio(aLat?.p50Ms, eLat?.p50Ms)} ` +
        `| ${ms(aLat?.p99Ms)} | ${ms(eLat?.p99Ms)} | ${ratio(aLat?.p99Ms, eLat?.p99Ms)} ` +
        `| ${count(a?.errors)} | ${count(e?.errors)} ` +
        `| ${ops(a?.cpu?.serverUsPerOp)} | ${ops(e?.cpu?.serverUsPerOp)} | ${ratio(a?.cpu?.serverUsPerOp, e?.cpu?.serverUsPerOp)} |`,
    )
  }
  return lines.join('\n')
}

function fanoutTable(rows: readonly Row[]): string {
  const lines = [
    '| watch fan-out: time until every watcher has the event | arbor median ms | etcd median ms | arbor/etcd | arbor max ms | etcd max ms | arbor/etcd | arbor errors | etcd errors |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ]
  for (const row of rows) {
    const a = fanoutOf(row.results.arbor)
    const e = fanoutOf(row.results.etcd)
    lines.push(
      `| ${row.title} | ${ms(a?.medianMs)} | ${ms(e?.medianMs)} | ${ratio(a?.medianMs, e?.medianMs)} ` +
        `| ${ms(a?.maxMs)} | ${ms(e?.maxMs)} | ${ratio(a?.maxMs, e?.maxMs)} | ${count(a?.errors)} | ${count(e?.errors)} |`,
    )
  }
  return lines.join('\n')
}

function loadOf(m: Measurement | undefined): LoadResult | undefined {
  return m?.kind === 'load' ? m.result : undefined
}

function fanoutOf(m: Measurement | undefined): FanoutResult | undefined {
  return m?.kind === 'fanout' ? m.result : undefined
}

function ops(value: number | undefined): string {
  return value === undefined ? dash : Math.round(value).toString()
}

/** Three significant digits, at most two decimals: 0.412, 3.18, 27.4, 1203. */
function ms(value: number | undefined): string {
  if (value === undefined) return dash
  if (value >= 100) return Math.round(value).toString()
  return value >= 10 ? value.toFixed(1) : value.toFixed(2)
}

function count(value: number | undefined): string {
  return value === undefined ? dash : value.toString()
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return dash
  return (a / b).toFixed(2)
}
