/**
 * A deterministic simulation of an arbor KV cluster: Raft (src/raft) under the v2 store
 * (src/store), members run by a copy of the member loop (kv-member.ts), clients running a
 * random workload of writes, compare-and-swaps, creates, deletes, quorum reads and plain
 * reads (kv-workload.ts), and a hostile world: message drops, delays, duplicates and
 * reordering, partitions, crashes and restarts from the durable state, log compaction and
 * InstallSnapshot, leadership transfers. One seed fixes everything; the same ideas as the
 * raft simulator (test/raft/simulator.ts), one level up.
 *
 * After every step it checks:
 * - Election Safety: at most one leader per term (Raft Figure 3).
 * - State Machine Safety: every member applies the same entry at each index, only entries
 *   it persisted; a leader of a later term holds every entry committed before.
 * - One applied sequence: every member's store event history is a prefix of one reference
 *   history (same index, same event body), including after a restart or a snapshot.
 * - Durable promises: a member restarts (after a crash or a power cut) with at least the term
 *   of the messages it sent, the vote it granted or cast for itself in that term, and the
 *   entries it acknowledged in that term (Figure 2: "updated on stable storage before
 *   responding to RPCs").
 * Then it heals the network, restarts everyone and checks liveness (a new write is applied
 * everywhere) and that every member holds the same tree and history. Last, the clients'
 * history of writes, compare-and-swaps, creates, deletes and quorum reads must be
 * linearizable (linearizability.ts); plain reads may be stale and are left out.
 *
 * Usage: `runKvSimulation({ seed: 7, members: 3 })` returns a summary or throws a
 * `KvSimulationFailure` whose message names the seed, a replay command and the last events.
 */
import { SeededRng, type Clock, type Rng } from '../../src/lib/index.js'
import type { Entry, MemberId, Message, RaftConfig, Ready } from '../../src/raft/index.js'
import { ROOT_KEY } from '../../src/store/index.js'
import type { MemberInfo, MemberSettings } from '../../src/server/index.js'
import { SafetyChecks } from '../raft/safety.js'
import { SimMember, type MemberObserver } from './sim-member.js'
import { Workload, type WorkloadCounts, type WorkloadSettings } from './kv-workload.js'
import { checkLinearizability } from './linearizability.js'
import { SimNetwork } from './sim-network.js'

export interface KvSimulationOptions {
  readonly seed: number
  /** Cluster size: 3 or 5 in the tests. */
  readonly members: number
  /** Steps with faults and client traffic (default 400); each step is one tick of every running member. */
  readonly steps?: number
  /** Fault-free steps at the end, within which the cluster must apply a new write everywhere. */
  readonly quietSteps?: number
  /** Probability that the network delivers a message twice (default 0.03). */
  readonly duplicateRate?: number
}

export interface KvSimulationSummary {
  readonly seed: number
  readonly members: number
  /** Highest Raft index applied anywhere. */
  readonly committedIndex: number
  /** The etcd index every member reached. */
  readonly etcdIndex: number
  /** Distinct terms that had a leader. */
  readonly leaderTerms: number
  readonly crashes: number
  /** Power cuts that took applied entries with them (applied again after the restart). */
  readonly powerCutsLosingApplied: number
  readonly snapshotsInstalled: number
  readonly operations: Readonly<WorkloadCounts>
  /** Operations given to the linearizability checker. */
  readonly checkedOperations: number
}

/**
 * What broke: a safety or liveness invariant, a restarted member's disk lacking what its
 * messages relied on, or the clients' history.
 */
export type FailureKind = 'invariant' | 'durability' | 'linearizability'

/** A seed failed: the message names it, the replay command and the last events. */
export class KvSimulationFailure extends Error {
  override readonly name = 'KvSimulationFailure'
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message)
  }
}

