/**
 * The member loop: joins Raft, storage, the store and the network (ARCHITECTURE.md,
 * "Flows to keep short"). A loop turn is synchronous from start to finish (STYLE.md §4):
 * take Raft's Ready, persist it AND apply its committed entries in one SQLite transaction
 * (one fsync per turn: group commit), send messages only after that commit, then wake the
 * waiting clients and watchers, then advance.
 *
 * Turns are scheduled with setImmediate, so every request that arrived during one pass of
 * the event loop is proposed before the next turn and lands in the same batch.
 */
import { assert, goRfc3339Nano, type Clock } from '../lib/index.js'
import {
  ProposalDroppedError,
  type ConfChange,
  type Entry,
  type Logger,
  type Message,
  type RawNode,
  type Ready,
} from '../raft/index.js'
import type { Event, GetOptions, HistoryRecord, Store, StoreRequest, WatchStart } from '../store/index.js'
import { AuthError, AuthStore, MemoryAuthBackend, type AuthCommand, type AuthResult } from '../auth/index.js'
import { ErrorCode, V2Error } from '../v2error/index.js'
import type { LeaderStats, LoopStats, MemberApi, SelfStats } from './api.js'
import type { MemberInfo, MemberStorage, PeerSender, StateReader } from './ports.js'
import { decodeProposal, encodeAttributes, encodeAuth, encodeExpire, encodeWrite } from './proposal.js'
import { RecentProposals } from './recent-proposals.js'
import { mustPersistDurably, type PersistedVote } from './durability.js'
import { Waiters } from './waiters.js'
import { MembershipError } from './membership-error.js'
import { memberIdOf } from './identity.js'
import { goDuration } from './time-format.js'

/** Settings of the member loop; every one comes from config. */
export interface MemberSettings {
  readonly memberId: string
  readonly clusterId: string
  readonly name: string
  /** One Raft tick (ms); etcd's --heartbeat-interval. */
  readonly heartbeatIntervalMs: number
  /** How long a write or quorum read waits before 300 `request timed out` (ms). */
  readonly requestTimeoutMs: number
  /** Proposals waiting to be applied on this member before 300 `too many requests`. */
  readonly pendingProposalsMax: number
  /** Log entries kept behind the applied index for slow followers (etcd --snapshot-count). */
  readonly snapshotCount: number
  /** How often the leader looks for expired TTLs (ms); etcd sweeps every 500 ms. */
  readonly syncIntervalMs: number
  /**
   * Keys one sync entry expires at most: bounds the work of one apply. While more are due,
   * the leader proposes the next sweep as soon as the previous one is applied.
   */
  readonly expireKeysPerEntry: number
  /** This member's advertised client URLs, published to the cluster once a leader is known. */
  readonly clientUrls: readonly string[]
}

/** The parts a member is built from (wired by the CLI, or by tests with in-memory ones). */
export interface MemberParts {
  readonly raft: RawNode
  readonly store: Store
  /** The v2 auth state, changed by applied auth entries; an empty in-memory one if omitted. */
  readonly auth?: AuthStore
  readonly storage: MemberStorage
  readonly peers: PeerSender
  readonly clock: Clock
  readonly logger: Logger
  readonly settings: MemberSettings
}

/** Applied results of one turn, delivered after the transaction commits. */
type Outcome = { readonly requestId: string; readonly event?: Event; readonly error?: V2Error }

/** An applied auth change, answered after the transaction commits. */
type AuthOutcome = { readonly requestId: string; readonly result?: AuthResult; readonly error?: AuthError }

/** A quorum read whose read point is known, waiting for the applied index to reach it. */
type PendingRead = { readonly context: string; readonly index: number }

