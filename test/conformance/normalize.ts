/**
 * Turns a recorded or replayed outcome into text that two correct servers agree on byte
 * for byte, and collects what may differ only within a tolerance.
 *
 * Normalized (spec references in v2-api.md):
 * - etcd indexes (§5.3): `modifiedIndex`, `createdIndex`, an error's `index`, `X-Etcd-Index`,
 *   20-digit in-order key names (§8), both numbers of a 401 cause `[oldest/waitIndex]` and
 *   the `[prevIndex != modifiedIndex]` part of a 101 cause (§10.3) are shifted back to
 *   etcd's numbering by the group's offset. A number the client sent (the waitIndex of a 401
 *   cause, the prevIndex of a 101 cause) is shifted only if the case wrote it as a template.
 * - member and cluster ids (§12.1, §5.2), `startTime`, `uptime`, versions: checked for form,
 *   then replaced by a placeholder.
 * - the member's own client and peer URLs: replaced by `<client-url>` and `<peer-url>`.
 * - `expiration` (§4.5): checked for form; its distance from the moment the request was
 *   sent is kept for a tolerant comparison. `ttl`: kept for a ±1 comparison.
 * - `X-Raft-Index`, `X-Raft-Term`: presence only.
 */
import { unreachable } from '../../src/lib/index.js'
import type { Framing, Outcome } from './types.js'

/** What normalization needs to know about the server and the step. */
export interface NormalizeContext {
  /** Server index minus etcd index (0 for the recording). */
  readonly offset: number
  readonly clientUrl: string
  readonly peerUrl: string
  /** When the request was sent (ms since the epoch). */
  readonly sentAtMs: number
  /** Whether the request held index templates (so echoed indexes are shifted too). */
  readonly indexTemplated: boolean
  /** The `prevIndex` the request sent, as a decimal without leading zeros. */
  readonly sentPrevIndex: string | undefined
}

/** A normalized outcome. `text` is compared exactly; the rest within tolerances. */
export interface Normalized {
  readonly text: string
  readonly body: string
  /** For each `expiration`: milliseconds from the request's sending to the expiration. */
  readonly expirationsMs: readonly number[]
  /** Each `ttl` value, in order. */
  readonly ttls: readonly number[]
  /** Malformed ids, times or versions. */
  readonly problems: readonly string[]
}

const hexId = /^[0-9a-f]{1,16}$/
const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/
const goDuration = /^(\d+h)?(\d+m)?\d+(\.\d+)?(s|ms|µs|ns)$|^0s$/
const version = /^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/

/** Normalizes every kind of outcome into comparable text. */
export function normalizeOutcome(outcome: Outcome, ctx: NormalizeContext): Normalized {
  const acc: Accumulator = { expirationsMs: [], ttls: [], problems: [] }
  switch (outcome.kind) {
    case 'response':
    case 'head': {
      const raw = outcome.kind === 'response' ? outcome.body : ''
      const body = normalizeBody(raw, ctx, acc)
      const literalIndex = isParseError(raw) || ((outcome.status === 400 || outcome.status === 401) && raw === '' && outcome.headers['x-etcd-index'] === '0')
      const head = `${outcome.status}\n${normalizeHeaders(outcome.headers, literalIndex ? { ...ctx, offset: 0 } : ctx, acc)}`
      return { text: head, body, ...acc }
    }
    case 'body': {
      const body = normalizeBody(outcome.body, ctx, acc)
      return { text: outcome.pending ? '(still pending)' : '(ended)', body, ...acc }
    }
    case 'error':
      return { text: `connection failed: ${outcome.error}`, body: '', ...acc }
    case 'loop':
      return { text: `statuses ${JSON.stringify(sortKeys(outcome.statuses))}`, body: '', ...acc }
    case 'slept':
      return { text: 'slept', body: '', ...acc }
    default:
      return unreachable(outcome)
  }
}

