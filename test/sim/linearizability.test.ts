/**
 * The linearizability checker (linearizability.ts). Method: hand-made histories on one or
 * two keys, written as tables of operations with their call and return times, each judged
 * linearizable or not (stale reads, lost writes, compare-and-swap and create anomalies,
 * overlapping operations, pending operations that did or did not take effect); then a
 * fast-check property: histories made by a sequential register, each operation given a
 * random real-time interval around its linearization point, always pass, and the same
 * history with one read answering a value never written always fails; and on small random
 * histories (linearizable or not) the checker agrees with an exhaustive search over every
 * order, so its pruning never changes a verdict.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  checkLinearizability,
  stepRegister,
  type HistoryOperation,
  type RegisterCommand,
  type RegisterOutcome,
  type RegisterValue,
} from './linearizability.js'

/** An operation on `key` without an id (ids are given by `history`); `ret` undefined: pending. */
type Draft = Omit<HistoryOperation, 'id'>

function draft(key: string, command: RegisterCommand, outcome: RegisterOutcome, call: number, ret: number | undefined): Draft {
  return { key, command, outcome: ret === undefined ? { kind: 'pending' } : outcome, callTime: call, returnTime: ret }
}
const write = (value: string, call: number, ret?: number, key = 'x'): Draft =>
  draft(key, { kind: 'write', value }, { kind: 'ok' }, call, ret)
const read = (value: RegisterValue, call: number, ret: number, key = 'x'): Draft =>
  draft(key, { kind: 'read' }, { kind: 'read', value }, call, ret)
const cas = (expected: string, value: string, ok: boolean, call: number, ret?: number): Draft =>
  draft('x', { kind: 'cas', expected, value }, { kind: ok ? 'ok' : 'failed' }, call, ret)
const create = (value: string, ok: boolean, call: number, ret?: number): Draft =>
  draft('x', { kind: 'create', value }, { kind: ok ? 'ok' : 'failed' }, call, ret)
const remove = (ok: boolean, call: number, ret?: number): Draft =>
  draft('x', { kind: 'delete' }, { kind: ok ? 'ok' : 'failed' }, call, ret)

function history(drafts: readonly Draft[]): HistoryOperation[] {
  return drafts.map((d, i) => ({ ...d, id: i + 1 }))
}