/** One member of an arbor cluster. */
export class Member implements MemberApi {
  readonly memberId: string
  readonly clusterId: string
  private readonly writes: Waiters<Event>
  private readonly reads: Waiters<number>
  private readonly membershipChanges: Waiters<MemberInfo>
  private readonly authChanges: Waiters<AuthResult>
  /** The v2 auth state this member applies auth entries to. */
  readonly auth: AuthStore
  private appliedAuthChanges: AuthOutcome[] = []
  private readonly pendingReads: PendingRead[] = []
  private readonly stopCallbacks: (() => void)[] = []
  private readonly removedCallbacks: (() => void)[] = []
  private removed = false
  private appendsReceived = 0
  private appendsSent = 0
  private readonly startTimeMs: number
  private turnScheduled = false
  private stopped = false
  private timers: ReturnType<typeof setInterval>[] = []
  private requestCounter = 0
  private readonly requestIdPrefix: string
  private expireInFlightSinceMs: number | undefined
  private leaderId = ''
  private leaderSinceMs: number
  private role: SelfStats['state'] = 'StateFollower'
  private appliedIndex: number
  private compactedThrough = 0
  /** Membership changes applied in this turn, answered after it commits. */
  private appliedMembershipChanges: { readonly requestId: string; readonly member: MemberInfo }[] = []
  /** Writes proposed while no leader was known, proposed again once one is (until their deadline). */
  private awaitingLeader: { readonly data: string; readonly requestId: string }[] = []
  /** When this member last proposed its attributes; undefined once they are applied. */
  private attributesProposedAtMs: number | undefined = 0
  /** Request ids of the latest writes in the log: a forwarded write arriving twice is dropped. */
  private readonly recentProposals: RecentProposals
  /** The term and vote on disk: a turn that changes either must reach the disk. */
  private persistedVote: PersistedVote
  private turns = 0
  private durableTurns = 0
  private leaderChanges = 0
  /** Writes refused because `pendingProposalsMax` were pending (the timed-out ones are counted by `writes`). */
  private writesRefused = 0

  constructor(private readonly parts: MemberParts) {
    const { settings, clock, storage } = parts
    this.memberId = settings.memberId
    this.clusterId = settings.clusterId
    this.writes = new Waiters(settings.requestTimeoutMs)
    this.reads = new Waiters(settings.requestTimeoutMs)
    this.membershipChanges = new Waiters(settings.requestTimeoutMs)
    this.authChanges = new Waiters(settings.requestTimeoutMs)
    this.auth = parts.auth ?? new AuthStore(new MemoryAuthBackend())
    this.startTimeMs = clock.nowMs()
    this.leaderSinceMs = this.startTimeMs
    this.appliedIndex = storage.appliedIndex()
    // Request ids never repeat, across restarts too: member id, start time, counter.
    this.requestIdPrefix = `${settings.memberId}.${this.startTimeMs.toString(36)}.`
    this.recentProposals = new RecentProposals(recentProposalsCapacity(settings.pendingProposalsMax))
    const { hardState } = storage.log.initialState()
    this.persistedVote = { term: hardState.term, vote: hardState.vote }
    this.noteLogTail()
  }

  /** Starts ticking; a member that is the only voter campaigns at once. */
  start(): void {
    const { settings, raft } = this.parts
    this.timers.push(setInterval(() => this.tick(), settings.heartbeatIntervalMs))
    this.timers.push(setInterval(() => this.maybeProposeExpire(), settings.syncIntervalMs))
    if (this.parts.storage.members().length === 1) raft.campaign()
    this.runTurns()
  }

  /**
   * Stops: no new requests, open watches ended, pending requests failed with 300
   * `etcdserver: server stopped`, the last batch written. Idempotent.
   */
  stop(): void {
    if (this.stopped) return
    this.runTurns()
    this.stopped = true
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    const stoppedError = new V2Error(ErrorCode.RaftInternal, 'etcdserver: server stopped', 0)
    this.writes.rejectAll(stoppedError)
    this.reads.rejectAll(stoppedError)
    this.membershipChanges.rejectAll(stoppedError)
    this.authChanges.rejectAll(stoppedError)
    for (const callback of this.stopCallbacks) callback()
  }

  onStop(callback: () => void): void {
    this.stopCallbacks.push(callback)
  }

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

