/**
 * A linearizability checker for histories of client operations on registers (keys), after
 * Wing & Gong ("Testing and verifying concurrent objects", 1993) with Lowe's memoization
 * ("Testing for linearizability", 2017): a depth-first search for an order of the
 * operations that respects real time (an operation that returned before another was called
 * comes first) and that a sequential register explains, skipping any configuration
 * (set of operations linearized, register value) already explored.
 *
 * Keys are independent registers, so a history is linearizable exactly when each key's
 * sub-history is (Herlihy & Wing's locality; "P-compositionality" in Horn & Kroening 2015):
 * each key is searched on its own, which keeps every search small.
 *
 * An operation that never returned (a client timeout, a crashed member, a lost reply) is
 * pending: it may have taken effect at any moment after its call, or never. Its return is
 * put after every other event, so "never" is the same as "last", and the search succeeds as
 * soon as every completed operation is placed. A pending read constrains nothing and is
 * dropped, as is a pending operation called after every completed one returned.
 *
 * Pending operations pile up in the search window (they never return), so three sound
 * reductions keep it small: a configuration is skipped when an explored one had the same
 * completed operations and value with fewer pending ones (Lowe's cache, extended by
 * subsumption); completed operations are tried before pending ones; and a pending operation
 * is tried only where it changes the value and is not overwritten at once (`worthTrying`).
 * The test file checks the verdicts against an exhaustive search.
 *
 * The register holds a string or is absent (null). Operations, as the v2 store answers them
 * for a file key (spec v2-api.md §3.2, §10):
 *   read    → the value, or null (error 100 Key not found)
 *   write   → ok (PUT: `set` always succeeds on a file)
 *   cas     → ok when the value equals `expected`; failed when it differs or the key is
 *             absent (101 Compare failed, 100 Key not found)
 *   create  → ok when absent; failed when present (PUT prevExist=false: 105 Key already exists)
 *   delete  → ok when present; failed when absent (100)
 *
 * The search is bounded (`CheckLimits`): past the bound the answer is a clear "too large",
 * never a hang.
 */
import { assert } from '../../src/lib/index.js'

/** A register's content: a value, or null when the key does not exist. */
export type RegisterValue = string | null

/** What a client asked for. */
export type RegisterCommand =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: string }
  | { readonly kind: 'cas'; readonly expected: string; readonly value: string }
  | { readonly kind: 'create'; readonly value: string }
  | { readonly kind: 'delete' }

/** What the client saw. `read` answers a read; `ok`/`failed` a change; `pending`: no answer. */
export type RegisterOutcome =
  | { readonly kind: 'read'; readonly value: RegisterValue }
  | { readonly kind: 'ok' }
  | { readonly kind: 'failed' }
  | { readonly kind: 'pending' }

/** One client operation. Times are in any one unit; only their order matters. */
export interface HistoryOperation {
  /** Unique in the history; names the operation in explanations. */
  readonly id: number
  readonly key: string
  readonly command: RegisterCommand
  readonly outcome: RegisterOutcome
  /** When the client sent it. */
  readonly callTime: number
  /** When the answer arrived (≥ callTime); undefined exactly when the outcome is `pending`. */
  readonly returnTime: number | undefined
  /** Who asked (for explanations only). */
  readonly client?: string
}

export type LinearizabilityResult =
  | { readonly ok: true }
  | {
      readonly ok: false
      /** The key whose sub-history failed. */
      readonly key: string
      /** `too large`: the search gave up at its bound; nothing is known either way. */
      readonly reason: 'not linearizable' | 'too large'
      readonly explanation: string
    }

/** Bounds of one check. */
export interface CheckLimits {
  /** Operations of one key (after pending reads are dropped); the bitset and cache grow with it. */
  readonly operationsPerKeyMax: number
  /** Search steps (tries and backtracks) for one key before giving up. */
  readonly searchStepsMax: number
}

export const defaultCheckLimits: CheckLimits = { operationsPerKeyMax: 5_000, searchStepsMax: 2_000_000 }

export interface CheckOptions {
  /** The registers' values before the history; absent keys start as null. */
  readonly initial?: ReadonlyMap<string, RegisterValue>
  readonly limits?: Partial<CheckLimits>
}