interface Accumulator {
  expirationsMs: number[]
  ttls: number[]
  problems: string[]
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** Header lines `name: value`, sorted by name, with indexes and ids normalized. */
export function normalizeHeaders(headers: Readonly<Record<string, string>>, ctx: NormalizeContext, acc: Accumulator): string {
  const lines: string[] = []
  for (const name of Object.keys(headers).sort()) {
    let value = headers[name] ?? ''
    if (name === 'x-etcd-index') value = shiftDecimal(value, ctx.offset)
    else if (name === 'x-etcd-cluster-id') value = placeholder(value, hexId, '<id>', 'X-Etcd-Cluster-Id', acc)
    else if (name === 'x-raft-index' || name === 'x-raft-term') value = placeholder(value, /^\d+$/, '<present>', name, acc)
    else if (name === 'location') value = replaceUrls(value, ctx)
    lines.push(`${name}: ${value}`)
  }
  return lines.join('\n')
}

/**
 * Whether `body` is an error found before the store was consulted (codes 200-299, and 110
 * "Insufficient credentials"): its
 * `index` and `X-Etcd-Index` are a literal 0, not an etcd index (spec §6.1).
 */
export function isParseError(body: string): boolean {
  return /^\{"errorCode":(2\d\d|110),/.test(body)
}

/** The body text with every varying part normalized (see the module comment). */
export function normalizeBody(body: string, ctx: NormalizeContext, acc: Accumulator): string {
  let s = replaceUrls(body, ctx)
  const indexOffset = isParseError(body) ? 0 : ctx.offset
  s = s.replace(/"(modifiedIndex|createdIndex|index)":(-?\d+)/g, (_w, f: string, n: string) => `"${f}":${shiftDecimal(n, indexOffset)}`)
  s = s.replace(/\/(\d{20})(?=[/"\\])/g, (_w, n: string) => `/${shiftDecimal(n, ctx.offset).padStart(20, '0')}`)
  s = s.replace(/(history has been cleared \[)(\d+)\/(\d+)\]/g, (_w, p: string, oldest: string, wait: string) =>
    `${p}${shiftDecimal(oldest, ctx.offset)}/${ctx.indexTemplated ? shiftDecimal(wait, ctx.offset) : wait}]`)
  if (s.includes('"errorCode":101,')) s = normalizeCompareCause(s, ctx)
  s = s.replace(/"(id|leader)":"([^"]*)"/g, (_w, f: string, v: string) => `"${f}":"${placeholder(v, hexId, '<id>', f, acc)}"`)
  s = s.replace(/"[0-9a-f]{1,16}":\{"latency"/g, '"<id>":{"latency"')
  s = s.replace(/"startTime":"([^"]*)"/g, (_w, v: string) => `"startTime":"${placeholder(v, rfc3339, '<time>', 'startTime', acc)}"`)
  s = s.replace(/"uptime":"([^"]*)"/g, (_w, v: string) => `"uptime":"${placeholder(v, goDuration, '<duration>', 'uptime', acc)}"`)
  s = s.replace(/"(etcdserver|etcdcluster)":"([^"]*)"/g, (_w, f: string, v: string) => `"${f}":"${placeholder(v, version, '<version>', f, acc)}"`)
  s = s.replace(/"expiration":"([^"]*)"/g, (_w, v: string) => {
    if (!rfc3339.test(v)) acc.problems.push(`malformed expiration ${JSON.stringify(v)}`)
    else acc.expirationsMs.push(parseRfc3339Ms(v) - ctx.sentAtMs)
    return '"expiration":"<expiration>"'
  })
  s = s.replace(/"ttl":(-?\d+)/g, (_w, n: string) => {
    acc.ttls.push(Number(n))
    return '"ttl":"<ttl>"'
  })
  return s
}

/**
 * The 101 cause is `[prevValue != value]`, `[prevIndex != modifiedIndex]` or both, in that
 * order (§10.3). A single part is the index part when its left side is the prevIndex the
 * request sent and its right side is a number.
 */
function normalizeCompareCause(body: string, ctx: NormalizeContext): string {
  return body.replace(/"cause":"((?:[^"\\]|\\.)*)"/, (whole, cause: string) => {
    const both = /^(\[.* != .*\]) \[(\d+) != (\d+)\]$/.exec(cause)
    if (both !== null) return `"cause":"${both[1] ?? ''} ${indexPart(both[2] ?? '', both[3] ?? '', ctx)}"`
    const one = /^\[(\d+) != (\d+)\]$/.exec(cause)
    if (one !== null && ctx.sentPrevIndex !== undefined && one[1] === ctx.sentPrevIndex) {
      return `"cause":"${indexPart(one[1], one[2] ?? '', ctx)}"`
    }
    return whole
  })
}

function indexPart(sent: string, current: string, ctx: NormalizeContext): string {
  return `[${ctx.indexTemplated ? shiftDecimal(sent, ctx.offset) : sent} != ${shiftDecimal(current, ctx.offset)}]`
}

/** `n - offset` for a decimal string of any length. */
export function shiftDecimal(n: string, offset: number): string {
  if (!/^-?\d+$/.test(n)) return n
  return (BigInt(n) - BigInt(offset)).toString()
}

function placeholder(value: string, form: RegExp, replacement: string, what: string, acc: Accumulator): string {
  if (form.test(value)) return replacement
  acc.problems.push(`malformed ${what} ${JSON.stringify(value)}`)
  return value
}

/** The member's own URLs (not a longer port that starts the same) become placeholders. */
function replaceUrls(s: string, ctx: NormalizeContext): string {
  const exact = (url: string): RegExp => new RegExp(`${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?!\\d)`, 'g')
  return s.replace(exact(ctx.clientUrl), '<client-url>').replace(exact(ctx.peerUrl), '<peer-url>')
}

/** Milliseconds since the epoch of an RFC 3339 UTC time with up to nine fraction digits. */
export function parseRfc3339Ms(v: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(v)
  if (m === null) return Number.NaN
  const fraction = (m[2] ?? '').padEnd(3, '0').slice(0, 3)
  return Date.parse(`${m[1] ?? ''}.${fraction}Z`)
}

/** Every `nodes` array sorted by `key`, at every depth (for unordered listings, Q3). */
export function sortListing(body: string): string {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return body
  }
  const stack: unknown[] = [json]
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (v === null || typeof v !== 'object') continue
    const o = v as Record<string, unknown>
    const nodes = o['nodes']
    if (Array.isArray(nodes)) nodes.sort((a: { key?: string }, b: { key?: string }) => ((a.key ?? '') < (b.key ?? '') ? -1 : 1))
    for (const child of Object.values(o)) stack.push(child)
  }
  return JSON.stringify(json) + (body.endsWith('\n') ? '\n' : '')
}

/** Whether framing must match: small answers must agree; Go chunks answers of 2 KB or more
 *  and sends HEAD of such answers with neither header, where any framing is fine (§1.5). */
export function framingMatters(recorded: Framing, bodyBytes: number): boolean {
  return recorded === 'length' || (recorded === 'chunked' && bodyBytes < 2048)
}
