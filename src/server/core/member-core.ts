/**
 * The member core: one arbor member's loop, synchronous and deterministic. It joins Raft,
 * storage, the store and the network through the ports in parts.ts and ../ports.ts, and
 * never reads a clock, draws a random number or sets a timer itself: the shell (member.ts)
 * binds it to Node, the simulator (test/sim) to a simulated world. Requests are answered
 * through `Reply` callbacks, never promises, so a simulated step runs to its end at once.
 *
 * Its parts, one job each:
 *   turn.ts        one loop turn: persist → send → apply → answer → advance
 *   apply.ts       committed entries into the store, auth and membership; snapshot install
 *   proposals.ts   client writes and auth changes into the log, answered once applied
 *   reads.ts       quorum reads through ReadIndex
 *   expiry.ts      TTL sweeps proposed by the leader
 *   compaction.ts  the log kept `snapshotCount` entries behind the applied index
 *   membership.ts  membership changes and published attributes
 *   pending.ts     replies waiting, each with a deadline
 *   stats.ts       /v2/stats and /metrics views
 *
 * Turns run in `runTurns`, asked for through the scheduler's `soon` (one pending request at
 * a time), so every request that arrived during one pass of the event loop is proposed before
 * the next turn and lands in the same batch.
 */
import type { Message } from '../../raft/index.js'
import type { Event, GetOptions, HistoryRecord, StoreRequest, StoreStats, WatchStart } from '../../store/index.js'
import type { AuthCommand, AuthResult } from '../../auth/index.js'
import { ErrorCode, V2Error } from '../../v2error/index.js'
import type { LeaderStats, LoopStats, SelfStats } from '../api.js'
import type { MemberInfo } from '../ports.js'
import { Applier } from './apply.js'
import { Compaction } from './compaction.js'
import { ExpirySweeps } from './expiry.js'
import { Membership } from './membership.js'
import { CoreState, type CoreParts } from './parts.js'
import type { Reply } from './pending.js'
import { Proposals } from './proposals.js'
import { QuorumReads } from './reads.js'
import { leaderStats, loopStats, selfStats } from './stats.js'
import { LoopTurn } from './turn.js'

export class MemberCore {
  readonly memberId: string
  readonly clusterId: string
  private readonly state: CoreState
  private readonly proposals: Proposals
  private readonly reads: QuorumReads
  private readonly membership: Membership
  private readonly expiry: ExpirySweeps
  private readonly turn: LoopTurn
  private readonly startTimeMs: number
  private readonly stopCallbacks: (() => void)[] = []
  private turnRequested = false
  private appendsReceived = 0

  constructor(private readonly parts: CoreParts) {
    const { settings, clock, storage } = parts
    this.memberId = settings.memberId
    this.clusterId = settings.clusterId
    this.startTimeMs = clock.nowMs()
    this.state = new CoreState(settings.memberId, this.startTimeMs, storage.appliedIndex())
    const requestTurn = (): void => this.requestTurn()
    this.proposals = new Proposals(parts, this.state, requestTurn)
    this.reads = new QuorumReads(parts, this.state, requestTurn)
    this.membership = new Membership(parts, this.state, requestTurn)
    this.expiry = new ExpirySweeps(parts, this.state, requestTurn)
    const applier = new Applier(parts, this.state, this.membership, this.expiry)
    const compaction = new Compaction(parts, this.state)
    this.turn = new LoopTurn(parts, this.state, { applier, proposals: this.proposals, reads: this.reads, membership: this.membership, compaction }, requestTurn)
  }

  /** A member that is the only voter campaigns at once; then the pending turns run. */
  start(): void {
    if (this.parts.storage.members().length === 1) this.parts.raft.campaign()
    this.runTurns()
  }

  /**
   * Stops: no new requests, open watches ended, pending requests failed with 300
   * `etcdserver: server stopped`, the last batch written. Idempotent.
   */
  stop(): void {
    if (this.state.stopped) return
    this.runTurns()
    this.state.stopped = true
    const stoppedError = new V2Error(ErrorCode.RaftInternal, 'etcdserver: server stopped', 0)
    this.proposals.rejectAll(stoppedError)
    this.reads.rejectAll(stoppedError)
    this.membership.rejectAll(stoppedError)
    for (const callback of this.stopCallbacks) callback()
  }

  get stopped(): boolean {
    return this.state.stopped
  }

  onStop(callback: () => void): void {
    this.stopCallbacks.push(callback)
  }

  // ---- time: the shell calls these on its timers, the simulator on its steps ----------------

  /** One Raft tick (a heartbeat interval passed). */
  tick(): void {
    if (this.state.stopped) return
    this.parts.raft.tick()
    this.requestTurn()
  }

  /** The sync interval passed: the leader looks for expired TTLs. */
  sweepExpired(): void {
    this.expiry.maybePropose()
  }

  /** Runs loop turns until Raft has nothing more to hand out. */
  runTurns(): void {
    const { raft } = this.parts
    while (raft.hasReady()) this.turn.run(raft.ready())
  }

  // ---- requests ------------------------------------------------------------------------------

  nowMs(): number {
    return this.parts.clock.nowMs()
  }

  etcdIndex(): number {
    return this.parts.store.currentIndex
  }

  raftIndex(): number {
    return this.parts.raft.commitIndex()
  }

  raftTerm(): number {
    return this.parts.raft.term()
  }

  /** A local read (possibly stale on a follower). @throws V2Error 100, 104 */
  get(key: string, options: GetOptions): Event {
    return this.parts.store.get(key, options, this.parts.clock.nowMs())
  }