/**
 * Checks that `history` is linearizable, key by key (keys in ascending order).
 * @returns `{ ok: true }`, or the first key that is not (or is too large to decide) with an
 *          explanation naming the operations involved.
 * @throws AssertionFailure when the history is malformed (ids repeat, a return precedes its
 *         call, an outcome does not fit its command).
 */
export function checkLinearizability(history: readonly HistoryOperation[], options: CheckOptions = {}): LinearizabilityResult {
  const limits: CheckLimits = { ...defaultCheckLimits, ...options.limits }
  assertWellFormed(history)
  const byKey = new Map<string, HistoryOperation[]>()
  for (const op of history) {
    if (op.command.kind === 'read' && op.outcome.kind === 'pending') continue
    let ops = byKey.get(op.key)
    if (ops === undefined) {
      ops = []
      byKey.set(op.key, ops)
    }
    ops.push(op)
  }
  for (const key of [...byKey.keys()].sort()) {
    const ops = byKey.get(key) ?? []
    const result = checkKey(key, ops, options.initial?.get(key) ?? null, limits)
    if (!result.ok) return result
  }
  return { ok: true }
}

/**
 * The sequential register: the value after `op` when it may happen at `value`, or
 * undefined when its outcome contradicts `value`. A pending change is applied as the store
 * would apply it (a pending compare that does not hold changes nothing).
 */
export function stepRegister(value: RegisterValue, op: Pick<HistoryOperation, 'command' | 'outcome'>): RegisterValue | undefined {
  const { command, outcome } = op
  switch (command.kind) {
    case 'read':
      if (outcome.kind === 'pending') return value
      assert(outcome.kind === 'read', 'a read answers a value')
      return outcome.value === value ? value : undefined
    case 'write':
      return command.value
    case 'cas':
      if (value === command.expected) return outcome.kind === 'failed' ? undefined : command.value
      return outcome.kind === 'ok' ? undefined : value
    case 'create':
      if (value === null) return outcome.kind === 'failed' ? undefined : command.value
      return outcome.kind === 'ok' ? undefined : value
    case 'delete':
      if (value !== null) return outcome.kind === 'failed' ? undefined : null
      return outcome.kind === 'ok' ? undefined : null
    default:
      return unreachableCommand(command)
  }
}

function unreachableCommand(command: never): never {
  throw new Error(`unknown command ${JSON.stringify(command)}`)
}

/**
 * One key's search (Wing & Gong): the call and return events of the operations not yet
 * linearized, in a doubly linked list in time order. The operations that may go next are
 * the calls before the first remaining return (the "window").
 */
interface KeySearch {
  readonly ops: readonly HistoryOperation[]
  /** Event e: the call (e even) or return (e odd) of operation e >> 1; head sentinel = 2n. */
  readonly next: Int32Array
  readonly prev: Int32Array
  readonly head: number
  /** Per operation: 1 when pending. */
  readonly pending: Uint8Array
  /** Per operation: its bit in `completedBits` or `pendingBits`. */
  readonly rank: Int32Array
  /** The linearized operations: completed ones and pending ones, one bit each. */
  readonly completedBits: Uint32Array
  readonly pendingBits: Uint32Array
  /**
   * Lowe's memoization, extended by subsumption: for each (completed operations linearized,
   * value), the configurations already explored (or being explored): the set of pending
   * operations linearized, and whether the last operation was pending. A configuration whose
   * pending set includes an explored one's can do nothing that one could not (it only has
   * fewer pending operations left, and pending operations never bound another's place), so
   * it is skipped, unless it may do more because its last operation was completed (see
   * `worthTrying`).
   */
  readonly seen: Map<string, Explored[]>
}

interface Explored {
  readonly pendingBits: Uint32Array
  readonly afterPending: boolean
}

/** The configuration that placed the most completed operations: the order and the value it leaves. */
interface Deepest {
  readonly order: readonly number[]
  readonly value: RegisterValue
  readonly completed: number
}

/** Where the scan for the next operation to try stands: at `entry`, among `pass` 0 (completed) or 1 (pending) operations. */
type Cursor = { readonly entry: number; readonly pass: 0 | 1 }

