/**
 * A deterministic cluster simulator for the raft module. One seed fixes everything: the
 * members' election timeouts, the network's faults (drops, delays, duplicates, reordering,
 * partitions), crashes and restarts, proposals, reads, compactions and leadership transfers.
 * After every step it checks Raft's safety properties (paper Figure 3):
 *
 * - Election Safety: at most one leader per term.
 * - Log Matching: two logs with an entry of the same index and term hold the same entry, and
 *   agree on the term of the entry before it (so, by induction, on everything before it).
 * - Leader Completeness / State Machine Safety: a committed entry is never lost or changed;
 *   every member applies the same sequence; a leader of a later term holds every entry
 *   committed before its term began.
 * - ReadIndex (thesis §6.4): a read point is never below an index applied anywhere before
 *   the read was asked for.
 * - A Ready never hands out a committed entry that is not persisted by that Ready.
 *
 * Membership changes one member at a time (thesis §4.1): the leader proposes adding a fresh
 * member or removing a voter; a new member starts, with an empty log and the configuration
 * after its addition, once that change is applied somewhere; a member that applies its own
 * removal stops.
 *
 * Then it heals the network, restarts everyone and checks liveness: a leader emerges, a new
 * proposal commits, and every member applies the same entries.
 *
 * Usage: `runSimulation({ seed: 7, members: 3 })` throws `SimulationFailure` (its message
 * names the seed and ends with the last events) or returns a summary. `runSeeds` runs many,
 * for a script such as:
 *   node --import tsx -e "import('./test/raft/simulator.ts').then(m => console.log(m.runSeeds(1, 1000, 5)))"
 */
import { SeededRng } from '../../src/lib/index.js'
import {
  MemoryLogStorage,
  ProposalDroppedError,
  RawNode,
  type ConfChange,
  type Entry,
  type Logger,
  type MemberId,
  type Message,
  type RaftConfig,
  type Ready,
} from '../../src/raft/index.js'
import { SafetyChecks } from './safety.js'

export interface SimulationOptions {
  readonly seed: number
  /** Cluster size: 3 or 5 in the tests. */
  readonly members: number
  /** Steps with faults; each step is one tick of every running member. */
  readonly steps?: number
  /** Fault-free steps at the end, within which the cluster must make progress. */
  readonly quietSteps?: number
}

export interface SimulationSummary {
  readonly seed: number
  readonly members: number
  /** Highest index applied anywhere. */
  readonly committedIndex: number
  /** Distinct terms that had a leader. */
  readonly leaderTerms: number
  readonly crashes: number
  readonly snapshotsInstalled: number
  readonly readsServed: number
  /** Membership changes committed. */
  readonly membershipChanges: number
  /** Voters at the end. */
  readonly voters: readonly MemberId[]
}

/** An invariant broke: the message names the seed and ends with the last events. */
export class SimulationFailure extends Error {
  override readonly name = 'SimulationFailure'
}

interface SimMember {
  readonly id: MemberId
  node: RawNode | undefined
  /** The member's disk: written before messages leave, survives crashes. */
  readonly storage: MemoryLogStorage
  /** The application's state, durable with the log: applied entries in order (index i at i - 1). */
  applied: Entry[]
  restarts: number
  /** The configuration this member applied last (or installed with a snapshot). */
  voters: readonly MemberId[]
  /** Applied its own removal: shut down for good (as an etcd member does). */
  removed: boolean
}