  /**
   * Asks for a linearizable read point (ReadIndex); `reply` gets it once this member applied up
   * to it, after which `get` answers linearizably. @throws V2Error 300 when stopped
   */
  readIndex(reply: Reply<number>): void {
    this.refuseWhenStopped()
    this.reads.request(reply)
  }

  /** Proposes a write; `reply` gets its applied event or error. @throws V2Error 300 when stopped */
  write(request: StoreRequest, reply: Reply<Event>): void {
    this.refuseWhenStopped()
    this.proposals.write(request, reply)
  }

  /** Proposes a v2 auth change; `reply` gets what applying it answered here. @throws V2Error 300 when stopped */
  authChange(command: AuthCommand, reply: Reply<AuthResult>): void {
    this.refuseWhenStopped()
    this.proposals.authChange(command, reply)
  }

  /** Registers a watch (spec §11). @throws V2Error 401, 300 */
  watch(key: string, options: { recursive: boolean; stream: boolean; sinceIndex: number }, onEvent: (record: HistoryRecord) => boolean): WatchStart {
    this.refuseWhenStopped()
    return this.parts.store.watch(key, options, onEvent)
  }

  /** etcd's POST /v2/members. @throws MembershipError 409; `reply` may get 500 */
  addMember(peerUrls: readonly string[], reply: Reply<MemberInfo>): void {
    this.refuseWhenStopped()
    this.membership.add(peerUrls, reply)
  }

  /** etcd's DELETE /v2/members/<id>. @throws MembershipError 404, 410; `reply` may get 500 */
  removeMember(id: string, reply: Reply<MemberInfo>): void {
    this.refuseWhenStopped()
    this.membership.remove(id, reply)
  }

  /** etcd's PUT /v2/members/<id>. @throws MembershipError 404, 410, 409; `reply` may get 500 */
  updateMember(id: string, peerUrls: readonly string[], reply: Reply<MemberInfo>): void {
    this.refuseWhenStopped()
    this.membership.update(id, peerUrls, reply)
  }

  // ---- the network ---------------------------------------------------------------------------

  /** Raft messages from peers (the transport calls this for each received batch). */
  receive(messages: readonly Message[]): void {
    if (this.state.stopped) return
    for (const message of messages) {
      if (message.type === 'app') this.appendsReceived += 1
      const fresh = this.proposals.filterForwarded(message)
      if (fresh !== undefined) this.parts.raft.step(fresh)
    }
    // A snapshot is installed at once: what it names (a staged copy of the leader's state)
    // could be replaced by the next chunk of another transfer if the turn waited.
    if (messages.some((m) => m.type === 'snap')) this.runTurns()
    else this.requestTurn()
  }

  /** The transport could not reach `memberId` (Raft moves its progress back to probing). */
  reportUnreachable(memberId: string): void {
    if (this.state.stopped) return
    this.parts.raft.reportUnreachable(memberId)
    this.requestTurn()
  }

  /** The transport finished sending a snapshot to `memberId`. */
  reportSnapshot(memberId: string, ok: boolean): void {
    if (this.state.stopped) return
    this.parts.raft.reportSnapshot(memberId, ok)
    this.requestTurn()
  }

  // ---- leadership and membership -------------------------------------------------------------

  /**
   * Hands leadership to the most up-to-date follower (Raft thesis §3.10).
   * @returns whether a transfer started (this member leads and has a follower).
   */
  transferLeadership(): boolean {
    const { raft, logger } = this.parts
    if (!this.state.isLeader || this.state.stopped) return false
    const status = raft.status()
    const candidates = Object.entries(status.progress ?? {}).filter(([id]) => id !== this.memberId)
    candidates.sort(([, a], [, b]) => b.matchIndex - a.matchIndex)
    const [target] = candidates[0] ?? []
    if (target === undefined) return false
    logger.info({ term: status.term, to: target }, 'transferring leadership')
    raft.transferLeadership(target)
    this.requestTurn()
    return true
  }

  /** Registers a callback run whenever the known leader changes (to another member, or to none). */
  onLeaderChange(callback: () => void): void {
    this.state.onLeaderChange(callback)
  }

  /** True while this member is the leader it knows of. */
  get isLeader(): boolean {
    return this.state.leaderId === this.memberId
  }

  noteRemoved(): void {
    this.membership.noteRemoved()
  }

  onRemoved(callback: () => void): void {
    this.membership.onRemoved(callback)
  }

  members(): MemberInfo[] {
    return this.membership.members()
  }

  leader(): MemberInfo | undefined {
    if (this.state.leaderId === '') return undefined
    return this.members().find((m) => m.id === this.state.leaderId)
  }

  healthy(): boolean {
    return this.state.leaderId !== ''
  }

  // ---- stats ---------------------------------------------------------------------------------

  storeStats(): StoreStats {
    return this.parts.store.stats()
  }

  selfStats(): SelfStats {
    return selfStats(this.parts, this.state, { startTimeMs: this.startTimeMs, appendsReceived: this.appendsReceived, appendsSent: this.turn.counters.appendsSent })
  }

  loopStats(): LoopStats {
    return loopStats(this.parts, this.state, this.turn.counters, this.proposals)
  }

  leaderStats(): LeaderStats | undefined {
    return leaderStats(this.parts, this.state, this.members())
  }

  private requestTurn(): void {
    if (this.turnRequested || this.state.stopped) return
    this.turnRequested = true
    this.parts.scheduler.soon(() => {
      this.turnRequested = false
      this.runTurns()
    })
  }

  private refuseWhenStopped(): void {
    if (this.state.stopped) throw new V2Error(ErrorCode.RaftInternal, 'etcdserver: server stopped', 0)
  }
}