/**
 * Decides one key's sub-history by an iterative depth-first search. In each configuration it
 * tries the completed operations of the window first, then the pending ones, so that small
 * sets of pending operations are explored first and larger ones are subsumed.
 */
function checkKey(key: string, all: readonly HistoryOperation[], initial: RegisterValue, limits: CheckLimits): LinearizabilityResult {
  const ops = relevantOperations(all)
  if (ops.length > limits.operationsPerKeyMax) {
    return tooLarge(key, `${ops.length} operations on this key, more than operationsPerKeyMax ${limits.operationsPerKeyMax}`)
  }
  const search = buildSearch(ops)
  const completedCount = ops.filter((op) => op.outcome.kind !== 'pending').length
  const stack: { op: number; valueBefore: RegisterValue }[] = []
  let value = initial
  let completedLinearized = 0
  let best: Deepest = { order: [], value: initial, completed: 0 }
  let cursor = nextCandidate(search, search.next[search.head] ?? search.head, 0)
  for (let steps = 0; completedLinearized < completedCount; steps++) {
    if (steps >= limits.searchStepsMax) {
      return tooLarge(key, `gave up after ${limits.searchStepsMax} search steps (${ops.length} operations)`)
    }
    if (cursor === undefined) {
      // Nothing left to try here: undo the last choice and try the one after it.
      const top = stack.pop()
      if (top === undefined) return notLinearizable(key, ops, initial, best)
      unlift(search, top.op)
      setOpBit(search, top.op, false)
      value = top.valueBefore
      if (search.pending[top.op] === 0) completedLinearized--
      cursor = nextCandidate(search, search.next[2 * top.op] ?? search.head, search.pending[top.op] === 1 ? 1 : 0)
      continue
    }
    const opIndex = cursor.entry >> 1
    const op = ops[opIndex]
    assert(op !== undefined)
    const afterPending = search.pending[stack[stack.length - 1]?.op ?? -1] === 1
    const after = stepRegister(value, op)
    const tried = after !== undefined && worthTrying(search, opIndex, value, after, afterPending)
    if (!tried || !remember(search, opIndex, after, search.pending[opIndex] === 1)) {
      cursor = nextCandidate(search, search.next[cursor.entry] ?? search.head, cursor.pass)
      continue
    }
    stack.push({ op: opIndex, valueBefore: value })
    lift(search, opIndex)
    value = after
    if (search.pending[opIndex] === 0) completedLinearized++
    if (completedLinearized > best.completed) best = { order: stack.map((s) => s.op), value, completed: completedLinearized }
    cursor = nextCandidate(search, search.next[search.head] ?? search.head, 0)
  }
  return { ok: true }
}

/**
 * Whether linearizing `op` next can matter. Some pending steps never do, because dropping
 * them from any valid order leaves a valid order (pending operations bound no other's
 * place): a pending operation that leaves the value as it was, and a pending operation right
 * before a blind change that overwrites it — a pending write or delete, or a completed write
 * (a completed delete's outcome depends on the value, so it is not blind). Every valid order
 * shrinks to one without such steps, so only those are searched.
 */
function worthTrying(search: KeySearch, op: number, before: RegisterValue, after: RegisterValue, afterPending: boolean): boolean {
  const kind = search.ops[op]?.command.kind
  if (search.pending[op] === 0) return !(afterPending && kind === 'write')
  if (after === before) return false
  return !(afterPending && (kind === 'write' || kind === 'delete'))
}

/**
 * The operations that matter: a pending operation called after every completed one returned
 * can always go last (or never), so it is left out.
 */
function relevantOperations(ops: readonly HistoryOperation[]): HistoryOperation[] {
  let lastReturn = Number.NEGATIVE_INFINITY
  for (const op of ops) if (op.returnTime !== undefined) lastReturn = Math.max(lastReturn, op.returnTime)
  return ops.filter((op) => op.returnTime !== undefined || op.callTime <= lastReturn)
}

/**
 * The first call at or after `entry` in the window that belongs to `pass` (0: completed
 * operations, 1: pending ones); at the window's end, pass 0 starts over as pass 1.
 * @returns undefined when the window holds no further candidate.
 */