const cases: { name: string; ops: Draft[]; linearizable: boolean }[] = [
  { name: 'an empty history', ops: [], linearizable: true },
  { name: 'a read of a key never written sees it absent', ops: [read(null, 0, 1)], linearizable: true },
  { name: 'a read after a write sees the write', ops: [write('1', 0, 1), read('1', 2, 3)], linearizable: true },
  { name: 'a stale read: the older of two completed writes', ops: [write('1', 0, 1), write('2', 2, 3), read('1', 4, 5)], linearizable: false },
  { name: 'a lost write: a read after it completed sees the key absent', ops: [write('1', 0, 1), read(null, 2, 3)], linearizable: false },
  { name: 'a read of a value nobody wrote', ops: [write('1', 0, 1), read('9', 2, 3)], linearizable: false },
  { name: 'a read of a write that starts after the read returned', ops: [read('1', 0, 1), write('1', 2, 3)], linearizable: false },
  {
    name: 'reads overlapping a write may see the old value, then the new',
    ops: [write('1', 0, 1), write('2', 2, 10), read('1', 3, 4), read('2', 5, 6), read('2', 7, 8)],
    linearizable: true,
  },
  {
    name: 'once a read saw the new value, a later read cannot see the old one',
    ops: [write('1', 0, 1), write('2', 2, 10), read('2', 3, 4), read('1', 5, 6)],
    linearizable: false,
  },
  {
    name: 'two overlapping writes may land in either order',
    ops: [write('1', 0, 5), write('2', 1, 6), read('1', 7, 8), read('1', 9, 10)],
    linearizable: true,
  },
  {
    name: 'concurrent reads seeing the two overlapping writes in opposite orders',
    ops: [write('1', 0, 10), write('2', 0, 10), read('1', 1, 9), read('2', 2, 8), read('1', 11, 12), read('2', 13, 14)],
    linearizable: false,
  },
  { name: 'a compare-and-swap that holds', ops: [write('a', 0, 1), cas('a', 'b', true, 2, 3), read('b', 4, 5)], linearizable: true },
  { name: 'two compare-and-swaps from the same value both succeed in sequence', ops: [write('a', 0, 1), cas('a', 'b', true, 2, 3), cas('a', 'c', true, 4, 5)], linearizable: false },
  { name: 'two overlapping compare-and-swaps from the same value both succeed', ops: [write('a', 0, 1), cas('a', 'b', true, 2, 6), cas('a', 'c', true, 3, 7)], linearizable: false },
  {
    name: 'of two overlapping compare-and-swaps from the same value, one succeeds',
    ops: [write('a', 0, 1), cas('a', 'b', true, 2, 6), cas('a', 'c', false, 3, 7), read('b', 8, 9)],
    linearizable: true,
  },
  { name: 'a compare-and-swap fails although the value matched and nothing overlapped', ops: [write('a', 0, 1), cas('a', 'b', false, 2, 3)], linearizable: false },
  { name: 'a compare-and-swap fails while an overlapping write changes the value', ops: [write('a', 0, 1), write('z', 2, 6), cas('a', 'b', false, 3, 5)], linearizable: true },
  { name: 'a compare-and-swap on an absent key fails', ops: [cas('a', 'b', false, 0, 1)], linearizable: true },
  { name: 'a compare-and-swap on an absent key succeeds', ops: [cas('a', 'b', true, 0, 1)], linearizable: false },
  { name: 'a successful compare-and-swap is not seen afterwards', ops: [write('a', 0, 1), cas('a', 'b', true, 2, 3), read('a', 4, 5)], linearizable: false },
  { name: 'create on an absent key, then a second create fails', ops: [create('1', true, 0, 1), create('2', false, 2, 3), read('1', 4, 5)], linearizable: true },
  { name: 'two creates of the same key both succeed', ops: [create('1', true, 0, 1), create('2', true, 2, 3)], linearizable: false },
  { name: 'two overlapping creates both succeed', ops: [create('1', true, 0, 5), create('2', true, 1, 4)], linearizable: false },
  { name: 'create fails on a key that is absent', ops: [create('1', false, 0, 1)], linearizable: false },
  { name: 'create fails while an overlapping write makes the key', ops: [write('w', 0, 5), create('1', false, 1, 4), read('w', 6, 7)], linearizable: true },
  { name: 'a delete empties the key', ops: [write('1', 0, 1), remove(true, 2, 3), read(null, 4, 5), create('2', true, 6, 7)], linearizable: true },
  { name: 'a delete succeeds on an absent key', ops: [remove(true, 0, 1)], linearizable: false },
  {
    name: 'a pending write that took effect',
    ops: [write('1', 0, 1), write('2', 2), read('2', 5, 6), read('2', 7, 8)],
    linearizable: true,
  },
  { name: 'a pending write that never took effect', ops: [write('1', 0, 1), write('2', 2), read('1', 5, 6), read('1', 7, 8)], linearizable: true },
  { name: 'a pending write taking effect, then undone', ops: [write('1', 0, 1), write('2', 2), read('2', 5, 6), read('1', 7, 8)], linearizable: false },
  { name: 'a pending write seen before it was called', ops: [read('2', 0, 1), write('2', 2)], linearizable: false },
  { name: 'a pending compare-and-swap that took effect', ops: [write('a', 0, 1), cas('a', 'b', true, 2), read('b', 9, 10)], linearizable: true },
  { name: 'a pending compare-and-swap that could not hold, seen to take effect', ops: [write('z', 0, 1), cas('a', 'b', true, 2), read('b', 9, 10)], linearizable: false },
  { name: 'a pending create that took effect', ops: [create('1', true, 0), read('1', 3, 4)], linearizable: true },
  { name: 'a pending delete that took effect', ops: [write('1', 0, 1), remove(true, 2), read(null, 3, 4)], linearizable: true },
  { name: 'a chain of pending operations: a create, then a compare-and-swap from its value', ops: [create('a', true, 0), cas('a', 'b', true, 1), read('b', 5, 6)], linearizable: true },
  { name: 'a pending delete, then a pending create', ops: [write('1', 0, 1), remove(true, 2), create('2', true, 3), read('2', 5, 6)], linearizable: true },
  {
    name: 'two pending writes that took effect in the opposite order of their calls',
    ops: [write('1', 0), write('2', 1), read('2', 5, 6), read('1', 7, 8)],
    linearizable: true,
  },
]

