/**
 * Closed-loop HTTP load for the benchmark: `concurrency` simulated clients, each with its own
 * keep-alive connection (an undici `Client`, i.e. a pool of exactly one connection, no
 * pipelining), each sending its next request as soon as the previous answer has been read.
 * A run is a warm-up (not recorded) followed by a measured window bounded both in time and
 * in operations; latencies are wall time from just before `request()` until the whole body
 * has been read, in milliseconds. Over https (`Access.tls`) each connection makes one TLS
 * handshake and keeps it (undici also resumes TLS sessions on a reconnect); `connections`
 * in the result counts the connections opened, so a handshake per request would show.
 */
import { Client } from 'undici'
import type { CpuMeter, CpuUse } from './cpu.js'

/**
 * How the driver reaches the servers: what it trusts and presents in TLS, and the
 * credentials every request carries. `{}` is plain http without credentials.
 */
export interface Access {
  /** For https origins, as PEM text: the CA that signs the servers' certificates, and the
   *  client certificate and key to present (when the servers demand one). */
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string }
  /** The `Authorization` header value of every request, e.g. `Basic YmVuY2g6...`. */
  readonly authorization?: string
}

/** One request of a workload. `body` is sent form-encoded (`application/x-www-form-urlencoded`). */
export interface RequestSpec {
  readonly method: 'GET' | 'PUT'
  readonly path: string
  readonly body?: string
}

export interface ClosedLoopOptions {
  /** Client URLs; simulated client i talks to `origins[i % origins.length]`. */
  readonly origins: readonly string[]
  /** Simulated clients, one connection each. */
  readonly concurrency: number
  /** Time before the measured window, in ms; answers in it are not recorded. */
  readonly warmupMs: number
  /** Length of the measured window, in ms. No request starts after it. */
  readonly durationMs: number
  /** At most this many requests start in the measured window (all clients together). */
  readonly opsMax: number
  /** The `seq`-th request (from 0, warm-up included) of simulated client `clientIndex`. */
  request(clientIndex: number, seq: number): RequestSpec
  /** Started when the measured window opens, stopped after its last answer. */
  readonly meter?: CpuMeter
  /** TLS and credentials of every connection and request. */
  readonly access: Access
}

/** The outcome of one measured window. Latencies count successful (2xx) answers only. */
export interface LoadResult {
  /** 2xx answers in the measured window. */
  readonly ops: number
  /** Non-2xx answers plus failed requests (connection errors, timeouts) in the window. */
  readonly errors: number
  /** `ops` divided by the window's length (first start to last answer), per second. */
  readonly opsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** From the window's start to its last answer, in ms. */
  readonly elapsedMs: number
  /** Answers by HTTP status, and failed requests by error code, in the window. */
  readonly outcomes: Record<string, number>
  /** The first error seen (status and body, or error message), for diagnosis. */
  readonly firstError: string | undefined
  /** CPU used in the measured window, when a meter was given. */
  readonly cpu: CpuUse | undefined
  /** Connections opened over the whole run, warm-up included: `concurrency` when every
   *  simulated client kept its one connection (one TLS handshake each over https). */
  readonly connections: number
}

/** The headers of a request without a body and of a form-encoded one, under `access`. */
export interface RequestHeaders {
  readonly plain: Readonly<Record<string, string>>
  readonly form: Readonly<Record<string, string>>
}

/** The headers every request carries under `access` (built once per run, not per request). */
export function headersFor(access: Access): RequestHeaders {
  const auth: Record<string, string> = access.authorization === undefined ? {} : { authorization: access.authorization }
  return { plain: auth, form: { ...auth, 'content-type': 'application/x-www-form-urlencoded' } }
}

/**
 * Connection options for a simulated client: keep-alive, one request at a time, and over
 * https the CA to trust and the client certificate of `access`.
 */
export function clientOptions(bodyTimeoutMs: number, access: Access): Client.Options {
  return {
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: 10_000,
    bodyTimeout: bodyTimeoutMs,
    connect: { timeout: 5_000, ...(access.tls ?? {}) },
  }
}

/** A request of `requestOnce`: a JSON or form body (or none), and its own credentials if any. */
export interface OnceSpec {
  readonly method: 'GET' | 'PUT'
  readonly path: string
  readonly json?: string
  readonly form?: string
  /** The `Authorization` header; `Access.authorization` is not used here. */
  readonly authorization?: string
}

/**
 * Sends one request on a connection of its own (closed afterwards) and reads the answer;
 * for set-up steps, not for measured load.
 * @throws Error when the request fails (no answer); any status is returned.
 */
export async function requestOnce(
  origin: string,
  access: Access,
  spec: OnceSpec,
): Promise<{ status: number; body: string }> {
  const client = new Client(origin, clientOptions(10_000, access))
  try {
    const headers: Record<string, string> = {}
    if (spec.authorization !== undefined) headers.authorization = spec.authorization
    if (spec.json !== undefined) headers['content-type'] = 'application/json'
    else if (spec.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await client.request({ method: spec.method, path: spec.path, headers, body: spec.json ?? spec.form })
    return { status: response.statusCode, body: await response.body.text() }
  } finally {
    await client.close()
  }
}

/** Counts of one window, filled by the simulated clients. */
class Tally {
  readonly latenciesMs: number[] = []
  readonly outcomes = new Map<string, number>()
  errors = 0
  firstError: string | undefined = undefined

  count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1)
  }

  fail(outcome: string, detail: string): void {
    this.errors += 1
    this.count(outcome)
    this.firstError ??= detail
  }
}