/** The command that replays one seed (scripts/simulate.ts). */
export function replayCommand(options: KvSimulationOptions): string {
  const steps = options.steps === undefined ? '' : ` --steps ${options.steps}`
  const duplicates = options.duplicateRate === undefined ? '' : ` --duplicate-rate ${options.duplicateRate}`
  return `npx tsx scripts/simulate.ts --seed ${options.seed} --members ${options.members}${steps}${duplicates}`
}

/** Runs one seed. @throws KvSimulationFailure */
export function runKvSimulation(options: KvSimulationOptions): KvSimulationSummary {
  const simulation = new KvSimulation(options)
  try {
    return simulation.run()
  } catch (error) {
    if (error instanceof KvSimulationFailure) throw error
    // An assertion inside raft or the store (or any other throw) fails this seed too.
    throw simulation.failure(`unexpected ${String(error)}\n${(error as Error).stack ?? ''}`, 'invariant')
  }
}

/** Runs seeds [from, from + count); throws on the first failure. */
export function runKvSeeds(from: number, count: number, members: number, options: Partial<KvSimulationOptions> = {}): KvSimulationSummary[] {
  const out: KvSimulationSummary[] = []
  for (let seed = from; seed < from + count; seed++) out.push(runKvSimulation({ ...options, seed, members }))
  return out
}

/**
 * What a member's messages relied on, so its disk must still hold it when it restarts
 * (Figure 2, persistent state). Pre-votes are left out: they carry a term not yet taken.
 */
interface DurablePromise {
  /** Highest term of a message the member sent. */
  readonly term: number
  /** Its vote in `term`: the candidate it granted, or itself once it campaigned; '' for none. */
  vote: MemberId | ''
  /** The last entry it acknowledged to `term`'s leader (index, and that entry's term). */
  acked: { readonly index: number; readonly term: number } | undefined
}

/** Simulated milliseconds per step: one heartbeat interval, one Raft tick. */
const stepMs = 100
/** Ticks between two TTL sweep checks (etcd's 500 ms sync interval). */
const ticksPerSweep = 5
const startMs = 1_700_000_000_000

class KvSimulation implements MemberObserver {
  private readonly rng: Rng
  private readonly members: SimMember[] = []
  private readonly network: SimNetwork
  private readonly workload: Workload
  private readonly roughness: number
  private readonly leaderCrashRate: number
  private now = 0
  private readonly trace: string[] = []
  private crashes = 0
  private powerCutsLosingApplied = 0
  // Invariant state.
  private readonly safety = new SafetyChecks()
  /** The one applied sequence of store events: event index i at i - 1 (its JSON body). */
  private readonly referenceEvents: string[] = []
  /** Per member: events already compared with the reference. */
  private readonly checkedEvents = new Map<MemberId, number>()
  /** Per leader: its term and the commit index last seen while it led that term. */
  private readonly leaderCommits = new Map<MemberId, { readonly term: number; commit: number }>()
  /** Per member: what its messages relied on (durable promises). */
  private readonly promises = new Map<MemberId, DurablePromise>()