describe('hand-made histories', () => {
  for (const c of cases) {
    test(`${c.name}: ${c.linearizable ? 'linearizable' : 'not linearizable'}`, () => {
      const result = checkLinearizability(history(c.ops))
      assert.equal(result.ok, c.linearizable, result.ok ? 'judged linearizable' : result.explanation)
      if (!result.ok) assert.equal(result.reason, 'not linearizable')
    })
  }
})

describe('results', () => {
  test('keys are checked independently and the failing key is named', () => {
    const ops = history([write('1', 0, 1, 'a'), read('1', 2, 3, 'a'), write('1', 0, 1, 'b'), write('2', 2, 3, 'b'), read('1', 4, 5, 'b')])
    const result = checkLinearizability(ops)
    assert.equal(result.ok, false)
    assert.ok(!result.ok)
    assert.equal(result.key, 'b')
  })

  test('each key checks alone: a value written on one key does not explain a read of another', () => {
    const result = checkLinearizability(history([write('1', 0, 1, 'a'), read('1', 2, 3, 'b')]))
    assert.equal(result.ok, false)
  })

  test('an initial value is honoured', () => {
    const initial = new Map<string, RegisterValue>([['x', 'start']])
    assert.deepEqual(checkLinearizability(history([read('start', 0, 1), cas('start', 'b', true, 2, 3)]), { initial }), { ok: true })
    assert.equal(checkLinearizability(history([read(null, 0, 1)]), { initial }).ok, false)
  })

  test('the explanation names the operations that cannot be ordered', () => {
    const result = checkLinearizability(history([write('1', 0, 1), write('2', 2, 3), read('1', 4, 5)]))
    assert.ok(!result.ok)
    assert.match(result.explanation, /key x: no order of its 3 operations/)
    assert.match(result.explanation, /#3 read\(\) → "1" \[call 4, return 5\]: impossible at value "2"/)
  })

  test('a search past its bound answers "too large" instead of running on', () => {
    // Twelve overlapping writes, then a read of a value none of them wrote: before it can say
    // no, the search must try every order of the writes (every subset, with memoization).
    const ops: Draft[] = []
    for (let i = 0; i < 12; i++) ops.push(write(String(i), i, 100 + i))
    ops.push(read('nobody wrote this', 200, 201))
    const result = checkLinearizability(history(ops), { limits: { searchStepsMax: 1_000 } })
    assert.ok(!result.ok)
    assert.equal(result.reason, 'too large')
    assert.match(result.explanation, /gave up after 1000 search steps/)
    const capped = checkLinearizability(history(ops), { limits: { operationsPerKeyMax: 5 } })
    assert.ok(!capped.ok)
    assert.equal(capped.reason, 'too large')
    const decided = checkLinearizability(history(ops))
    assert.ok(!decided.ok)
    assert.equal(decided.reason, 'not linearizable')
  })

  test('a malformed history is refused', () => {
    assert.throws(() => checkLinearizability(history([read('1', 5, 4)])), /returns before its call/)
    const twice = { ...history([read(null, 0, 1)])[0]! }
    assert.throws(() => checkLinearizability([twice, twice]), /repeats/)
    const failedWrite: HistoryOperation = { id: 1, key: 'x', command: { kind: 'write', value: '1' }, outcome: { kind: 'failed' }, callTime: 0, returnTime: 1 }
    assert.throws(() => checkLinearizability([failedWrite]), /a write cannot fail/)
  })
})

describe('the register model', () => {
  const rows: { value: RegisterValue; command: RegisterCommand; outcome: RegisterOutcome; after: RegisterValue | undefined }[] = [
    { value: 'a', command: { kind: 'cas', expected: 'a', value: 'b' }, outcome: { kind: 'pending' }, after: 'b' },
    { value: 'z', command: { kind: 'cas', expected: 'a', value: 'b' }, outcome: { kind: 'pending' }, after: 'z' },
    { value: null, command: { kind: 'create', value: 'c' }, outcome: { kind: 'pending' }, after: 'c' },
    { value: 'x', command: { kind: 'create', value: 'c' }, outcome: { kind: 'pending' }, after: 'x' },
    { value: null, command: { kind: 'delete' }, outcome: { kind: 'failed' }, after: null },
    { value: null, command: { kind: 'delete' }, outcome: { kind: 'ok' }, after: undefined },
    { value: 'x', command: { kind: 'delete' }, outcome: { kind: 'pending' }, after: null },
  ]
  for (const r of rows) {
    test(`${r.command.kind} ${r.outcome.kind} at ${String(r.value)} leaves ${String(r.after)}`, () => {
      assert.equal(stepRegister(r.value, { command: r.command, outcome: r.outcome }), r.after)
    })
  }
})

/** A generated operation: a key, a command, whether it returns, whether a pending one took effect. */
interface Planned {
  key: 'a' | 'b'
  command: 'read' | 'write' | 'cas' | 'create' | 'delete'
  /** For cas: which earlier value to expect (an index into the values written so far). */
  pick: number
  before: number
  after: number
  pending: boolean
  tookEffect: boolean
}

const plannedArb: fc.Arbitrary<Planned> = fc.record({
  key: fc.constantFrom('a' as const, 'b' as const),
  command: fc.constantFrom('read' as const, 'write' as const, 'cas' as const, 'create' as const, 'delete' as const),
  pick: fc.nat(20),
  before: fc.nat(40),
  after: fc.nat(40),
  pending: fc.nat(4).map((n) => n === 0),
  tookEffect: fc.boolean(),
})

/**
 * Runs `plan` on a sequential register, operation i taking effect at time 10·i, and gives
 * each operation a call before and a return after that point: a linearizable history.
 */
function sequentialHistory(plan: readonly Planned[]): HistoryOperation[] {
  const state = new Map<string, RegisterValue>()
  const written: string[] = ['v0']
  return plan.map((p, i) => {
    const point = 10 * i
    const value = `v${i + 1}`
    const command: RegisterCommand =
      p.command === 'read' ? { kind: 'read' } :
      p.command === 'write' ? { kind: 'write', value } :
      p.command === 'cas' ? { kind: 'cas', expected: written[p.pick % written.length] ?? 'v0', value } :
      p.command === 'create' ? { kind: 'create', value } :
      { kind: 'delete' }
    written.push(value)
    const pending = p.pending && p.command !== 'read'
    const before = state.get(p.key) ?? null
    const op = { command, outcome: outcomeAt(before, command) }
    if (!pending || p.tookEffect) {
      const after = stepRegister(before, op)
      assert.ok(after !== undefined, 'the sequential outcome fits its own model')
      state.set(p.key, after)
    }
    return {
      id: i + 1,
      key: p.key,
      command,
      outcome: pending ? { kind: 'pending' } : op.outcome,
      callTime: point - p.before,
      returnTime: pending ? undefined : point + p.after,
    }
  })
}

/** What the store answers for `command` at `value`. */
function outcomeAt(value: RegisterValue, command: RegisterCommand): RegisterOutcome {
  switch (command.kind) {
    case 'read':
      return { kind: 'read', value }
    case 'write':
      return { kind: 'ok' }
    case 'cas':
      return { kind: value === command.expected ? 'ok' : 'failed' }
    case 'create':
      return { kind: value === null ? 'ok' : 'failed' }
    case 'delete':
      return { kind: value !== null ? 'ok' : 'failed' }
  }
}

describe('generated histories', () => {
  test('a sequential register with random real-time overlaps is always linearizable', () => {
    fc.assert(
      fc.property(fc.array(plannedArb, { maxLength: 80 }), (plan) => {
        const result = checkLinearizability(sequentialHistory(plan))
        assert.deepEqual(result, { ok: true }, result.ok ? '' : result.explanation)
      }),
      { seed: 20240601, numRuns: 300 },
    )
  })

  test('the same history with one read answering a value never written is not', () => {
    fc.assert(
      fc.property(fc.array(plannedArb, { minLength: 1, maxLength: 80 }), fc.nat(), (plan, which) => {
        const ops = sequentialHistory(plan)
        const reads = ops.filter((op) => op.outcome.kind === 'read')
        fc.pre(reads.length > 0)
        const victim = reads[which % reads.length]!
        const broken = ops.map((op) => (op === victim ? { ...op, outcome: { kind: 'read' as const, value: 'never written' } } : op))
        const result = checkLinearizability(broken)
        assert.ok(!result.ok)
        assert.equal(result.reason, 'not linearizable')
        assert.equal(result.key, victim.key)
      }),
      { seed: 20240602, numRuns: 200 },
    )
  })
})

/** One operation of a small random history on one key: values from a tiny set, any outcome, any overlap. */
interface RandomOp {
  kind: 'read' | 'write' | 'cas' | 'create' | 'delete'
  value: string
  expected: string
  readValue: string | null
  ok: boolean
  pending: boolean
  call: number
  duration: number
}

const randomOpArb: fc.Arbitrary<RandomOp> = fc.record({
  kind: fc.constantFrom('read' as const, 'write' as const, 'cas' as const, 'create' as const, 'delete' as const),
  value: fc.constantFrom('a', 'b'),
  expected: fc.constantFrom('a', 'b'),
  readValue: fc.constantFrom(null, 'a', 'b'),
  ok: fc.boolean(),
  pending: fc.nat(3).map((n) => n === 0),
  call: fc.nat(20),
  duration: fc.nat(10),
})

function randomHistory(drafts: readonly RandomOp[]): HistoryOperation[] {
  return drafts.map((d, i) => {
    const command: RegisterCommand =
      d.kind === 'read' ? { kind: 'read' } :
      d.kind === 'write' ? { kind: 'write', value: d.value } :
      d.kind === 'cas' ? { kind: 'cas', expected: d.expected, value: d.value } :
      d.kind === 'create' ? { kind: 'create', value: d.value } :
      { kind: 'delete' }
    const outcome: RegisterOutcome =
      d.pending ? { kind: 'pending' } :
      d.kind === 'read' ? { kind: 'read', value: d.readValue } :
      d.kind === 'write' || d.ok ? { kind: 'ok' } :
      { kind: 'failed' }
    return { id: i + 1, key: 'x', command, outcome, callTime: d.call, returnTime: d.pending ? undefined : d.call + d.duration }
  })
}

/**
 * Exhaustive: some subset of the pending operations and some order of them with every
 * completed operation respects real time and the register. Tiny histories only.
 */
function linearizableByBruteForce(ops: readonly HistoryOperation[]): boolean {
  const completed = ops.filter((op) => op.outcome.kind !== 'pending')
  const pending = ops.filter((op) => op.outcome.kind === 'pending' && op.command.kind !== 'read')
  for (let mask = 0; mask < 1 << pending.length; mask++) {
    const chosen = [...completed, ...pending.filter((_, i) => (mask & (1 << i)) !== 0)]
    if (someOrderWorks(chosen)) return true
  }
  return false
}

/** Tries every permutation of `ops` (Heap's algorithm, iterative). */
function someOrderWorks(ops: HistoryOperation[]): boolean {
  const order = [...ops]
  const counters = new Array<number>(order.length).fill(0)
  if (orderWorks(order)) return true
  for (let i = 1; i < order.length; ) {
    const c = counters[i] ?? 0
    if (c < i) {
      const j = i % 2 === 0 ? 0 : c
      ;[order[j], order[i]] = [order[i]!, order[j]!]
      if (orderWorks(order)) return true
      counters[i] = c + 1
      i = 1
    } else {
      counters[i] = 0
      i++
    }
  }
  return false
}

function orderWorks(order: readonly HistoryOperation[]): boolean {
  let value: RegisterValue = null
  for (const [i, op] of order.entries()) {
    // Real time: nothing placed later may have returned before this one was called.
    if (order.slice(i + 1).some((later) => later.returnTime !== undefined && later.returnTime < op.callTime)) return false
    const after = stepRegister(value, op)
    if (after === undefined) return false
    value = after
  }
  return true
}

describe('agreement with an exhaustive search', () => {
  test('small random histories get the same verdict from the checker and from trying every order', () => {
    let linearizable = 0
    fc.assert(
      fc.property(fc.array(randomOpArb, { minLength: 1, maxLength: 7 }), (drafts) => {
        const ops = randomHistory(drafts)
        const expected = linearizableByBruteForce(ops)
        if (expected) linearizable++
        const result = checkLinearizability(ops)
        assert.equal(result.ok, expected, result.ok ? 'checker says linearizable' : result.explanation)
      }),
      { seed: 20240603, numRuns: 3000 },
    )
    // Both verdicts were exercised.
    assert.ok(linearizable > 300, `${linearizable} linearizable`)
    assert.ok(linearizable < 2700, `${linearizable} linearizable`)
  })
})