  get(key: string, options: GetOptions): Event {
    return this.parts.store.get(key, options, this.parts.clock.nowMs())
  }

  async quorumGet(key: string, options: GetOptions): Promise<Event> {
    this.refuseWhenStopped()
    const context = this.nextRequestId()
    const done = this.reads.wait(context)
    this.parts.raft.readIndex(context)
    this.scheduleTurn()
    await done
    return this.get(key, options)
  }

  write(request: StoreRequest): Promise<Event> {
    this.refuseWhenStopped()
    if (this.writes.size >= this.parts.settings.pendingProposalsMax) {
      this.writesRefused += 1
      return Promise.reject(new V2Error(ErrorCode.RaftInternal, 'etcdserver: too many requests', 0))
    }
    const requestId = this.nextRequestId()
    const done = this.writes.wait(requestId)
    this.propose(encodeWrite(requestId, this.parts.clock.nowMs(), request), requestId)
    return done
  }

  /**
   * Proposes a v2 auth change and resolves with what applying it answered on this member.
   * @throws AuthError (etcd's status and message), V2Error 300 (stopped, timeout, too many)
   */
  authChange(command: AuthCommand): Promise<AuthResult> {
    this.refuseWhenStopped()
    if (this.writes.size + this.authChanges.size >= this.parts.settings.pendingProposalsMax) {
      return Promise.reject(new V2Error(ErrorCode.RaftInternal, 'etcdserver: too many requests', 0))
    }
    const requestId = this.nextRequestId()
    const done = this.authChanges.wait(requestId)
    this.proposeAuth(encodeAuth(requestId, command), requestId)
    return done
  }

  watch(
    key: string,
    options: { recursive: boolean; stream: boolean; sinceIndex: number },
    onEvent: (record: HistoryRecord) => boolean,
  ): WatchStart {
    this.refuseWhenStopped()
    return this.parts.store.watch(key, options, onEvent)
  }

  storeStats() {
    return this.parts.store.stats()
  }

  selfStats(): SelfStats {
    const nowMs = this.parts.clock.nowMs()
    return {
      name: this.parts.settings.name,
      id: this.memberId,
      state: this.role,
      startTime: goRfc3339Nano(this.startTimeMs),
      leaderInfo: {
        leader: this.leaderId,
        uptime: goDuration(nowMs - this.leaderSinceMs),
        startTime: goRfc3339Nano(this.leaderSinceMs),
      },
      recvAppendRequestCnt: this.appendsReceived,
      sendAppendRequestCnt: this.appendsSent,
    }
  }

  loopStats(): LoopStats {
    return {
      turns: this.turns,
      durableTurns: this.durableTurns,
      commitIndex: this.parts.raft.commitIndex(),
      appliedIndex: this.appliedIndex,
      pendingWrites: this.writes.size,
      writesAwaitingLeader: this.awaitingLeader.length,
      leaderChanges: this.leaderChanges,
      proposalsFailed: this.writes.timedOut + this.writesRefused,
    }
  }

  leaderStats(): LeaderStats | undefined {
    if (this.role !== 'StateLeader') return undefined
    const measured = this.parts.peers.stats?.() ?? {}
    const followers: LeaderStats['followers'] = {}
    for (const m of this.members()) {
      if (m.id === this.memberId) continue
      const peer = measured[m.id]
      followers[m.id] = {
        latency: peer?.latencyMs ?? { current: 0, average: 0, standardDeviation: 0, minimum: 0, maximum: 0 },
        counts: { fail: peer?.fail ?? 0, success: peer?.success ?? 0 },
      }
    }
    return { leader: this.memberId, followers }
  }