  constructor(private readonly options: KvSimulationOptions) {
    this.rng = new SeededRng(options.seed)
    const config: Omit<RaftConfig, 'id' | 'appliedIndex'> = {
      electionTicks: 10,
      heartbeatTicks: this.rng.int(1, 3),
      preVote: this.rng.next() < 0.5,
      checkQuorum: this.rng.next() < 0.5,
      messageBytesMax: this.rng.int(1, 1024),
      inflightMessagesMax: this.rng.int(1, 8),
    }
    // How hostile this seed's world is: from calm (0: no drops, crashes or partitions, only
    // restarts, compactions and transfers) to rough (1: 20% of messages lost, a crash or a
    // partition every ~15 steps).
    this.roughness = this.rng.next()
    this.network = new SimNetwork(this.rng, {
      dropRate: this.roughness * 0.2,
      duplicateRate: options.duplicateRate ?? 0.03,
      delayStepsMax: 3,
    })
    this.leaderCrashRate = this.rng.next() * 0.03 * this.roughness
    const settings: WorkloadSettings = {
      clients: this.rng.int(2, 5),
      keys: this.rng.int(1, 3),
      issueRate: 0.2 + this.rng.next() * 0.5,
      timeoutSteps: this.rng.int(15, 60),
    }
    this.workload = new Workload(this.rng, settings)
    const ids = Array.from({ length: options.members }, (_, i) => `m${i + 1}`)
    const infos: MemberInfo[] = ids.map((id) => ({ id, name: id, peerUrls: [`http://${id}:2380`], clientUrls: [`http://${id}:2379`] }))
    const memberSettings: Omit<MemberSettings, 'memberId' | 'name'> = {
      clusterId: 'c1',
      heartbeatIntervalMs: stepMs,
      requestTimeoutMs: this.rng.int(10, 70) * stepMs,
      pendingProposalsMax: this.rng.int(2, 64),
      // From compacting at every turn to keeping a few hundred entries: snapshots installed often or rarely.
      snapshotCount: this.rng.next() < 0.5 ? this.rng.int(1, 10) : this.rng.int(10, 300),
      syncIntervalMs: ticksPerSweep * stepMs,
      expireKeysPerEntry: this.rng.int(1, 10),
      clientUrls: [],
    }
    const clock: Clock = { nowMs: () => startMs + this.now * stepMs }
    for (const id of ids) {
      const member = new SimMember(id, infos, ids, config, memberSettings, clock, this)
      this.members.push(member)
      this.start(member)
    }
    this.log(`seed=${options.seed} members=${options.members} config=${JSON.stringify(config)} settings=${JSON.stringify(memberSettings)} workload=${JSON.stringify(settings)}`)
  }

  run(): KvSimulationSummary {
    const steps = this.options.steps ?? 400
    for (let i = 0; i < steps; i++) this.step(true)
    this.endFaults()
    this.awaitQuiet(this.options.quietSteps ?? 200)
    this.workload.finish()
    this.checkConvergence()
    const result = checkLinearizability(this.workload.history)
    if (!result.ok) throw this.failure(`linearizability (${result.reason}):\n${result.explanation}`, 'linearizability')
    return this.summary()
  }

  // ---- the world ------------------------------------------------------------------------------

  private step(withFaults: boolean): void {
    this.now++
    if (withFaults) this.randomEvent()
    this.workload.step(this.now, this.members, withFaults)
    for (const m of this.members) if (m.running) m.tick(ticksPerSweep)
    this.processAll()
    this.deliverDue()
    this.processAll()
    this.checkLeaders()
  }

  private randomEvent(): void {
    const r = this.rng.next()
    const rough = this.roughness
    if (r < 0.04 * rough) this.crash(this.pick())
    else if (r < 0.1) this.restartOne()
    else if (r < 0.1 + 0.03 * rough) this.partition()
    else if (r < 0.17) this.heal()
    else if (r < 0.22) this.transfer(this.pick())
    else if (r < 0.23) this.gracefulTransfer(this.pick())
    else if (r < 0.23 + this.leaderCrashRate) this.crashLeader()
  }

  private pick(): SimMember {
    const m = this.members[this.rng.int(0, this.members.length - 1)]
    if (m === undefined) throw new Error('no member')
    return m
  }

  private start(member: SimMember): void {
    this.checkPromises(member)
    member.start(this.options.seed * 1000 + this.members.indexOf(member) * 100 + member.restarts)
    // The restored store must be a prefix of the one applied sequence, from its first event.
    this.checkedEvents.set(member.id, 0)
    this.checkHistory(member)
  }

  /** Crashes `m` unless that would leave fewer than a majority up. */
  private crash(m: SimMember): void {
    if (!m.running) return
    const down = this.members.filter((x) => !x.running).length
    if (down + 1 > (this.members.length - 1) / 2) return
    const powerCut = this.rng.next() < 0.5
    if (m.crash(powerCut)) this.powerCutsLosingApplied++
    this.workload.memberCrashed(m.id)
    this.crashes++
    this.log(`${m.id} ${powerCut ? 'power cut' : 'crash'} (applied on disk=${m.applied})`)
  }