interface InFlight {
  readonly message: Message
  readonly deliverAt: number
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** Runs seeds [from, from + count) with `members` members; throws on the first failure. */
export function runSeeds(from: number, count: number, members: number): SimulationSummary[] {
  const out: SimulationSummary[] = []
  for (let seed = from; seed < from + count; seed++) out.push(runSimulation({ seed, members }))
  return out
}

export function runSimulation(options: SimulationOptions): SimulationSummary {
  const simulation = new Simulation(options)
  try {
    return simulation.run()
  } catch (error) {
    if (error instanceof SimulationFailure) throw error
    // An assertion inside raft (or any other throw) is a failure of this seed too.
    throw simulation.failure(`unexpected ${String(error)}\n${(error as Error).stack ?? ''}`)
  }
}

class Simulation {
  private readonly rng: SeededRng
  private readonly members: SimMember[] = []
  private readonly config: Omit<RaftConfig, 'id' | 'appliedIndex'>
  private network: InFlight[] = []
  /** Partition groups; members in different groups cannot talk. Empty: no partition. */
  private groups: MemberId[][] = []
  private now = 0
  private faults = true
  /** Per seed: how often the network loses a message, and how often a leader is crashed on purpose. */
  private readonly dropRate: number
  private readonly leaderCrashRate: number
  private proposalCounter = 0
  private readonly trace: string[] = []
  // Invariant state.
  private readonly safety = new SafetyChecks()
  private readonly entriesSeen = new Map<string, { data: string; prevTerm: number }>()
  private readonly readBounds = new Map<string, number>()
  /** The configuration of the committed log: initial voters folded with every committed confChange. */
  private committedVoters: readonly MemberId[] = []
  private nextMemberNumber: number
  private crashes = 0
  private snapshotsInstalled = 0
  private readsServed = 0

  constructor(private readonly options: SimulationOptions) {
    this.rng = new SeededRng(options.seed)
    this.config = {
      electionTicks: 10,
      heartbeatTicks: 1 + this.rng.int(0, 2),
      preVote: this.rng.next() < 0.5,
      checkQuorum: this.rng.next() < 0.5,
      messageBytesMax: this.rng.int(1, 64),
      inflightMessagesMax: this.rng.int(1, 8),
    }
    this.nextMemberNumber = options.members + 1
    this.dropRate = this.rng.next() * 0.2
    this.leaderCrashRate = this.rng.next() * 0.1
    const ids = Array.from({ length: options.members }, (_, i) => `m${i + 1}`)
    for (const id of ids) {
      this.addMember(id, ids)
    }
    this.committedVoters = ids
    this.log(`seed=${options.seed} members=${options.members} dropRate=${this.dropRate.toFixed(2)} config=${JSON.stringify(this.config)}`)
  }

  run(): SimulationSummary {
    const steps = this.options.steps ?? 400
    const quietSteps = this.options.quietSteps ?? 300
    for (let i = 0; i < steps; i++) this.step(true)
    this.endFaults()
    // Liveness: a leader must emerge and commit a new proposal everywhere. A proposal taken
    // by a leader that is then deposed may be lost, so propose again now and then.
    let target = 0
    for (let i = 0; i < quietSteps && !(target > 0 && this.allApplied(target)); i++) {
      if (i % 30 === 0) target = Math.max(target, this.proposeOnLeader())
      this.step(false)
    }
    this.check(target > 0 && this.allApplied(target), `no progress after healing: index ${target} not applied everywhere`)
    return {
      seed: this.options.seed,
      members: this.options.members,
      committedIndex: Math.max(0, ...this.safety.committed.keys()),
      leaderTerms: this.safety.leaders.size,
      crashes: this.crashes,
      snapshotsInstalled: this.snapshotsInstalled,
      readsServed: this.readsServed,
      membershipChanges: [...this.safety.committed.values()].filter((c) => c.entry.type === 'confChange').length,
      voters: this.committedVoters,
    }
  }

  // ---- the world ------------------------------------------------------------------------------

  /** A new member with an empty log and `voters` as its configuration (etcd: joining an existing cluster). */
  private addMember(id: MemberId, voters: readonly MemberId[]): void {
    const member: SimMember = {
      id, node: undefined, storage: new MemoryLogStorage({ voters }), applied: [], restarts: 0, voters, removed: false,
    }
    this.members.push(member)
    this.start(member)
  }

  private start(member: SimMember): void {
    const config: RaftConfig = { ...this.config, id: member.id, appliedIndex: member.applied.length }
    const seed = this.options.seed * 1000 + this.members.indexOf(member) * 100 + member.restarts
    member.node = new RawNode(config, member.storage, new SeededRng(seed), silent)
  }

  private step(withFaults: boolean): void {
    this.now++
    if (withFaults) this.randomEvent()
    for (const m of this.members) m.node?.tick()
    this.processAll()
    this.deliverDue()
    this.processAll()
    this.checkLeaders()
  }