function nextCandidate(search: KeySearch, entry: number, pass: 0 | 1): Cursor | undefined {
  let e = entry
  let p = pass
  for (;;) {
    if (e === search.head || (e & 1) === 1) {
      if (p === 1) return undefined
      p = 1
      e = search.next[search.head] ?? search.head
      continue
    }
    if (search.pending[e >> 1] === p) return { entry: e, pass: p }
    e = search.next[e] ?? search.head
  }
}

/** The event list in time order: calls before returns at equal times; pending returns last. */
function buildSearch(ops: readonly HistoryOperation[]): KeySearch {
  const n = ops.length
  const events: { event: number; time: number; order: number }[] = []
  const pending = new Uint8Array(n)
  const rank = new Int32Array(n)
  let completedCount = 0
  let pendingCount = 0
  for (const [i, op] of ops.entries()) {
    events.push({ event: 2 * i, time: op.callTime, order: 0 })
    events.push({ event: 2 * i + 1, time: op.returnTime ?? Number.POSITIVE_INFINITY, order: 1 })
    pending[i] = op.returnTime === undefined ? 1 : 0
    rank[i] = op.returnTime === undefined ? pendingCount++ : completedCount++
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order || a.event - b.event)
  const head = 2 * n
  const next = new Int32Array(2 * n + 1)
  const prev = new Int32Array(2 * n + 1)
  let last = head
  for (const { event } of events) {
    next[last] = event
    prev[event] = last
    last = event
  }
  next[last] = head
  prev[head] = last
  const completedBits = new Uint32Array(Math.ceil(completedCount / 32) + 1)
  const pendingBits = new Uint32Array(Math.ceil(pendingCount / 32) + 1)
  return { ops, next, prev, head, pending, rank, completedBits, pendingBits, seen: new Map() }
}

/**
 * Marks `op` linearized and records the configuration; false (and unmarked) when an explored
 * configuration subsumes it: same completed operations and value, a subset of its pending
 * operations, and no fewer choices next (one whose last operation was pending may not start
 * with a blind pending change, see `worthTrying`).
 */
function remember(search: KeySearch, op: number, value: RegisterValue, afterPending: boolean): boolean {
  setOpBit(search, op, true)
  const key = bitsetKey(search.completedBits) + (value === null ? '\u0000' : `=${value}`)
  const explored = search.seen.get(key) ?? []
  const subsumed = explored.some((e) => (!e.afterPending || afterPending) && isSubset(e.pendingBits, search.pendingBits))
  if (subsumed) {
    setOpBit(search, op, false)
    return false
  }
  if (explored.length === 0) search.seen.set(key, explored)
  explored.push({ pendingBits: search.pendingBits.slice(), afterPending })
  return true
}

function setOpBit(search: KeySearch, op: number, on: boolean): void {
  setBit(search.pending[op] === 1 ? search.pendingBits : search.completedBits, search.rank[op] ?? 0, on)
}

function isSubset(small: Uint32Array, large: Uint32Array): boolean {
  for (let i = 0; i < small.length; i++) {
    if (((small[i] ?? 0) & ~(large[i] ?? 0)) !== 0) return false
  }
  return true
}

/** Removes the call and the return of `op` from the list. */
function lift(search: KeySearch, op: number): void {
  for (const e of [2 * op, 2 * op + 1]) {
    const p = search.prev[e] ?? search.head
    const n = search.next[e] ?? search.head
    search.next[p] = n
    search.prev[n] = p
  }
}

/** Puts back the return, then the call, of `op` (the reverse of `lift`). */
function unlift(search: KeySearch, op: number): void {
  for (const e of [2 * op + 1, 2 * op]) {
    const p = search.prev[e] ?? search.head
    const n = search.next[e] ?? search.head
    search.next[p] = e
    search.prev[n] = e
  }
}

function setBit(bits: Uint32Array, i: number, on: boolean): void {
  const word = i >>> 5
  const mask = 1 << (i & 31)
  const current = bits[word] ?? 0
  bits[word] = on ? current | mask : current & ~mask
}