  /** Leaders crashing right after an election is where commit rules matter most (Figure 8). */
  private crashLeader(): void {
    const leader = this.members.find((m) => m.node?.status().role === 'leader')
    if (leader !== undefined) this.crash(leader)
  }

  private restartOne(): void {
    const down = this.members.filter((x) => !x.running)
    const m = down[this.rng.int(0, down.length - 1)]
    if (m === undefined) return
    this.start(m)
    this.log(`${m.id} restart applied=${m.applied}`)
  }

  private partition(): void {
    const groups = this.network.partition(this.members.map((m) => m.id))
    this.log(`partition ${groups.map((g) => g.join(',')).join(' / ')}`)
  }

  private heal(): void {
    if (this.network.heal()) this.log('heal')
  }

  /** Raft's leadership transfer to a random member (as an operator's tool would ask it). */
  private transfer(m: SimMember): void {
    const target = this.pick()
    m.node?.transferLeadership(target.id)
  }

  /** A graceful stop begins: the member hands leadership to its most up-to-date follower. */
  private gracefulTransfer(m: SimMember): void {
    if (m.core?.transferLeadership() === true) this.log(`${m.id} transfers leadership`)
  }

  private processAll(): void {
    for (const m of this.members) m.runScheduled()
  }

  private deliverDue(): void {
    for (const { message, cut } of this.network.takeDue(this.now)) {
      const to = this.members.find((m) => m.id === message.to)
      if (to?.node === undefined || cut) {
        this.lose(message)
        continue
      }
      to.receive(message)
      if (message.type === 'snap') this.members.find((m) => m.id === message.from)?.reportSnapshot(message.to, true)
    }
  }

  /** A lost snapshot is reported to its sender by the transport. */
  private lose(message: Message): void {
    if (message.type === 'snap') this.members.find((m) => m.id === message.from)?.reportSnapshot(message.to, false)
  }

  private endFaults(): void {
    this.network.faultsOn = false
    this.network.heal()
    for (const m of this.members) if (!m.running) this.start(m)
    this.log('faults end: healed, everyone running, no new client operations')
  }

  /**
   * Liveness: a leader must emerge and apply a new write everywhere, and every client must
   * get its answer or give up. A write taken by a member that is deposed (or only believes
   * it leads) may be lost, so propose again now and then; the first write answered counts.
   */
  private awaitQuiet(quietSteps: number): void {
    const proposals: { index: number; answered: boolean }[] = []
    const done = (): boolean => proposals.some((p) => p.answered && this.allApplied(p.index))
    for (let i = 0; i < quietSteps; i++) {
      if (done() && this.workload.waiting === 0) return
      if (i % 30 === 0 && !proposals.some((p) => p.answered)) this.proposeOnLeader(i, proposals)
      this.step(false)
    }
    const indexes = proposals.map((p) => `${p.index}${p.answered ? ' (answered)' : ''}`).join(', ')
    this.check(done(), `no progress after healing: no write proposed since applied everywhere (proposed at ${indexes || 'none'})`)
  }

  /**
   * Whether every member applied `index` and all stand at the same index (a proposal
   * delayed in the network may still land after it).
   */
  private allApplied(index: number): boolean {
    const applied = this.members.map((m) => m.applied)
    return applied.every((a) => a >= index && a === applied[0])
  }

  /** Proposes a write on a member that believes it leads, if any, noting the index of its entry. */
  private proposeOnLeader(i: number, proposals: { index: number; answered: boolean }[]): void {
    const leader = this.members.find((m) => m.node?.status().role === 'leader')
    if (leader === undefined) return
    const proposal = { index: 0, answered: false }
    const request = { op: 'set' as const, key: '/liveness', value: `l${i}`, dir: false, ttlSeconds: null, refresh: false }
    leader.write(request, (answer) => (proposal.answered = 'event' in answer))
    leader.runScheduled()
    proposal.index = leader.storage.lastIndex()
    proposals.push(proposal)
  }