  private randomEvent(): void {
    const r = this.rng.next()
    if (r < 0.25) this.propose(this.pick())
    else if (r < 0.3) this.crash(this.pick())
    else if (r < 0.4) this.restartOne()
    else if (r < 0.43) this.partition()
    else if (r < 0.47) this.heal()
    else if (r < 0.52) this.compact(this.pick())
    else if (r < 0.57) this.readIndex(this.pick())
    else if (r < 0.59) this.transfer(this.pick())
    else if (r < 0.62) this.changeMembership()
    else if (r < 0.62 + this.leaderCrashRate) this.crashLeader()
  }

  /**
   * Proposes adding a fresh member or removing a voter, on the member that leads. The new
   * member is started when the change is first applied (its id is never reused).
   */
  private changeMembership(): void {
    const leader = this.members.find((m) => m.node?.status().role === 'leader')
    if (leader?.node === undefined) return
    const add = leader.voters.length <= 3 || (leader.voters.length < 6 && this.rng.next() < 0.5)
    const memberId = add ? `m${this.nextMemberNumber++}` : leader.voters[this.rng.int(0, leader.voters.length - 1)]
    if (memberId === undefined) return
    try {
      leader.node.proposeConfChange({ type: add ? 'addNode' : 'removeNode', memberId, context: '' })
      this.log(`${leader.id} propose ${add ? 'add' : 'remove'} ${memberId}`)
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
    }
  }

  /** Leaders crashing right after an election is where commit rules matter most (Figure 8). */
  private crashLeader(): void {
    const leader = this.members.find((m) => m.node?.status().role === 'leader')
    if (leader !== undefined) this.crash(leader)
  }

  private pick(): SimMember {
    const m = this.members[this.rng.int(0, this.members.length - 1)]
    if (m === undefined) throw new Error('no member')
    return m
  }

  private propose(m: SimMember): boolean {
    if (m.node === undefined) return false
    const data = `p${++this.proposalCounter}`
    try {
      m.node.propose(data)
      this.log(`${m.id} propose ${data}`)
      return true
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      return false
    }
  }

  /** Crashes `m` unless that would leave fewer than a majority of the committed configuration up. */
  private crash(m: SimMember): void {
    if (m.node === undefined) return
    const voters = this.committedVoters
    const down = voters.filter((id) => this.members.find((x) => x.id === id)?.node === undefined).length
    if (voters.includes(m.id) && down + 1 > (voters.length - 1) / 2) return
    m.node = undefined
    this.crashes++
    this.log(`${m.id} crash`)
  }

  private restartOne(): void {
    const down = this.members.filter((x) => x.node === undefined && !x.removed)
    const m = down[this.rng.int(0, down.length - 1)]
    if (m === undefined) return
    m.restarts++
    this.start(m)
    this.log(`${m.id} restart applied=${m.applied.length}`)
  }

  private partition(): void {
    const shuffled = this.shuffle(this.members.map((m) => m.id))
    const cut = this.rng.int(1, shuffled.length - 1)
    this.groups = [shuffled.slice(0, cut), shuffled.slice(cut)]
    this.log(`partition ${this.groups.map((g) => g.join(',')).join(' / ')}`)
  }

  private heal(): void {
    if (this.groups.length === 0) return
    this.groups = []
    this.log('heal')
  }

  /** The application compacts its log, keeping a few entries behind the applied index. */
  private compact(m: SimMember): void {
    const index = m.applied.length - this.rng.int(0, 4)
    if (index < m.storage.firstIndex()) return
    m.storage.compact(index)
    this.log(`${m.id} compact ${index}`)
  }

  private readIndex(m: SimMember): void {
    if (m.node === undefined) return
    const context = `r${this.now}-${m.id}`
    // Everything applied anywhere so far is committed: the read point may not be below it.
    this.readBounds.set(context, Math.max(0, ...this.safety.committed.keys()))
    m.node.readIndex(context)
  }

  private transfer(m: SimMember): void {
    const target = this.pick()
    m.node?.transferLeadership(target.id)
  }

