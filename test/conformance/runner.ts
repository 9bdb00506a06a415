/**
 * Runs one group's steps, in order, against a fresh server and returns what each did.
 * Shared by the recorder (against etcd) and the comparer (against any server).
 *
 * The index offset (server index minus etcd index) is learnt from the group's first
 * successful key-space write, whose etcd index is 4 (spec §5.3); index templates in later
 * requests are shifted by it (see template.ts).
 */
import { unreachable } from '../../src/lib/index.js'
import { exchange, startWatch } from './http-exchange.js'
import type { ConcreteRequest, WatchHandle } from './http-exchange.js'
import { expandTemplate, usesIndexTemplate } from './template.js'
import type { TemplateContext } from './template.js'
import { etcdFirstWriteIndex } from './types.js'
import type { Group, LoopStep, Outcome, RequestSpec, ResponseOutcome, Step, StepRecord } from './types.js'

/** A step that was not run against this target (an etcd quirk arbor fixes). */
export interface SkippedRecord {
  readonly id: string
  readonly skipped: string
}

export interface GroupRun {
  /** One entry per step, in order. */
  readonly steps: readonly (StepRecord | SkippedRecord)[]
  /** Server index minus etcd index, learnt at the first write; undefined if none succeeded. */
  readonly offset: number | undefined
  /** The server's index for the group's first write. */
  readonly firstWriteIndex: number | undefined
}

export interface RunOptions {
  /** `http://127.0.0.1:port` of a fresh member. */
  readonly baseUrl: string
  /** Skip steps tagged with an etcd quirk (every target but etcd itself). */
  readonly skipQuirks: boolean
  /** Milliseconds to wait for a watch's head (default 3000). */
  readonly watchHeadTimeoutMs?: number
}

/** Default milliseconds an await waits for its watch to fire. */
export const awaitTimeoutMsDefault = 5_000

/** Runs every step of `group`; never throws for a server's misbehaviour, only for case bugs. */
export async function runGroup(group: Group, options: RunOptions): Promise<GroupRun> {
  const state: RunState = { offset: undefined, firstWriteIndex: undefined, vars: new Map(), watches: new Map(), skippedWatches: new Set() }
  const records: (StepRecord | SkippedRecord)[] = []
  try {
    for (const step of group.steps) {
      if (options.skipQuirks && (step.quirk !== undefined || (step.do === 'await' && state.skippedWatches.has(step.watch)))) {
        if (step.do === 'watch') state.skippedWatches.add(step.id)
        records.push({ id: step.id, skipped: step.quirk ?? 'its watch was skipped' })
        continue
      }
      records.push(await runStep(step, state, options))
    }
  } finally {
    for (const w of state.watches.values()) w.handle.close()
  }
  return { steps: records, offset: state.offset, firstWriteIndex: state.firstWriteIndex }
}

interface RunState {
  offset: number | undefined
  firstWriteIndex: number | undefined
  readonly vars: Map<string, string>
  readonly watches: Map<string, { handle: WatchHandle; indexTemplated: boolean }>
  readonly skippedWatches: Set<string>
}

async function runStep(step: Step, state: RunState, options: RunOptions): Promise<StepRecord> {
  const sentAtMs = Date.now()
  switch (step.do) {
    case 'request': {
      const req = concrete(step.req, state)
      const outcome = await exchange(options.baseUrl, req)
      if (outcome.kind === 'response') {
        learnOffset(req, outcome.status, outcome.headers['x-etcd-index'], state)
        if (step.capture !== undefined) capture(step.capture, outcome, state.vars)
      }
      return record(step.id, step.req, req, sentAtMs, outcome)
    }
    case 'watch': {
      const req = concrete(step.req, state)
      const handle = await startWatch(options.baseUrl, req, step.events, options.watchHeadTimeoutMs ?? 3_000)
      const r = record(step.id, step.req, req, sentAtMs, handle.head)
      state.watches.set(step.id, { handle, indexTemplated: r.indexTemplated })
      return r
    }
    case 'await': {
      const watch = state.watches.get(step.watch)
      if (watch === undefined) throw new Error(`await of unknown watch ${step.watch}`)
      const outcome = await watch.handle.body(step.timeoutMs ?? awaitTimeoutMsDefault)
      state.watches.delete(step.watch)
      // The body echoes the watch's own request (a 401 cause names its waitIndex).
      return { id: step.id, sent: `(await ${step.watch})`, indexTemplated: watch.indexTemplated, sentAtMs, outcome }
    }
    case 'sleep': {
      await new Promise((r) => setTimeout(r, step.ms))
      return { id: step.id, sent: `(sleep ${step.ms} ms)`, indexTemplated: false, sentAtMs, outcome: { kind: 'slept' } }
    }
    case 'loop':
      return runLoop(step, state, options, sentAtMs)
    default:
      return unreachable(step)
  }
}

