/**
 * Shapes shared by the conformance cases, the recorder (scripts/record-conformance.ts) and
 * the comparer (compare.ts).
 *
 * A *group* runs on a fresh member, so its etcd indexes start over; its *steps* run in order
 * and may depend on earlier ones. Requests are written as etcd 3.4.23 sees them: indexes in
 * templates are etcd's (the first client write of a fresh single member is index 4) and
 * are shifted to the server under test when sent (see `template.ts`).
 */

/** One HTTP request, sent exactly as written (no client-side normalization). */
export interface RequestSpec {
  /** Sent verbatim; a method Node's http client would upper-case goes over a raw socket. */
  readonly method: string
  /** Raw path, percent-encoding preserved; may hold templates (`${idx:N}` ...). */
  readonly path: string
  /** Raw query without `?`; may hold templates. */
  readonly query?: string
  /** Extra request headers. `content-type` defaults to form encoding when `body` is set. */
  readonly headers?: Readonly<Record<string, string>>
  /** Raw body; may hold templates. */
  readonly body?: string
  /** Send `body` without any Content-Type header. */
  readonly noContentType?: boolean
  /** Force a raw socket (for methods or request lines Node's http client would change). */
  readonly raw?: boolean
}

/**
 * Why a response may differ from etcd's for a legitimate reason. Global normalizations
 * (indexes, ids, URLs, versions, times, ttl ±1) always apply; these are per step.
 */
export interface Vary {
  /** The listing is unsorted in etcd (random Go map order, Q3): compare with every
   *  `nodes` array sorted by key. */
  readonly unordered?: boolean
  /** A /v2/stats/store answer: counters are compared as differences from the answer of
   *  the step with this id, and `getsFail` may also exclude etcd's internal auth lookups
   *  (Q26: one failing get per key-space request that passed parsing). */
  readonly statsSince?: string
}

interface StepBase {
  /** Unique within the group; used in reports, captures and awaits. */
  readonly id: string
  /** What the step shows and which spec section it covers. */
  readonly note?: string
  /** Set when etcd 3.4.23 has a quirk arbor deliberately fixes (spec §15, e.g. 'Q19'):
   *  the step is recorded and replayed against etcd, but skipped for other targets. */
  readonly quirk?: string
}

/** A plain request; the response is compared. */
export interface RequestStep extends StepBase {
  readonly do: 'request'
  readonly req: RequestSpec
  readonly vary?: Vary
  /** Values to remember from the JSON body: name → dotted path (`members.0.id`). */
  readonly capture?: Readonly<Record<string, string>>
}

/** Starts a `wait=true` GET in the background; returns once the response head arrived. */
export interface WatchStep extends StepBase {
  readonly do: 'watch'
  readonly req: RequestSpec
  /** For `stream=true`: read this many events (lines), then close the connection. */
  readonly events?: number
}

/** Completes a watch started earlier and compares its body. */
export interface AwaitStep extends StepBase {
  readonly do: 'await'
  readonly watch: string
  /** How long to wait. When the watch is expected never to fire, a short value here and
   *  a recorded `pending` outcome say so. */
  readonly timeoutMs?: number
}

/** Sleeps (TTL expiry); keep the total small. */
export interface SleepStep extends StepBase {
  readonly do: 'sleep'
  readonly ms: number
}

/** Sends `count` requests, `${i}` in the request replaced by 0..count-1; only the
 *  statuses are compared. */
export interface LoopStep extends StepBase {
  readonly do: 'loop'
  readonly count: number
  readonly concurrency: number
  readonly req: RequestSpec
}

export type Step = RequestStep | WatchStep | AwaitStep | SleepStep | LoopStep

export interface Group {
  /** File name of the recording: `recordings/<name>.json`. */
  readonly name: string
  /** Spec sections covered. */
  readonly sections: string
  readonly steps: readonly Step[]
  /** Extra flags for arbor (not etcd) when this group replays against it. */
  readonly arborArgs?: readonly string[]
  /** Set when the group's steps legitimately move etcd's index but not the server's (or
   *  the reverse) between key-space writes: the offset is learnt again at each write
   *  without reporting a drift. The text says why. */
  readonly indexDrift?: string
}

/** Headers kept from a response, lower-case names, raw values. */
export type RecordedHeaders = Record<string, string>

/** How the body was framed on the wire. */
export type Framing = 'length' | 'chunked' | 'none'

/** A complete response (request steps; watches that ended with their head). */
export interface ResponseOutcome {
  readonly kind: 'response'
  readonly status: number
  readonly headers: RecordedHeaders
  readonly framing: Framing
  readonly body: string
}

/** The head of a watch; its body comes with the matching await. */
export interface HeadOutcome {
  readonly kind: 'head'
  readonly status: number
  readonly headers: RecordedHeaders
  readonly framing: Framing
}

/** The body of a watch: the event(s), or `pending` when it had not fired in time. */
export interface BodyOutcome {
  readonly kind: 'body'
  readonly body: string
  readonly pending: boolean
}

/** The connection failed (reset, timeout) instead of answering. */
export interface ErrorOutcome {
  readonly kind: 'error'
  readonly error: string
}

export interface LoopOutcome {
  readonly kind: 'loop'
  /** status → count */
  readonly statuses: Record<string, number>
}

export interface SleptOutcome {
  readonly kind: 'slept'
}

export type Outcome = ResponseOutcome | HeadOutcome | BodyOutcome | ErrorOutcome | LoopOutcome | SleptOutcome

/** What one step did: the request as sent (after templates) and what came back. */
export interface StepRecord {
  readonly id: string
  /** `METHOD path?query` as sent, shortened. */
  readonly sent: string
  /** Body as sent, shortened (for readers and for the 101-cause normalization). */
  readonly sentBody?: string
  /** Whether the request used an index template (so echoed indexes are shifted too). */
  readonly indexTemplated: boolean
  /** Wall-clock time (ms since the epoch) when the request was sent. */
  readonly sentAtMs: number
  readonly outcome: Outcome
}

/** One group's recording: `recordings/<group>.json`. */
export interface Recording {
  readonly group: string
  readonly sections: string
  readonly etcdVersion: string
  readonly recordedAt: string
  readonly clientUrl: string
  readonly peerUrl: string
  /** Index of the first successful key-space write (4 on a fresh etcd member). */
  readonly firstWriteIndex: number
  readonly steps: readonly StepRecord[]
}

/** The etcd index of the first client write in a fresh single-member etcd (spec §5.3). */
export const etcdFirstWriteIndex = 4