  private endFaults(): void {
    this.faults = false
    this.groups = []
    for (const m of this.members) {
      // A member removed without learning it is told so by its peers, and stops (etcd's
      // transport does this); everyone else runs.
      if (!this.committedVoters.includes(m.id)) {
        m.removed = true
        m.node = undefined
      }
      if (m.node !== undefined || m.removed) continue
      m.restarts++
      this.start(m)
    }
    this.log(`faults end: healed, voters ${this.committedVoters.join(',')} running`)
  }

  /** Proposes on the member that leads, if any; returns the index of its entry, or 0. */
  private proposeOnLeader(): number {
    const leader = this.members.find((m) => m.node?.status().role === 'leader')
    if (leader === undefined || !this.propose(leader)) return 0
    this.processAll()
    return leader.storage.lastIndex()
  }

  private allApplied(index: number): boolean {
    return this.members.every((m) => !this.committedVoters.includes(m.id) || m.applied.length >= index)
  }

  // ---- the member loop ---------------------------------------------------------------------

  private processAll(): void {
    for (const m of this.members) {
      for (let turns = 0; m.node?.hasReady() === true; turns++) {
        this.check(turns < 100, `${m.id}: Ready never settles`)
        this.runTurn(m, m.node, m.node.ready())
        if (m.removed) m.node = undefined
      }
    }
  }

  /** One loop turn: persist, send, apply, advance (STYLE §4). */
  private runTurn(m: SimMember, node: RawNode, ready: Ready): void {
    if (ready.snapshot !== undefined) this.installSnapshot(m, ready)
    this.persistEntries(m, ready.entries)
    if (ready.hardState !== undefined) m.storage.setHardState(ready.hardState)
    for (const message of ready.messages) this.send(m, message)
    const term = node.status().term
    for (const entry of ready.committedEntries) this.apply(m, entry, term)
    for (const read of ready.readStates) this.checkRead(m, read.index, read.context)
    node.advance(ready)
  }

  private installSnapshot(m: SimMember, ready: Ready): void {
    const snapshot = ready.snapshot
    if (snapshot === undefined) return
    const state = JSON.parse(new TextDecoder().decode(snapshot.data)) as Entry[]
    this.check(state.length === snapshot.metadata.index, `${m.id}: snapshot data does not match its index`)
    for (const entry of state) this.checkCommitted(m, entry, 0)
    m.storage.applySnapshot(snapshot.metadata)
    m.applied = state
    m.voters = snapshot.metadata.confState.voters
    this.snapshotsInstalled++
    this.log(`${m.id} install snapshot ${snapshot.metadata.index}/${snapshot.metadata.term}`)
  }

  /** Persists entries, checking Log Matching against every entry any member ever held. */
  private persistEntries(m: SimMember, entries: readonly Entry[]): void {
    if (entries.length === 0) return
    m.storage.append(entries)
    for (const entry of entries) {
      const prevTerm = m.storage.term(entry.index - 1)
      const key = `${entry.index}/${entry.term}`
      const seen = this.entriesSeen.get(key)
      if (seen === undefined) this.entriesSeen.set(key, { data: entry.data, prevTerm })
      else {
        this.check(seen.data === entry.data, `Log Matching: ${m.id} holds ${key} with other data`)
        this.check(seen.prevTerm === prevTerm, `Log Matching: ${m.id} holds ${key} after another term`)
      }
    }
  }

  private apply(m: SimMember, entry: Entry, term: number): void {
    this.check(entry.index === m.applied.length + 1, `${m.id} applies ${entry.index} after ${m.applied.length}`)
    this.check(entry.index <= m.storage.lastIndex(), `${m.id} applies ${entry.index}, not persisted`)
    this.check(m.storage.term(entry.index) === entry.term, `${m.id} applies ${entry.index}, persisted with another term`)
    this.checkCommitted(m, entry, term)
    m.applied.push(entry)
    if (entry.type === 'confChange') this.applyConfChange(m, entry)
  }

  /** The application's part of a membership change: put it into effect, persist it, act on it. */
  private applyConfChange(m: SimMember, entry: Entry): void {
    const cc = JSON.parse(entry.data) as ConfChange
    const node = m.node
    if (node === undefined) return
    const confState = node.applyConfChange(cc)
    m.storage.setConfState(confState)
    m.voters = confState.voters
    if (cc.type === 'removeNode' && cc.memberId === m.id) {
      m.removed = true
      this.log(`${m.id} removed: stops`)
    }
    if (cc.type === 'addNode' && !this.members.some((x) => x.id === cc.memberId)) {
      this.addMember(cc.memberId, confState.voters)
      this.log(`${cc.memberId} added by ${m.id} at ${entry.index}: starts with voters ${confState.voters.join(',')}`)
    }
  }