/** The bitset as text, 16 bits per character (a compact Map/Set key). */
function bitsetKey(bits: Uint32Array): string {
  let key = ''
  for (const word of bits) key += String.fromCharCode(word & 0xffff, word >>> 16)
  return key
}

function tooLarge(key: string, why: string): LinearizabilityResult {
  return { ok: false, key, reason: 'too large', explanation: `key ${key}: too large to check: ${why}` }
}

/**
 * Explains a failure from the configuration that placed the most completed operations: the
 * order it found, the value that order leaves, and the completed operations that could go
 * next (called before the earliest remaining return), each with why it cannot.
 */
function notLinearizable(key: string, ops: readonly HistoryOperation[], initial: RegisterValue, best: Deepest): LinearizabilityResult {
  const placed = new Set(best.order)
  const rest = ops.filter((_, i) => !placed.has(i))
  const deadline = Math.min(...rest.map((op) => op.returnTime ?? Number.POSITIVE_INFINITY))
  const candidates = rest.filter((op) => op.callTime <= deadline)
  const completed = candidates.filter((op) => op.outcome.kind !== 'pending')
  const pending = candidates.length - completed.length
  const shown = 12
  const lines = [
    `key ${key}: no order of its ${ops.length} operations agrees with real time and a register (initial value ${show(initial)}).`,
    `  The best order found places ${best.completed} completed operations (${best.order.length} in all) and leaves value ${show(best.value)}:`,
    ...(best.order.length > shown ? [`    ... ${best.order.length - shown} earlier ones`] : []),
    ...best.order.slice(-shown).map((i) => `    ${describe(ops[i])}`),
    `  Then one of these must come next (called before the earliest remaining return, at ${deadline}):`,
    ...completed.slice(0, shown).map((op) => `    ${describe(op)}: ${whyNot(best.value, op)}`),
  ]
  if (pending > 0) lines.push(`    or first some of ${pending} pending operations; no choice of them helps`)
  return { ok: false, key, reason: 'not linearizable', explanation: lines.join('\n') }
}

function whyNot(value: RegisterValue, op: HistoryOperation): string {
  const after = stepRegister(value, op)
  if (after === undefined) return `impossible at value ${show(value)}`
  return `possible at value ${show(value)} (→ ${show(after)}), but every order after it fails`
}

/** `#12 c3 cas(v1→v7) ok [call 40, return 52]`. */
export function describe(op: HistoryOperation | undefined): string {
  if (op === undefined) return '(none)'
  const c = op.command
  const what =
    c.kind === 'read' ? 'read()' :
    c.kind === 'write' ? `write(${show(c.value)})` :
    c.kind === 'cas' ? `cas(${show(c.expected)}→${show(c.value)})` :
    c.kind === 'create' ? `create(${show(c.value)})` :
    'delete()'
  const o = op.outcome
  const result = o.kind === 'read' ? `→ ${show(o.value)}` : o.kind
  const client = op.client === undefined ? '' : ` ${op.client}`
  const returned = op.returnTime === undefined ? 'never returned' : `return ${op.returnTime}`
  return `#${op.id}${client} ${what} ${result} [call ${op.callTime}, ${returned}]`
}

function show(value: RegisterValue): string {
  return value === null ? 'absent' : JSON.stringify(value)
}

function assertWellFormed(history: readonly HistoryOperation[]): void {
  const ids = new Set<number>()
  for (const op of history) {
    assert(!ids.has(op.id), `operation id ${op.id} repeats`)
    ids.add(op.id)
    assert(Number.isFinite(op.callTime), `#${op.id}: callTime is a finite number`)
    const pending = op.outcome.kind === 'pending'
    assert(pending === (op.returnTime === undefined), `#${op.id}: a return time exactly when not pending`)
    assert(op.returnTime === undefined || op.returnTime >= op.callTime, `#${op.id}: returns before its call`)
    const isRead = op.command.kind === 'read'
    assert(pending || isRead === (op.outcome.kind === 'read'), `#${op.id}: a read answers a value, a change ok or failed`)
    assert(op.command.kind !== 'write' || op.outcome.kind !== 'failed', `#${op.id}: a write cannot fail`)
  }
}