/**
 * Runs the closed loop and returns what was measured. Never throws for a failed request:
 * failures are counted in `errors`.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const clients = Array.from(
    { length: options.concurrency },
    (_, i) => new Client(options.origins[i % options.origins.length] ?? '', clientOptions(10_000, options.access)),
  )
  let connections = 0
  for (const client of clients) client.on('connect', () => (connections += 1))
  const headers = headersFor(options.access)
  const tally = new Tally()
  const measureFromMs = performance.now() + options.warmupMs
  const measureToMs = measureFromMs + options.durationMs
  let started = 0
  let lastAnswerMs = measureFromMs
  const meterTimer = setTimeout(() => options.meter?.start(), options.warmupMs)
  const simulate = async (clientIndex: number, client: Client): Promise<void> => {
    for (let seq = 0; ; seq += 1) {
      const startMs = performance.now()
      if (startMs >= measureToMs) return
      const measured = startMs >= measureFromMs
      if (measured && started >= options.opsMax) return
      if (measured) started += 1
      const spec = options.request(clientIndex, seq)
      const outcome = await send(client, spec, headers)
      const endMs = performance.now()
      if (!measured) continue
      lastAnswerMs = Math.max(lastAnswerMs, endMs)
      if (outcome.ok) {
        tally.count(outcome.label)
        tally.latenciesMs.push(endMs - startMs)
      } else {
        tally.fail(outcome.label, `${spec.method} ${spec.path}: ${outcome.detail}`)
      }
    }
  }
  await Promise.all(clients.map((client, i) => simulate(i, client)))
  clearTimeout(meterTimer)
  const cpu = options.meter?.stop(tally.latenciesMs.length)
  await Promise.all(clients.map((client) => client.close()))
  return summarize(tally, lastAnswerMs - measureFromMs, cpu, connections)
}

type Outcome = { ok: true; label: string } | { ok: false; label: string; detail: string }

/** Sends one request and reads the whole answer. A non-2xx answer or a thrown error is `ok: false`. */
async function send(client: Client, spec: RequestSpec, headers: RequestHeaders): Promise<Outcome> {
  try {
    const response = await client.request({
      method: spec.method,
      path: spec.path,
      headers: spec.body === undefined ? headers.plain : headers.form,
      body: spec.body,
    })
    const label = String(response.statusCode)
    if (response.statusCode >= 200 && response.statusCode < 300) {
      await response.body.dump()
      return { ok: true, label }
    }
    const text = await response.body.text()
    return { ok: false, label, detail: `${label} ${text.slice(0, 300)}` }
  } catch (error) {
    const code = (error as { code?: unknown }).code
    return { ok: false, label: typeof code === 'string' ? code : 'error', detail: String(error) }
  }
}

function summarize(tally: Tally, elapsedMs: number, cpu: CpuUse | undefined, connections: number): LoadResult {
  const sorted = Float64Array.from(tally.latenciesMs).sort()
  const ops = sorted.length
  return {
    ops,
    errors: tally.errors,
    opsPerSecond: elapsedMs > 0 ? (ops * 1000) / elapsedMs : 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: ops > 0 ? (sorted[ops - 1] ?? 0) : 0,
    elapsedMs,
    outcomes: Object.fromEntries(tally.outcomes),
    firstError: tally.firstError,
    cpu,
    connections,
  }
}

/**
 * The nearest-rank percentile of ascending `sorted` (q in [0, 1]); 0 when empty.
 * E.g. q = 0.99 over 1000 values is the 990th smallest.
 */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.max(1, Math.ceil(q * sorted.length))
  return sorted[rank - 1] ?? 0
}

/**
 * Sends `count` requests with `concurrency` connections and no time bound, e.g. to create the
 * keys a read workload needs.
 * @throws Error on the first non-2xx answer or failed request.
 */
export async function runEach(
  origins: readonly string[],
  access: Access,
  concurrency: number,
  count: number,
  request: (index: number) => RequestSpec,
): Promise<void> {
  const clients = Array.from(
    { length: concurrency },
    (_, i) => new Client(origins[i % origins.length] ?? '', clientOptions(10_000, access)),
  )
  const headers = headersFor(access)
  let next = 0
  const work = async (client: Client): Promise<void> => {
    for (let index = next++; index < count; index = next++) {
      const spec = request(index)
      const outcome = await send(client, spec, headers)
      if (!outcome.ok) throw new Error(`${spec.method} ${spec.path} failed: ${outcome.detail}`)
    }
  }
  try {
    await Promise.all(clients.map((client) => work(client)))
  } finally {
    await Promise.all(clients.map((client) => client.close()))
  }
}
