/**
 * The simulated clients of a KV cluster simulation, and the history they observe. Each
 * client runs one operation at a time against a random running member: a write (`set`), a
 * compare-and-swap (`prevValue`), a create (`prevExist=false`), a delete, a quorum read
 * (ReadIndex) or a plain read. Every call and return takes the next tick of one logical
 * clock, so the history's real-time order is the order things happened in the simulation.
 *
 * An operation is recorded for the linearizability checker when it returns, or as pending
 * when its client gives up: after `timeoutSteps`, at once when its member crashes (a
 * reset connection says nothing about whether the write happened), or when the member
 * answers 300 `request timed out`. A write the member refused at once (300 `too many
 * requests`) never happened and is left out, as are plain reads (they may be stale by
 * design, ARCHITECTURE.md decision 5).
 */
import { assert, type Rng } from '../../src/lib/index.js'
import type { StoreRequest } from '../../src/store/index.js'
import { ErrorCode } from '../../src/v2error/index.js'
import type { Answer, SimMember } from './sim-member.js'
import type { HistoryOperation, RegisterCommand, RegisterOutcome } from './linearizability.js'

/** The workload of one seed. */
export interface WorkloadSettings {
  /** Concurrent clients. */
  readonly clients: number
  /** Keys `/k0` .. `/k<keys-1>`. */
  readonly keys: number
  /** Probability that an idle client starts an operation in a step. */
  readonly issueRate: number
  /** Steps a client waits for an answer before it gives up (the op becomes pending). */
  readonly timeoutSteps: number
}

/** Operations started, by kind. */
export interface WorkloadCounts {
  write: number
  cas: number
  create: number
  delete: number
  quorumRead: number
  plainRead: number
  /** Writes refused at once (too many pending): never applied, left out of the history. */
  refused: number
  /** Operations that got no answer (pending in the history). */
  pending: number
  /** Answers: quorum reads served, changes that took effect, changes refused by the store. */
  answeredReads: number
  ok: number
  failed: number
}

type Kind = 'write' | 'cas' | 'create' | 'delete' | 'quorumRead' | 'plainRead'

/** Cumulative weights of the kinds, in this order. */
const kindWeights: readonly (readonly [Kind, number])[] = [
  ['write', 0.25],
  ['cas', 0.45],
  ['create', 0.55],
  ['delete', 0.6],
  ['quorumRead', 0.9],
  ['plainRead', 1],
]

interface InFlight {
  readonly id: number
  readonly client: string
  readonly key: string
  readonly command: RegisterCommand
  readonly memberId: string
  readonly callStep: number
  readonly callTime: number
  readonly deadlineStep: number
}

export class Workload {
  readonly history: HistoryOperation[] = []
  readonly counts: WorkloadCounts = { write: 0, cas: 0, create: 0, delete: 0, quorumRead: 0, plainRead: 0, refused: 0, pending: 0, answeredReads: 0, ok: 0, failed: 0 }
  /** The logical clock of calls and returns. */
  private clock = 0
  private nextId = 1
  private readonly inFlight = new Map<string, InFlight>()
  /** Values recently written to or read from each key: what compare-and-swaps expect. */
  private readonly recentValues = new Map<string, string[]>()

  constructor(
    private readonly rng: Rng,
    private readonly settings: WorkloadSettings,
  ) {}

  /** Operations waiting for an answer. */
  get waiting(): number {
    return this.inFlight.size
  }

  /**
   * One step: clients past their deadline give up; when `issuing`, each idle client may
   * start an operation on a random running member.
   */
  step(nowStep: number, members: readonly SimMember[], issuing: boolean): void {
    for (const op of [...this.inFlight.values()]) {
      if (nowStep >= op.deadlineStep) this.giveUp(op)
    }
    if (!issuing) return
    const running = members.filter((m) => m.running)
    for (let c = 0; c < this.settings.clients; c++) {
      const client = `c${c}`
      if (this.inFlight.has(client) || this.rng.next() >= this.settings.issueRate) continue
      const member = running[this.rng.int(0, running.length - 1)]
      if (member !== undefined) this.start(client, member, nowStep)
    }
  }

  /** `memberId` crashed: its clients' operations will get no answer. */
  memberCrashed(memberId: string): void {
    for (const op of [...this.inFlight.values()]) {
      if (op.memberId === memberId) this.giveUp(op)
    }
  }

  /** The end: every operation still waiting is pending. */
  finish(): void {
    for (const op of [...this.inFlight.values()]) this.giveUp(op)
  }

  private start(client: string, member: SimMember, nowStep: number): void {
    const kind = this.pickKind()
    this.counts[kind]++
    const key = `/k${this.rng.int(0, this.settings.keys - 1)}`
    if (kind === 'plainRead') {
      this.noteValue(key, readValue(member.get(key)))
      return
    }
    const id = this.nextId++
    const command = this.commandFor(kind, key, id)
    const op: InFlight = { id, client, key, command, memberId: member.id, callStep: nowStep, callTime: ++this.clock, deadlineStep: nowStep + this.settings.timeoutSteps }
    this.inFlight.set(client, op)
    const done = (answer: Answer): void => this.complete(op, answer)
    if (kind === 'quorumRead') {
      member.quorumGet(key, done)
      return
    }
    member.write(requestFor(key, command), done)
  }