async function runLoop(step: LoopStep, state: RunState, options: RunOptions, sentAtMs: number): Promise<StepRecord> {
  const statuses: Record<string, number> = {}
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < step.count; i = next++) {
      const o = await exchange(options.baseUrl, concrete(step.req, state, i))
      const key = o.kind === 'response' ? String(o.status) : `error: ${o.error}`
      statuses[key] = (statuses[key] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: step.concurrency }, worker))
  const outcome: Outcome = { kind: 'loop', statuses }
  return { id: step.id, sent: `(loop ×${step.count}) ${step.req.method} ${step.req.path}`, indexTemplated: false, sentAtMs, outcome }
}

/** Expands templates and fills in the default form Content-Type. */
function concrete(spec: RequestSpec, state: RunState, iteration?: number): ConcreteRequest {
  const ctx: TemplateContext = { offset: state.offset, vars: state.vars, iteration }
  const path = expandTemplate(spec.path, ctx)
  const query = spec.query === undefined ? undefined : expandTemplate(spec.query, ctx)
  const body = spec.body === undefined ? undefined : expandTemplate(spec.body, ctx)
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(spec.headers ?? {})) headers[k.toLowerCase()] = expandTemplate(v, ctx)
  if (body !== undefined && headers['content-type'] === undefined && spec.noContentType !== true) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  return { method: spec.method, target: query === undefined ? path : `${path}?${query}`, headers, body, raw: spec.raw === true }
}

/** The first successful key-space write fixes the offset (etcd numbers it 4). */
function learnOffset(req: ConcreteRequest, status: number, etcdIndex: string | undefined, state: RunState): void {
  if (state.offset !== undefined) return
  if (!['PUT', 'POST', 'DELETE'].includes(req.method)) return
  if (!req.target.startsWith('/v2/keys')) return
  if (status !== 200 && status !== 201) return
  if (etcdIndex === undefined || !/^\d+$/.test(etcdIndex)) return
  state.firstWriteIndex = Number(etcdIndex)
  state.offset = state.firstWriteIndex - etcdFirstWriteIndex
}

/** Remembers values: `header:<name>` reads a header, anything else a dotted JSON path. */
function capture(paths: Readonly<Record<string, string>>, outcome: ResponseOutcome, vars: Map<string, string>): void {
  let json: unknown
  try {
    json = JSON.parse(outcome.body)
  } catch {
    json = undefined
  }
  for (const [name, path] of Object.entries(paths)) {
    if (path.startsWith('header:')) {
      const v = outcome.headers[path.slice('header:'.length)]
      if (v !== undefined) vars.set(name, v)
      continue
    }
    let at: unknown = json
    for (const part of path.split('.')) at = at === null || typeof at !== 'object' ? undefined : (at as Record<string, unknown>)[part]
    if (typeof at === 'string' || typeof at === 'number') vars.set(name, String(at))
  }
}

const shownMax = 300

function record(id: string, spec: RequestSpec, req: ConcreteRequest, sentAtMs: number, outcome: Outcome): StepRecord {
  const sent = `${req.method} ${req.target}`
  const r: StepRecord = {
    id,
    sent: shorten(sent),
    indexTemplated: usesIndexTemplate(spec.path) || usesIndexTemplate(spec.query) || usesIndexTemplate(spec.body),
    sentAtMs,
    outcome,
  }
  return req.body === undefined ? r : { ...r, sentBody: shorten(req.body) }
}

function shorten(s: string): string {
  return s.length <= shownMax ? s : `${s.slice(0, shownMax)}… (${s.length} chars)`
}