  // ---- invariants (MemberObserver) ------------------------------------------------------------

  /**
   * The leader commit rule (Raft §5.4.2, Figure 2): while a member leads term T, its commit
   * index only ever moves to an entry of term T; entries of earlier terms commit only
   * indirectly, under one of T. Checked on every Ready, so that a move to an earlier term's
   * entry shows even when a later move in the same step covers it (Figure 8).
   */
  turn(m: SimMember, ready: Ready): void {
    const status = m.node?.status()
    if (status === undefined || status.role !== 'leader') {
      this.leaderCommits.delete(m.id)
      return
    }
    const known = this.leaderCommits.get(m.id)
    const commit = ready.hardState?.commit ?? status.commit
    if (known === undefined || known.term !== status.term) {
      this.leaderCommits.set(m.id, { term: status.term, commit })
      return
    }
    if (commit <= known.commit) return
    const entryTerm = termAt(ready, m, commit)
    this.check(entryTerm === undefined || entryTerm === status.term, `leader commit rule: ${m.id}, leader of term ${status.term}, moves its commit index to ${commit}, an entry of term ${entryTerm}`)
    known.commit = commit
  }

  applying(m: SimMember, entry: Entry, term: number): void {
    this.check(entry.index <= m.storage.lastIndex(), `${m.id} applies ${entry.index}, not persisted`)
    this.check(m.storage.term(entry.index) === entry.term, `${m.id} applies ${entry.index}, persisted with another term`)
    const { violation } = this.safety.applied(m.id, entry, term)
    this.check(violation === undefined, violation ?? '')
  }

  committed(m: SimMember, rewritten: boolean): void {
    if (rewritten) this.checkedEvents.set(m.id, 0)
    this.checkHistory(m)
  }

  send(m: SimMember, message: Message): void {
    this.notePromise(m, message)
    if (!this.network.send(message, this.now)) this.lose(message)
  }

  log(event: string): void {
    this.trace.push(`[${this.now}] ${event}`)
    if (this.trace.length > 60) this.trace.shift()
  }

  /** One applied sequence: the member's events not yet compared match the reference (or extend it). */
  private checkHistory(m: SimMember): void {
    const backend = m.liveBackend
    if (backend === undefined) return
    const from = (this.checkedEvents.get(m.id) ?? 0) + 1
    const last = backend.lastEventIndex()
    for (const event of backend.eventsFrom(from, last - from + 1)) {
      const known = this.referenceEvents[event.index - 1]
      if (known === undefined) {
        this.check(event.index === this.referenceEvents.length + 1, `${m.id} has event ${event.index} after a gap`)
        this.referenceEvents.push(event.json)
      } else {
        this.check(known === event.json, `${m.id} event ${event.index} differs: ${event.json.trim()} vs ${known.trim()}`)
      }
    }
    this.check(last < from || backend.eventsFrom(from, 1)[0]?.index === from, `${m.id} lacks event ${from}`)
    this.checkedEvents.set(m.id, Math.max(from - 1, last))
  }

  /** Records what `message`, leaving `m` after its turn, relies on being durable. */
  private notePromise(m: SimMember, message: Message): void {
    if (message.type === 'preVote' || message.type === 'preVoteResp' || message.term === 0) return
    const known = this.promises.get(m.id)
    if (known !== undefined && message.term < known.term) return
    const promise: DurablePromise = known === undefined || message.term > known.term ? { term: message.term, vote: '', acked: undefined } : known
    this.promises.set(m.id, promise)
    if (message.type === 'vote') promise.vote = m.id
    if (message.type === 'voteResp' && !message.reject) promise.vote = message.to
    // An acknowledgement below the snapshot the same turn installed is covered by that snapshot.
    const snapshotIndex = m.storage.firstIndex() - 1
    const acked = message.type === 'appResp' && !message.reject && message.index > (promise.acked?.index ?? 0)
    if (acked && message.index >= snapshotIndex) promise.acked = { index: message.index, term: m.storage.term(message.index) }
  }