  /**
   * Stops after handing leadership to the most up-to-date follower (Raft thesis §3.10), so
   * the cluster does not wait an election timeout for a new leader. Waits at most
   * `transferWaitMs`, then stops anyway.
   */
  async stopGracefully(transferWaitMs: number): Promise<void> {
    const { raft } = this.parts
    const status = raft.status()
    const progress = status.progress ?? {}
    const candidates = Object.entries(progress).filter(([id]) => id !== this.memberId)
    if (this.role === 'StateLeader' && candidates.length > 0 && !this.stopped) {
      candidates.sort(([, a], [, b]) => b.matchIndex - a.matchIndex)
      const [target] = candidates[0] ?? []
      if (target !== undefined) {
        this.parts.logger.info({ term: status.term, to: target }, 'transferring leadership before stopping')
        raft.transferLeadership(target)
        this.scheduleTurn()
        const deadline = this.parts.clock.nowMs() + transferWaitMs
        while (this.leaderId === this.memberId && this.parts.clock.nowMs() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
      }
    }
    this.stop()
  }

  /**
   * This member was removed from the cluster: it applied its own removal, or a peer refused
   * it with 410 (the leader stops replicating to a removed member, so it may never apply it).
   */
  noteRemoved(): void {
    if (this.removed) return
    this.removed = true
    this.parts.logger.warn({ memberId: this.memberId }, 'this member was removed from the cluster')
    for (const callback of this.removedCallbacks) callback()
  }

  /** Registers a callback run when this member is removed from the cluster (etcd then exits). */
  onRemoved(callback: () => void): void {
    this.removedCallbacks.push(callback)
  }

  members(): MemberInfo[] {
    return this.parts.storage.members()
  }

  leader(): MemberInfo | undefined {
    if (this.leaderId === '') return undefined
    return this.members().find((m) => m.id === this.leaderId)
  }

  healthy(): boolean {
    return this.leaderId !== ''
  }

  /**
   * Adds a member with `peerUrls` (etcd's POST /v2/members): a confChange entry (thesis §4.1),
   * answered once applied here. The new member has no name and no client URLs until it starts.
   * @throws MembershipError 409 when a member already uses one of the URLs; 500 when the
   *         change could not be committed (another change under way, no leader, timeout).
   */
  addMember(peerUrls: readonly string[]): Promise<MemberInfo> {
    this.refuseWhenStopped()
    if (this.peerUrlInUse(peerUrls, undefined)) throw new MembershipError(409, 'membership: peerURL exists')
    const nowMs = this.parts.clock.nowMs()
    const id = memberIdOf(peerUrls, `${this.clusterId}/${nowMs}/${this.requestCounter}`)
    const member: MemberInfo = { id, name: '', peerUrls: [...peerUrls], clientUrls: [] }
    return this.proposeMembershipChange('addNode', member)
  }

  /**
   * Removes member `id` (etcd's DELETE /v2/members/<id>).
   * @throws MembershipError 404 for an unknown id, 410 for one removed before, 500 as addMember.
   */
  removeMember(id: string): Promise<MemberInfo> {
    this.refuseWhenStopped()
    const member = this.knownMember(id)
    return this.proposeMembershipChange('removeNode', member)
  }

  /**
   * Replaces the peer URLs of member `id` (etcd's PUT /v2/members/<id>).
   * @throws MembershipError 404, 410, 409 (a URL used by another member), 500 as addMember.
   */
  updateMember(id: string, peerUrls: readonly string[]): Promise<MemberInfo> {
    this.refuseWhenStopped()
    const member = this.knownMember(id)
    if (this.peerUrlInUse(peerUrls, id)) throw new MembershipError(409, 'membership: peerURL exists')
    return this.proposeMembershipChange('updateNode', { ...member, peerUrls: [...peerUrls] })
  }

  private knownMember(id: string): MemberInfo {
    const member = this.members().find((m) => m.id === id)
    if (member !== undefined) return member
    if (this.parts.storage.isRemoved(id)) throw new MembershipError(410, `Member permanently removed: ${id}`)
    throw new MembershipError(404, `No such member: ${id}`)
  }

  private peerUrlInUse(peerUrls: readonly string[], exceptId: string | undefined): boolean {
    const wanted = new Set(peerUrls)
    return this.members().some((m) => m.id !== exceptId && m.peerUrls.some((url) => wanted.has(url)))
  }

  private async proposeMembershipChange(type: ConfChange['type'], member: MemberInfo): Promise<MemberInfo> {
    const requestId = this.nextRequestId()
    const done = this.membershipChanges.wait(requestId)
    try {
      this.parts.raft.proposeConfChange({ type, memberId: member.id, context: JSON.stringify({ requestId, member }) })
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      this.membershipChanges.reject(requestId, new MembershipError(500, 'etcdserver: membership change not accepted (no leader, or another change is under way)'))
    }
    this.scheduleTurn()
    try {
      return await done
    } catch (error) {
      if (error instanceof V2Error) throw new MembershipError(500, error.detail)
      throw error
    }
  }

  /** Raft messages from peers (the transport calls this for each received batch). */
  receive(messages: readonly Message[]): void {
    if (this.stopped) return
    for (const message of messages) {
      if (message.type === 'app') this.appendsReceived += 1
      const fresh = message.type === 'prop' ? this.recentProposals.filterForwarded(message) : message
      if (fresh !== undefined) this.parts.raft.step(fresh)
    }
    // A snapshot is installed at once: what it names (a staged copy of the leader's state)
    // could be replaced by the next chunk of another transfer if the turn waited.
    if (messages.some((m) => m.type === 'snap')) this.runTurns()
    else this.scheduleTurn()
  }

  /** After a restart, the writes already in the log tail are known again (recent-proposals.ts). */
  private noteLogTail(): void {
    const { log } = this.parts.storage
    const last = log.lastIndex()
    const first = Math.max(log.firstIndex(), last - this.recentProposals.capacity + 1)
    if (first <= last) this.recentProposals.noteEntries(log.entries(first, last + 1, Number.POSITIVE_INFINITY))
  }

  /** The transport could not reach `memberId` (Raft moves its progress back to probing). */
  reportUnreachable(memberId: string): void {
    if (this.stopped) return
    this.parts.raft.reportUnreachable(memberId)
    this.scheduleTurn()
  }

  /** The transport finished sending a snapshot to `memberId`. */
  reportSnapshot(memberId: string, ok: boolean): void {
    if (this.stopped) return
    this.parts.raft.reportSnapshot(memberId, ok)
    this.scheduleTurn()
  }

  // ---- the loop -------------------------------------------------------------------------

  private tick(): void {
    this.parts.raft.tick()
    this.scheduleTurn()
  }

  /**
   * Hands a write to Raft. Without a leader (an election under way) it waits in
   * `awaitingLeader` and is proposed when one is known, or times out like etcd's request.
   */
  private propose(data: string, requestId: string): void {
    try {
      this.parts.raft.propose(data)
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      // Writes that timed out while waiting are dropped here, not only once a leader is
      // known: a long election or a minority partition must not grow this list. Every live
      // entry has a waiter, so a list longer than the waiters holds dead ones.
      if (this.awaitingLeader.length >= this.writes.size) this.awaitingLeader = this.awaitingLeader.filter((w) => this.writes.has(w.requestId))
      this.awaitingLeader.push({ data, requestId })
      return
    }
    this.scheduleTurn()
  }

  /** Hands an auth change to Raft; without a leader it fails at once (the client retries). */
  private proposeAuth(data: string, requestId: string): void {
    try {
      this.parts.raft.propose(data)
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      this.authChanges.reject(requestId, new V2Error(ErrorCode.RaftInternal, 'etcdserver: no leader', 0))
      return
    }
    this.scheduleTurn()
  }

  private proposeAwaitingLeader(): void {
    const waiting = this.awaitingLeader
    this.awaitingLeader = []
    for (const { data, requestId } of waiting) {
      if (this.writes.has(requestId)) this.propose(data, requestId)
    }
  }

  /**
   * The leader proposes a sweep when the earliest TTL is due (ARCHITECTURE decision 2): one
   * entry at a time, each expiring at most `expireKeysPerEntry` keys, the next proposed as
   * soon as this member applied the previous one (applyProposal) while keys are still due.
   */
  private maybeProposeExpire(): void {
    if (this.role !== 'StateLeader' || this.stopped) return
    const nowMs = this.parts.clock.nowMs()
    const dueMs = this.parts.store.earliestExpirationMs()
    if (dueMs === undefined || dueMs > nowMs) return
    const inFlight = this.expireInFlightSinceMs
    if (inFlight !== undefined && nowMs - inFlight < this.parts.settings.requestTimeoutMs) return
    this.expireInFlightSinceMs = nowMs
    try {
      this.parts.raft.propose(encodeExpire(nowMs, this.parts.settings.expireKeysPerEntry))
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      this.expireInFlightSinceMs = undefined
    }
    this.scheduleTurn()
  }

  private scheduleTurn(): void {
    if (this.turnScheduled || this.stopped) return
    this.turnScheduled = true
    setImmediate(() => {
      this.turnScheduled = false
      this.runTurns()
    })
  }

  private runTurns(): void {
    while (this.parts.raft.hasReady()) this.runTurn(this.parts.raft.ready())
  }

  /**
   * One turn of the loop. No await inside: nothing may interleave. The transaction waits for
   * the disk only when the turn persists what Raft needs durable before its messages leave
   * (entries, a snapshot, a new term or vote: Figure 2); a turn that only moves the commit
   * index and applies entries commits without an fsync, since the durable log rebuilds it.
   */
  private runTurn(ready: Ready): void {
    const { raft, storage, peers, store } = this.parts
    const outcomes: Outcome[] = []
    const durable = mustPersistDurably(ready, this.persistedVote)
    this.turns += 1
    if (durable) this.durableTurns += 1
    storage.transaction(() => {
      if (ready.snapshot !== undefined) this.installSnapshot(ready.snapshot)
      if (ready.entries.length > 0) storage.log.append(ready.entries)
      this.recentProposals.noteEntries(ready.entries)
      if (ready.hardState !== undefined) storage.log.setHardState(ready.hardState)
      const appliedBefore = this.appliedIndex
      for (const entry of ready.committedEntries) this.applyEntry(entry, outcomes)
      // One write of the applied index per turn: it commits with the entries it covers.
      if (this.appliedIndex > appliedBefore) storage.setAppliedIndex(this.appliedIndex)
      this.maybeCompact()
    }, durable)
    if (ready.hardState !== undefined) this.persistedVote = { term: ready.hardState.term, vote: ready.hardState.vote }
    if (ready.messages.some((m) => m.type === 'snap')) this.sendWithStates(ready.messages)
    else peers.send(ready.messages)
    for (const message of ready.messages) if (message.type === 'app') this.appendsSent += 1
    store.flushNotifications()
    for (const outcome of outcomes) {
      if (outcome.event !== undefined) this.writes.resolve(outcome.requestId, outcome.event)
      else if (outcome.error !== undefined) this.writes.reject(outcome.requestId, outcome.error)
    }
    for (const { requestId, member } of this.appliedMembershipChanges) this.membershipChanges.resolve(requestId, member)
    this.appliedMembershipChanges = []
    for (const outcome of this.appliedAuthChanges) {
      if (outcome.result !== undefined) this.authChanges.resolve(outcome.requestId, outcome.result)
      else if (outcome.error !== undefined) this.authChanges.reject(outcome.requestId, outcome.error)
    }
    this.appliedAuthChanges = []
    if (ready.softState !== undefined) this.noteSoftState(ready.softState)
    for (const readState of ready.readStates) this.pendingReads.push(readState)
    this.releaseReads()
    raft.advance(ready)
    if (this.leaderId !== '' && this.awaitingLeader.length > 0) this.proposeAwaitingLeader()
    this.maybePublishAttributes()
  }

  /**
   * A follower that fell behind the compacted log gets the applied state itself (decision 7),
   * streamed: for each 'snap' message a reader of the state is opened now, right after the
   * turn committed, so it reads the state at this member's applied index for as long as the
   * transfer lasts, whatever is applied meanwhile. The snapshot Raft names is replaced by one
   * at that index, so the follower never applies an entry twice; its configuration is the one
   * in effect at that index (the last applied change, thesis §4.1), not the one of the last
   * compaction, so a member added since is a voter in it. A reader that cannot be opened
   * tells Raft the snapshot failed (it retries later) instead of stopping the member.
   */
  private sendWithStates(messages: readonly Message[]): void {
    const { storage, logger, peers } = this.parts
    peers.send(messages.filter((m) => m.type !== 'snap'))
    for (const message of messages) {
      if (message.type !== 'snap') continue
      let state: StateReader
      try {
        state = storage.openStateReader()
      } catch (error) {
        logger.error({ index: this.appliedIndex, to: message.to, error: error instanceof Error ? error.message : String(error) }, 'snapshot export failed')
        setImmediate(() => this.reportSnapshot(message.to, false))
        continue
      }
      const index = state.appliedIndex
      const metadata = { index, term: storage.log.term(index), confState: storage.log.initialState().confState }
      peers.sendSnapshot({ ...message, snapshot: { metadata, data: new Uint8Array(0) } }, state)
    }
  }

  /** Replaces the state by a snapshot from the leader, inside the turn's transaction. */
  private installSnapshot(snapshot: NonNullable<Ready['snapshot']>): void {
    const { storage, logger } = this.parts
    storage.importState(snapshot.data)
    this.auth.reload()
    storage.log.applySnapshot(snapshot.metadata)
    this.appliedIndex = snapshot.metadata.index
    // The membership came with the state: reach exactly the members it lists.
    this.parts.peers.setPeers?.(storage.members())
    logger.info({ index: snapshot.metadata.index, term: snapshot.metadata.term, voters: snapshot.metadata.confState.voters }, 'snapshot installed')
  }

  /** Applies one committed entry inside the turn's transaction (deterministic: no clock). */
  private applyEntry(entry: Entry, outcomes: Outcome[]): void {
    if (entry.index <= this.appliedIndex) return
    assert(entry.index === this.appliedIndex + 1, 'committed entries must be applied in order')
    if (entry.type === 'confChange') this.applyConfChange(entry)
    else if (entry.data !== '') this.applyProposal(entry.data, outcomes)
    this.appliedIndex = entry.index
  }

  private applyProposal(data: string, outcomes: Outcome[]): void {
    const { store } = this.parts
    const proposal = decodeProposal(data)
    if (proposal.kind === 'expire') {
      store.expire(proposal.timeMs, proposal.keysMax)
      this.expireInFlightSinceMs = undefined
      // Keys may still be due (more than one entry expires): look again after this turn.
      if (this.role === 'StateLeader') setImmediate(() => this.maybeProposeExpire())
      return
    }
    if (proposal.kind === 'attributes') {
      this.applyAttributes(proposal)
      return
    }
    if (proposal.kind === 'auth') {
      try {
        this.appliedAuthChanges.push({ requestId: proposal.requestId, result: this.auth.apply(proposal.command) })
      } catch (error) {
        if (!(error instanceof AuthError)) throw error
        this.appliedAuthChanges.push({ requestId: proposal.requestId, error })
      }
      return
    }
    const request = JSON.parse(proposal.json) as StoreRequest
    try {
      outcomes.push({ requestId: proposal.requestId, event: store.apply(request, proposal.timeMs) })
    } catch (error) {
      if (!(error instanceof V2Error)) throw error
      outcomes.push({ requestId: proposal.requestId, error })
    }
  }

  private applyAttributes(attributes: { memberId: string; name: string; clientUrls: string[] }): void {
    const { storage } = this.parts
    const current = storage.members().find((m) => m.id === attributes.memberId)
    if (current !== undefined) storage.upsertMember({ ...current, name: attributes.name, clientUrls: attributes.clientUrls })
    if (attributes.memberId === this.memberId) this.attributesProposedAtMs = undefined
  }

  /** Publishes name and client URLs through the log (etcd's publish), retrying until applied. */
  private maybePublishAttributes(): void {
    const proposedAt = this.attributesProposedAtMs
    if (proposedAt === undefined || this.leaderId === '' || this.stopped) return
    const nowMs = this.parts.clock.nowMs()
    if (proposedAt !== 0 && nowMs - proposedAt < this.parts.settings.requestTimeoutMs) return
    const { settings } = this.parts
    try {
      this.parts.raft.propose(encodeAttributes(this.memberId, settings.name, settings.clientUrls))
      this.attributesProposedAtMs = nowMs
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
    }
  }

  private applyConfChange(entry: Entry): void {
    const change = JSON.parse(entry.data) as ConfChange
    const { requestId, member } = JSON.parse(change.context) as { requestId: string; member: MemberInfo }
    const confState = this.parts.raft.applyConfChange(change)
    this.parts.storage.log.setConfState(confState)
    if (change.type === 'removeNode') this.parts.storage.removeMember(change.memberId)
    else this.parts.storage.upsertMember(member)
    this.appliedMembershipChanges.push({ requestId, member })
    if (change.type === 'removeNode' && change.memberId === this.memberId) setImmediate(() => this.noteRemoved())
    this.parts.logger.info({ change: change.type, memberId: change.memberId, voters: confState.voters }, 'membership changed')
    this.parts.peers.setPeers?.(this.parts.storage.members())
  }

  /** Drops log entries more than `snapshotCount` behind the applied index (decision 7). */
  private maybeCompact(): void {
    const { snapshotCount } = this.parts.settings
    const slack = Math.max(1, Math.floor(snapshotCount / 10))
    const target = this.appliedIndex - snapshotCount
    if (target - this.compactedThrough < slack) return
    const log = this.parts.storage.log
    if (target < log.firstIndex()) {
      this.compactedThrough = target
      return
    }
    log.compact(target)
    this.compactedThrough = target
  }

  private releaseReads(): void {
    for (let i = this.pendingReads.length - 1; i >= 0; i--) {
      const read = this.pendingReads[i]
      assert(read !== undefined)
      if (read.index > this.appliedIndex) continue
      this.pendingReads.splice(i, 1)
      this.reads.resolve(read.context, read.index)
    }
  }

  private noteSoftState(soft: NonNullable<Ready['softState']>): void {
    const role = roleName(soft.role)
    const term = this.parts.raft.status().term
    if (soft.leaderId !== this.leaderId) {
      if (soft.leaderId !== '') this.leaderChanges += 1
      this.parts.logger.info({ term, leaderId: soft.leaderId, previousLeaderId: this.leaderId }, 'leader changed')
      this.leaderId = soft.leaderId
      this.leaderSinceMs = this.parts.clock.nowMs()
    }
    if (role !== this.role) {
      this.parts.logger.info({ term, role, previousRole: this.role }, 'role changed')
      this.role = role
    }
  }

  private nextRequestId(): string {
    this.requestCounter += 1
    return this.requestIdPrefix + this.requestCounter.toString(36)
  }

  private refuseWhenStopped(): void {
    if (this.stopped) throw new V2Error(ErrorCode.RaftInternal, 'etcdserver: server stopped', 0)
  }
}

/**
 * How many request ids a member remembers to drop duplicated forwarded writes: twice the
 * writes one member may have pending, at least 1,024.
 */
function recentProposalsCapacity(pendingProposalsMax: number): number {
  return Math.max(1_024, 2 * pendingProposalsMax)
}

function roleName(role: NonNullable<Ready['softState']>['role']): SelfStats['state'] {
  switch (role) {
    case 'leader':
      return 'StateLeader'
    case 'candidate':
      return 'StateCandidate'
    case 'preCandidate':
      return 'StatePreCandidate'
    case 'follower':
      return 'StateFollower'
  }
}