  private pickKind(): Kind {
    const r = this.rng.next()
    const found = kindWeights.find(([, upTo]) => r < upTo)
    return found?.[0] ?? 'plainRead'
  }

  private commandFor(kind: Exclude<Kind, 'plainRead'>, key: string, id: number): RegisterCommand {
    const value = `v${id}`
    switch (kind) {
      case 'write':
        return { kind: 'write', value }
      case 'cas': {
        const recent = this.recentValues.get(key) ?? []
        const expected = recent[this.rng.int(0, recent.length)] ?? 'v0'
        return { kind: 'cas', expected, value }
      }
      case 'create':
        return { kind: 'create', value }
      case 'delete':
        return { kind: 'delete' }
      case 'quorumRead':
        return { kind: 'read' }
    }
  }

  /** An answer arrived; one for an operation its client gave up on is ignored. */
  private complete(op: InFlight, answer: Answer): void {
    if (this.inFlight.get(op.client) !== op) return
    if ('error' in answer && answer.error.errorCode === ErrorCode.RaftInternal) {
      // 300: refused before it was proposed (never happened), or timed out (may have happened).
      if (answer.error.detail === 'etcdserver: too many requests') {
        this.inFlight.delete(op.client)
        this.counts.refused++
      } else {
        this.giveUp(op)
      }
      return
    }
    this.inFlight.delete(op.client)
    const outcome = outcomeOf(op.command, answer)
    this.counts[outcome.kind === 'read' ? 'answeredReads' : outcome.kind === 'ok' ? 'ok' : 'failed']++
    if (outcome.kind === 'read') this.noteValue(op.key, outcome.value)
    if (op.command.kind !== 'read' && op.command.kind !== 'delete') this.noteValue(op.key, op.command.value)
    this.history.push({ ...this.base(op), outcome, returnTime: ++this.clock })
  }

  private giveUp(op: InFlight): void {
    this.inFlight.delete(op.client)
    this.counts.pending++
    this.history.push({ ...this.base(op), outcome: { kind: 'pending' }, returnTime: undefined })
  }

  private base(op: InFlight): Omit<HistoryOperation, 'outcome' | 'returnTime'> {
    return { id: op.id, key: op.key, command: op.command, callTime: op.callTime, client: `${op.client}@${op.memberId} step ${op.callStep}` }
  }

  private noteValue(key: string, value: string | null): void {
    if (value === null) return
    const recent = this.recentValues.get(key) ?? []
    recent.push(value)
    if (recent.length > 4) recent.shift()
    this.recentValues.set(key, recent)
  }
}

/** The store request a register command becomes (as the HTTP layer would build it). */
function requestFor(key: string, command: RegisterCommand): StoreRequest {
  switch (command.kind) {
    case 'write':
      return { op: 'set', key, value: command.value, dir: false, ttlSeconds: null, refresh: false }
    case 'cas':
      return { op: 'compareAndSwap', key, value: command.value, ttlSeconds: null, refresh: false, prevValue: command.expected, prevIndex: '' }
    case 'create':
      return { op: 'create', key, value: command.value, dir: false, ttlSeconds: null, inOrder: false }
    case 'delete':
      return { op: 'delete', key, dir: false, recursive: false }
    case 'read':
      throw new Error('a read is not a store request')
  }
}

/**
 * What the client saw. Errors other than the ones the command may meet (100 for a missing
 * key, 101 for a failed compare, 105 for an existing key) are bugs.
 */
function outcomeOf(command: RegisterCommand, answer: Answer): RegisterOutcome {
  if (command.kind === 'read') return { kind: 'read', value: readValue(answer) }
  if ('event' in answer) return { kind: 'ok' }
  const code = answer.error.errorCode
  const expected =
    (command.kind === 'cas' && (code === ErrorCode.TestFailed || code === ErrorCode.KeyNotFound)) ||
    (command.kind === 'create' && code === ErrorCode.NodeExist) ||
    (command.kind === 'delete' && code === ErrorCode.KeyNotFound)
  assert(expected, `${command.kind} answered an unexpected error: ${answer.error.message}`)
  return { kind: 'failed' }
}

/** The value a read answered: the node's value, or null for error 100. */
function readValue(answer: Answer): string | null {
  if ('error' in answer) {
    assert(answer.error.errorCode === ErrorCode.KeyNotFound, `read answered an unexpected error: ${answer.error.message}`)
    return null
  }
  const body = JSON.parse(answer.event.json) as { node?: { value?: unknown } }
  const value = body.node?.value
  assert(typeof value === 'string', 'a read of a file answers its value')
  return value
}