  /** The disk `m` restarts from keeps its promises: term, then vote and acknowledged entries of that term. */
  private checkPromises(m: SimMember): void {
    const promise = this.promises.get(m.id)
    if (promise === undefined) return
    const { hardState } = m.storage.initialState()
    const what = `${m.id} restarts in term ${hardState.term}`
    this.checkDurable(hardState.term >= promise.term, `${what}, but it sent messages of term ${promise.term}`)
    if (hardState.term > promise.term) return
    const vote = promise.vote
    this.checkDurable(vote === '' || hardState.vote === vote, `${what} without its vote for ${vote}`)
    const acked = promise.acked
    if (acked === undefined) return
    const storage = m.storage
    // An entry compacted since is applied, hence committed: Leader Completeness guards it.
    const compacted = acked.index < storage.firstIndex() - 1
    const kept = acked.index <= storage.lastIndex() && (compacted || storage.term(acked.index) === acked.term)
    this.checkDurable(kept, `${what} without entry ${acked.index} (term ${acked.term}), which it acknowledged (log ends at ${storage.lastIndex()})`)
  }

  /** Election Safety, and Leader Completeness for leaders of later terms (safety.ts). */
  private checkLeaders(): void {
    const violation = this.safety.checkLeaders(this.members, (id, term) => this.log(`${id} leads term ${term}`))
    this.check(violation === undefined, violation ?? '')
  }

  /** At the end: every member holds the whole reference history and the same tree. */
  private checkConvergence(): void {
    let tree: string | undefined
    for (const m of this.members) {
      const backend = m.liveBackend
      this.check(backend !== undefined, `${m.id} is down at the end`)
      this.checkHistory(m)
      this.check(backend.lastEventIndex() === this.referenceEvents.length, `${m.id} ends at event ${backend.lastEventIndex()} of ${this.referenceEvents.length}`)
      const nodes = JSON.stringify(backend.descendants(ROOT_KEY))
      this.check(tree === undefined || tree === nodes, `${m.id} ends with another tree`)
      tree = nodes
    }
  }

  // ---- reporting -------------------------------------------------------------------------------

  private summary(): KvSimulationSummary {
    return {
      seed: this.options.seed,
      members: this.options.members,
      committedIndex: Math.max(0, ...this.safety.committed.keys()),
      etcdIndex: this.referenceEvents.length,
      leaderTerms: this.safety.leaders.size,
      crashes: this.crashes,
      powerCutsLosingApplied: this.powerCutsLosingApplied,
      snapshotsInstalled: this.members.reduce((sum, m) => sum + m.snapshotsInstalled, 0),
      operations: { ...this.workload.counts },
      checkedOperations: this.workload.history.length,
    }
  }

  private check(condition: boolean, what: string): asserts condition {
    if (!condition) throw this.failure(what, 'invariant')
  }

  private checkDurable(condition: boolean, what: string): void {
    if (!condition) throw this.failure(`durability: ${what}`, 'durability')
  }

  /** A failure naming the seed, the step, the replay command and the last events. */
  failure(what: string, kind: FailureKind): KvSimulationFailure {
    const header = `seed ${this.options.seed} (${this.options.members} members), step ${this.now}: ${what}`
    const replay = `replay: ${replayCommand(this.options)}`
    return new KvSimulationFailure(`${header}\n${replay}\n  last events:\n  ${this.trace.join('\n  ')}`, kind)
  }
}

/** The term of the entry at `index`, from the Ready or the member's log; undefined when compacted. */
function termAt(ready: Ready, m: SimMember, index: number): number | undefined {
  const inReady = [...ready.entries, ...ready.committedEntries].find((e) => e.index === index)
  if (inReady !== undefined) return inReady.term
  if (index < m.storage.firstIndex() - 1 || index > m.storage.lastIndex()) return undefined
  return m.storage.term(index)
}