  /** State Machine Safety: every member applies the same entry at each index (safety.ts). */
  private checkCommitted(m: SimMember, entry: Entry, term: number): void {
    const { first, violation } = this.safety.applied(m.id, entry, term)
    this.check(violation === undefined, violation ?? '')
    if (first && entry.type === 'confChange') this.committedVoters = foldConfChange(this.committedVoters, JSON.parse(entry.data) as ConfChange)
  }

  private checkRead(m: SimMember, index: number, context: string): void {
    const bound = this.readBounds.get(context)
    this.check(bound !== undefined, `${m.id} got a read state for an unknown context ${context}`)
    this.check(index >= (bound ?? 0), `ReadIndex: ${context} answered ${index}, below ${bound} applied before it was asked`)
    this.readsServed++
  }

  /** Election Safety, and Leader Completeness for leaders of later terms (safety.ts). */
  private checkLeaders(): void {
    const violation = this.safety.checkLeaders(this.members)
    this.check(violation === undefined, violation ?? '')
  }

  // ---- the network ---------------------------------------------------------------------------

  private send(from: SimMember, message: Message): void {
    const filled = this.fillSnapshot(from, message)
    if (this.faults && this.rng.next() < this.dropRate) {
      this.lose(filled)
      return
    }
    const copies = this.faults && this.rng.next() < 0.03 ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const delay = this.faults ? this.rng.int(0, 3) : this.rng.int(0, 1)
      this.network.push({ message: filled, deliverAt: this.now + delay })
    }
  }

  /** The application puts its state into an outgoing snapshot. */
  private fillSnapshot(from: SimMember, message: Message): Message {
    if (message.snapshot === undefined) return message
    const state = from.applied.slice(0, message.snapshot.metadata.index)
    return { ...message, snapshot: { ...message.snapshot, data: new TextEncoder().encode(JSON.stringify(state)) } }
  }

  private deliverDue(): void {
    const due = this.network.filter((f) => f.deliverAt <= this.now)
    this.network = this.network.filter((f) => f.deliverAt > this.now)
    for (const { message } of this.shuffle(due)) {
      const to = this.members.find((m) => m.id === message.to)
      if (to?.node === undefined || this.cut(message.from, message.to)) {
        this.lose(message)
        continue
      }
      to.node.step(message)
      if (message.type === 'snap') this.members.find((m) => m.id === message.from)?.node?.reportSnapshot(message.to, true)
    }
  }

  private lose(message: Message): void {
    if (message.type === 'snap') this.members.find((m) => m.id === message.from)?.node?.reportSnapshot(message.to, false)
  }

  private cut(from: MemberId, to: MemberId): boolean {
    if (this.groups.length === 0) return false
    return !this.groups.some((g) => g.includes(from) && g.includes(to))
  }

  private shuffle<T>(items: T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i)
      const a = out[i] as T
      out[i] = out[j] as T
      out[j] = a
    }
    return out
  }

  // ---- reporting -----------------------------------------------------------------------------

  private log(event: string): void {
    this.trace.push(`[${this.now}] ${event}`)
    if (this.trace.length > 60) this.trace.shift()
  }

  private check(condition: boolean, what: string): asserts condition {
    if (!condition) throw this.failure(what)
  }

  /** A failure naming the seed, the step and the last events. */
  failure(what: string): SimulationFailure {
    const header = `seed ${this.options.seed} (${this.options.members} members), step ${this.now}: ${what}`
    return new SimulationFailure(`${header}\n  last events:\n  ${this.trace.join('\n  ')}`)
  }
}

function foldConfChange(voters: readonly MemberId[], cc: ConfChange): readonly MemberId[] {
  if (cc.type === 'addNode' && !voters.includes(cc.memberId)) return [...voters, cc.memberId].sort()
  if (cc.type === 'removeNode') return voters.filter((v) => v !== cc.memberId)
  return voters
}
