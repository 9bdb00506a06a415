/**
 * Watch fan-out: `watchers` long-poll watches (`GET /v2/keys/<key>?wait=true`, one connection
 * each) on one key, then one PUT to that key; a round measures the time from just before the
 * PUT is sent until the last watcher has read the whole event. A watch counts as registered
 * when its 200 headers arrive: etcd 3.4 (v2http handleKeyWatch) and arbor (http/watch.ts)
 * both register the watcher first and flush the headers at once.
 */
import { setMaxListeners } from 'node:events'
import { Client } from 'undici'
import type { CpuMeter, CpuUse } from './cpu.js'
import { clientOptions, headersFor, type Access, type RequestHeaders } from './load.js'

export interface FanoutOptions {
  /** Client URLs; watcher i connects to `origins[i % origins.length]`; the PUT goes to origins[0]. */
  readonly origins: readonly string[]
  /** Long-poll watchers per round, one connection each. */
  readonly watchers: number
  /** Measured rounds. */
  readonly rounds: number
  /** Rounds run first and not recorded (they also open the connections). */
  readonly warmupRounds: number
  /** Bound on one round: registering all watchers, and again delivering the event, in ms. */
  readonly roundTimeoutMs: number
  /** The watched key, without the leading slash, e.g. "fan". */
  readonly key: string
  /** Started after the warm-up rounds, stopped after the last round. */
  readonly meter?: CpuMeter
  /** TLS and credentials of every connection and request. */
  readonly access: Access
}

/** One round. Times in ms from just before the PUT was sent. */
export interface FanoutRound {
  /** When the last watcher had the event; undefined when one never got it within the bound. */
  readonly allReceivedMs: number | undefined
  readonly firstReceivedMs: number | undefined
  /** The PUT's own latency. */
  readonly putMs: number
  /** Watchers that failed to register, failed, got another event, or timed out. */
  readonly errors: number
}

export interface FanoutResult {
  readonly rounds: readonly FanoutRound[]
  /** Median of `allReceivedMs` over the rounds that completed (the upper middle for an even count). */
  readonly medianMs: number | undefined
  readonly maxMs: number | undefined
  readonly errors: number
  readonly firstError: string | undefined
  /** CPU used over the measured rounds (watch set-up included), when a meter was given. */
  readonly cpu: CpuUse | undefined
}

/** The event of one registered watch, or why there is none. */
type Delivery = { atMs: number; body: string } | { error: string }

/** A watch whose headers have arrived (so it is registered), its event still to come. */
type Registration = { delivery: Promise<Delivery> } | { error: string }

/** Runs warm-up and measured rounds over one set of connections, closed at the end. */
export async function runFanout(options: FanoutOptions): Promise<FanoutResult> {
  const watchClients = Array.from(
    { length: options.watchers },
    (_, i) => new Client(options.origins[i % options.origins.length] ?? '', clientOptions(options.roundTimeoutMs + 5_000, options.access)),
  )
  const writer = new Client(options.origins[0] ?? '', clientOptions(10_000, options.access))
  const headers = headersFor(options.access)
  const rounds: FanoutRound[] = []
  let firstError: string | undefined
  try {
    for (let round = 0; round < options.warmupRounds + options.rounds; round += 1) {
      if (round === options.warmupRounds) options.meter?.start()
      const outcome = await runRound(options, watchClients, writer, headers, `round-${round}-${'f'.repeat(48)}`)
      firstError ??= outcome.firstError
      if (round >= options.warmupRounds) rounds.push(outcome.round)
    }
  } finally {
    await Promise.all([...watchClients, writer].map((client) => client.destroy()))
  }
  const cpu = options.meter?.stop(0)
  const completed = rounds.flatMap((r) => (r.allReceivedMs === undefined ? [] : [r.allReceivedMs])).sort((a, b) => a - b)
  return {
    rounds,
    medianMs: completed[Math.floor(completed.length / 2)],
    maxMs: completed[completed.length - 1],
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    firstError,
    cpu,
  }
}

/**
 * Registers every watcher (waits for all 200 headers), sends the PUT, and waits for every
 * delivery, each step bounded by `roundTimeoutMs`; stragglers are aborted and counted.
 */
async function runRound(
  options: FanoutOptions,
  watchClients: readonly Client[],
  writer: Client,
  headers: RequestHeaders,
  value: string,
): Promise<{ round: FanoutRound; firstError: string | undefined }> {
  const abort = new AbortController()
  // Every watch of the round listens on this one signal.
  setMaxListeners(watchClients.length + 10, abort.signal)
  const registering = watchClients.map((client) => watch(client, options.key, headers, abort.signal))
  const registrations = await withTimeout(Promise.all(registering), options.roundTimeoutMs, abort)
  const sentAtMs = performance.now()
  const put = await writer.request({
    method: 'PUT',
    path: `/v2/keys/${options.key}`,
    headers: headers.form,
    body: `value=${value}`,
  })
  await put.body.dump()
  const putMs = performance.now() - sentAtMs
  if (put.statusCode < 200 || put.statusCode >= 300) throw new Error(`fan-out PUT answered ${put.statusCode}`)
  const pending = registrations.map((r): Promise<Delivery> => ('error' in r ? Promise.resolve(r) : r.delivery))
  const deliveries = await withTimeout(Promise.all(pending), options.roundTimeoutMs, abort)
  let errors = 0
  let firstError: string | undefined
  let firstMs = Infinity
  let lastMs = -Infinity
  for (const delivery of deliveries) {
    if ('error' in delivery || !delivery.body.includes(value)) {
      errors += 1
      firstError ??= 'error' in delivery ? delivery.error : `unexpected event: ${delivery.body.slice(0, 300)}`
      continue
    }
    firstMs = Math.min(firstMs, delivery.atMs - sentAtMs)
    lastMs = Math.max(lastMs, delivery.atMs - sentAtMs)
  }
  abort.abort()
  const round: FanoutRound = {
    allReceivedMs: errors === 0 && deliveries.length > 0 ? lastMs : undefined,
    firstReceivedMs: Number.isFinite(firstMs) ? firstMs : undefined,
    putMs,
    errors,
  }
  return { round, firstError }
}

/**
 * Starts one long-poll watch; resolves once its headers have arrived (the watch is
 * registered), with the delivery still in flight. Failures resolve as `{ error }`.
 */
async function watch(client: Client, key: string, headers: RequestHeaders, signal: AbortSignal): Promise<Registration> {
  try {
    const response = await client.request({ method: 'GET', path: `/v2/keys/${key}?wait=true`, headers: headers.plain, signal })
    if (response.statusCode !== 200) {
      const text = await response.body.text()
      return { error: `watch answered ${response.statusCode}: ${text.slice(0, 300)}` }
    }
    const delivery = response.body.text().then(
      (body): Delivery => ({ atMs: performance.now(), body }),
      (error: unknown): Delivery => ({ error: `watch body: ${String(error)}` }),
    )
    return { delivery }
  } catch (error) {
    return { error: `watch: ${String(error)}` }
  }
}

/**
 * Waits for `promise`; after `timeoutMs` aborts the round's requests, which makes every
 * pending watch settle as `{ error }`, so the promise still resolves.
 */
async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, abort: AbortController): Promise<T> {
  const timer = setTimeout(() => abort.abort(), timeoutMs)
  try {
    return await promise
  } finally {
    clearTimeout(timer)
  }
}
