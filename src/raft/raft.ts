/**
 * The Raft state machine of one member: roles, terms, votes, replication, commit, reads,
 * leadership transfer and membership. Pure and deterministic: it reacts to `step(message)`
 * and `tick()`, and leaves what must be done in `msgs`, `readStates` and its `RaftLog`;
 * `RawNode` (raw-node.ts) hands those out as a `Ready`. Written after the Raft paper (Ongaro
 * & Ousterhout 2014: §5, Figure 2), Ongaro's thesis (2014: §3.10, §4, §6.4, §9.6) and the
 * shape of etcd-io/raft's raft.go.
 */
import { assert, type Rng } from '../lib/index.js'
import { newMessage, type MessageFields } from './message.js'
import { Progress } from './progress.js'
import { RaftLog } from './raft-log.js'
import { ReadOnly } from './read-only.js'
import {
  ProposalDroppedError,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type LogStorage,
  type Logger,
  type MemberId,
  type Message,
  type MessageType,
  type RaftIndex,
  type ReadState,
  type SoftState,
  type Term,
} from './types.js'

/** How a member runs Raft. Ticks are the member loop's unit of time (etcd: --heartbeat-interval). */
export interface RaftConfig {
  readonly id: MemberId
  /**
   * Minimum election timeout in ticks; each election waits a random count in
   * [electionTicks, 2 × electionTicks) (§5.2). Must exceed heartbeatTicks.
   */
  readonly electionTicks: number
  /** Ticks between a leader's heartbeats (§5.2). At least 1. */
  readonly heartbeatTicks: number
  /** Run a PreVote round before a real election (thesis §9.6). */
  readonly preVote: boolean
  /** Leader steps down without a quorum; followers keep a leader lease (thesis §6.2, §9.6). */
  readonly checkQuorum: boolean
  /** Most bytes of entry data in one append (at least one entry is always sent). */
  readonly messageBytesMax: number
  /** Most appends in flight to one follower while replicating (pipelining). At least 1. */
  readonly inflightMessagesMax: number
  /** Index the application has already applied (0 for a new member); committed entries start after it. */
  readonly appliedIndex: RaftIndex
}

/** The member's role (§5.1, plus thesis §9.6's pre-candidate). */
export type Role = SoftState['role']

/** Context of a vote request sent on a leader's request (TimeoutNow): it overrides the lease. */
const transferContext = 'transfer'

export class Raft {
  readonly id: MemberId
  /** Latest term seen (Figure 2: currentTerm). Persisted. */
  term: Term = 0
  /** Member voted for in `term`, or '' (Figure 2: votedFor). Persisted. */
  vote: MemberId | '' = ''
  role: Role = 'follower'
  /** The leader of `term` as far as we know, or ''. */
  leaderId: MemberId | '' = ''
  /** Voting members of the configuration in effect (thesis §4.1), ascending. */
  voters: MemberId[]
  /** Leader only: per-voter replication state (Figure 2: nextIndex[], matchIndex[]). */
  readonly progress = new Map<MemberId, Progress>()
  readonly raftLog: RaftLog
  /** Messages to send, in order; taken by `RawNode.ready()`. */
  msgs: Message[] = []
  /** Read points released by ReadIndex; taken by `RawNode.ready()`. */
  readStates: ReadState[] = []

  /** Ticks since the last election timeout (leader: since the last CheckQuorum round) or since we heard from the leader. */
  private electionElapsed = 0
  private heartbeatElapsed = 0
  /**
   * Leader: count of periodic heartbeat broadcasts, never reset (ReadIndex heartbeats do not
   * count). A probe sent in one round is resent on a heartbeat response of a later round only
   * (Progress.heartbeatAnswered).
   */
  private heartbeatRound = 0
  /** This term's election timeout, drawn from [electionTicks, 2 × electionTicks). */
  private randomizedElectionTimeout = 0
  /** Votes received in this election: member → granted. */
  private readonly votes = new Map<MemberId, boolean>()
  /** Leader: the member leadership is being handed to (thesis §3.10), or ''. */
  leadTransferee: MemberId | '' = ''
  /**
   * Leader: a new confChange is refused until this index is applied. It is the index of the
   * last confChange appended, or our last index when elected (see becomeLeader).
   */
  private pendingConfIndex: RaftIndex = 0
  private readonly readOnly = new ReadOnly()
  /** True while `stepLocal` runs: a refused proposal then throws instead of vanishing. */
  private stepFromApplication = false
  /** Leader: ReadIndex requests that arrived before an entry of this term was committed. */
  private pendingReadIndexMessages: Message[] = []

  constructor(
    private readonly config: RaftConfig,
    storage: LogStorage,
    private readonly rng: Rng,
    private readonly logger: Logger,
  ) {
    assertValidConfig(config)
    this.id = config.id
    const { hardState, confState } = storage.initialState()
    this.raftLog = new RaftLog(storage, hardState.commit, config.appliedIndex)
    this.voters = [...confState.voters].sort()
    this.becomeFollower(hardState.term, '')
    this.vote = hardState.vote
    this.logger.info({ id: this.id, term: this.term, commit: hardState.commit, lastIndex: this.raftLog.lastIndex(), voters: this.voters }, 'raft started')
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed }
  }

  softState(): SoftState {
    return { leaderId: this.leaderId, role: this.role }
  }

  /** Whether this member may become leader: it is a voter of the configuration in effect. */
  promotable(): boolean {
    return this.voters.includes(this.id)
  }

  private quorum(): number {
    return Math.floor(this.voters.length / 2) + 1
  }

  // ---- time -------------------------------------------------------------------------------

  /** One tick of the logical clock. */
  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat()
    else this.tickElection()
  }

  /** Followers and candidates: start an election when the timeout passes without a leader (§5.2). */
  private tickElection(): void {
    this.electionElapsed++
    if (!this.promotable()) return
    if (this.electionElapsed < this.randomizedElectionTimeout) return
    this.electionElapsed = 0
    this.step(newMessage('hup', this.id, this.id))
  }

  /**
   * Leader: heartbeats every heartbeatTicks (§5.2); every electionTicks, CheckQuorum (thesis
   * §6.2: step down when no quorum was heard from) and the end of an unfinished transfer (§3.10).
   */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0
      if (this.config.checkQuorum && !this.checkQuorumActive()) {
        this.logger.info({ term: this.term }, 'leader lost its quorum')
        this.becomeFollower(this.term, '')
        return
      }
      if (this.leadTransferee !== '') this.abortLeaderTransfer('timed out')
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0
      this.heartbeatRound++
      this.bcastHeartbeat()
    }
  }

  /** Whether a quorum (ourselves included) was heard from since the last round; clears the marks. */
  private checkQuorumActive(): boolean {
    let active = 0
    for (const [id, pr] of this.progress) {
      if (id === this.id || pr.recentActive) active++
      if (id !== this.id) pr.recentActive = false
    }
    return active >= this.quorum()
  }

  // ---- roles ------------------------------------------------------------------------------

  /**
   * Clears the per-term state when entering a role; a new term forgets the vote. A new term
   * also drops the messages of older terms not yet handed out: the Ready that will carry
   * them persists the log as it is now, so an acknowledgement made before a newer leader cut
   * the acknowledged entries would leave claiming entries this member no longer holds (and
   * an older leader could count it toward a commit, §5.3). Raft tolerates the loss.
   */
  private reset(term: Term): void {
    if (this.term !== term) {
      this.term = term
      this.vote = ''
      this.msgs = this.msgs.filter((m) => m.term === 0 || m.term >= term)
    }
    this.leaderId = ''
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.randomizedElectionTimeout = this.config.electionTicks + this.rng.int(0, this.config.electionTicks - 1)
    this.leadTransferee = ''
    this.votes.clear()
    this.progress.clear()
    this.pendingConfIndex = 0
    this.readOnly.reset()
    this.pendingReadIndexMessages = []
  }

  becomeFollower(term: Term, leaderId: MemberId | ''): void {
    this.reset(term)
    this.role = 'follower'
    this.leaderId = leaderId
    this.logger.info({ id: this.id, term, leaderId }, 'became follower')
  }

  /** Thesis §9.6: ask for votes at term + 1 without changing our own term or vote. */
  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate')
    // Not reset(): the term and vote stay, only the election state starts again.
    this.votes.clear()
    this.leaderId = ''
    this.role = 'preCandidate'
    this.electionElapsed = 0
    this.randomizedElectionTimeout = this.config.electionTicks + this.rng.int(0, this.config.electionTicks - 1)
    this.logger.info({ id: this.id, term: this.term }, 'became pre-candidate')
  }

  /** §5.2: increment the term and vote for ourselves. */
  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate')
    this.reset(this.term + 1)
    this.vote = this.id
    this.role = 'candidate'
    this.logger.info({ id: this.id, term: this.term }, 'became candidate')
  }

  /**
   * §5.2: take the lead; every voter is probed from our last index. The empty entry of the
   * new term (§8) lets the leader learn what is committed and serve reads (thesis §6.4).
   */
  private becomeLeader(): void {
    assert(this.role !== 'follower', 'a follower must campaign before leading')
    this.reset(this.term)
    this.role = 'leader'
    this.leaderId = this.id
    const lastIndex = this.raftLog.lastIndex()
    for (const id of this.voters) this.progress.set(id, this.newProgress(lastIndex))
    // Our own log is durable by the time anything we send is read: we are matched, streaming.
    const self = this.progress.get(this.id)
    if (self !== undefined) {
      self.maybeUpdate(lastIndex)
      self.becomeReplicate()
    }
    // A confChange may sit unapplied in our log. Rather than look for one, a new confChange
    // is refused until everything in our log before our empty entry is applied (as etcd's
    // becomeLeader). Our empty entry itself need not be applied: an accepted confChange is
    // appended after it, and a change takes effect when applied, so never before an entry of
    // our term is committed (the fix to the single-server change bug: thesis §4.1, raft-dev 2015).
    this.pendingConfIndex = lastIndex
    this.logger.info({ id: this.id, term: this.term, leaderId: this.id }, 'became leader')
    this.appendEntries([{ index: 0, term: 0, type: 'normal', data: '' }])
  }

  private newProgress(lastIndex: RaftIndex): Progress {
    return new Progress(0, lastIndex + 1, this.config.inflightMessagesMax)
  }

  // ---- elections --------------------------------------------------------------------------

  /** Starts an election: PreVote first when configured (thesis §9.6), then the real one (§5.2). */
  private hup(transfer: boolean): void {
    if (this.role === 'leader') return
    if (!this.promotable()) {
      this.logger.debug({ id: this.id }, 'not a voter: no election')
      return
    }
    if (this.hasUnappliedConfChange()) {
      this.logger.warn({ id: this.id, term: this.term }, 'unapplied configuration change: no election')
      return
    }
    if (this.config.preVote && !transfer) this.preCampaign()
    else this.campaign(transfer)
  }

  private hasUnappliedConfChange(): boolean {
    const { applied, committed } = this.raftLog
    if (committed <= applied) return false
    return this.raftLog.nextCommittedEntries().some((e) => e.type === 'confChange')
  }

  private preCampaign(): void {
    this.becomePreCandidate()
    if (this.poll(this.id, true) === 'won') {
      this.campaign(false)
      return
    }
    this.requestVotes('preVote', this.term + 1, '')
  }

  private campaign(transfer: boolean): void {
    this.becomeCandidate()
    if (this.poll(this.id, true) === 'won') {
      this.becomeLeader()
      return
    }
    this.requestVotes('vote', this.term, transfer ? transferContext : '')
  }

  private requestVotes(type: 'vote' | 'preVote', term: Term, context: string): void {
    const index = this.raftLog.lastIndex()
    const logTerm = this.raftLog.lastTerm()
    for (const id of this.voters) {
      if (id === this.id) continue
      this.send(type, id, { term, index, logTerm, context })
    }
  }

  /** Records one answer (the first from each member counts) and says where the election stands. */
  private poll(from: MemberId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted)
    let yes = 0
    let no = 0
    for (const [id, vote] of this.votes) {
      if (!this.voters.includes(id)) continue
      if (vote) yes++
      else no++
    }
    if (yes >= this.quorum()) return 'won'
    if (no >= this.quorum()) return 'lost'
    return 'pending'
  }

  /**
   * RequestVote receiver (Figure 2; §5.2, §5.4.1): grant when we have not voted for another
   * member in this term and the candidate's log is at least as up to date as ours. A
   * pre-vote is granted for a future term without voting (thesis §9.6).
   */
  private handleVoteRequest(m: Message): void {
    const preVote = m.type === 'preVote'
    const canVote = this.vote === m.from || (this.vote === '' && this.leaderId === '') || (preVote && m.term > this.term)
    const upToDate = this.raftLog.isUpToDate(m.index, m.logTerm)
    const respType = preVote ? 'preVoteResp' : 'voteResp'
    if (canVote && upToDate) {
      this.logger.debug({ id: this.id, term: this.term, candidate: m.from, type: m.type }, 'vote granted')
      // A pre-vote answer carries the term asked for, so the candidate counts it (thesis §9.6).
      this.send(respType, m.from, { term: m.term })
      if (!preVote) {
        this.electionElapsed = 0
        this.vote = m.from
      }
      return
    }
    this.logger.debug({ id: this.id, term: this.term, candidate: m.from, type: m.type, canVote, upToDate }, 'vote rejected')
    this.send(respType, m.from, { term: this.term, reject: true })
  }

  // ---- step -------------------------------------------------------------------------------

  /**
   * Handles a message the application made (proposal, read, campaign, transfer, reports).
   * @throws ProposalDroppedError for a proposal that cannot be accepted.
   */
  stepLocal(m: Message): void {
    this.stepFromApplication = true
    try {
      this.step(m)
    } finally {
      this.stepFromApplication = false
    }
  }

  /**
   * Handles one message: first the term rules every member follows (Figure 2, "All
   * Servers"), then the rules of our role. A peer's message never throws.
   */
  step(m: Message): void {
    if (!this.stepTerm(m)) return
    switch (m.type) {
      case 'hup':
        this.hup(false)
        return
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m)
        return
      default:
        if (this.role === 'leader') this.stepLeader(m)
        else if (this.role === 'follower') this.stepFollower(m)
        else this.stepCandidate(m)
    }
  }

  /**
   * Compares the message's term with ours (§5.1): a newer term makes us a follower (unless
   * it is a vote request we ignore under a leader lease, or a pre-vote exchange, which never
   * changes terms); an older one is ignored or answered so that its sender learns our term.
   * @returns whether the message should be handled further.
   */
  private stepTerm(m: Message): boolean {
    if (m.term === 0 || m.term === this.term) return true
    if (m.term > this.term) return this.stepNewerTerm(m)
    // Figure 2: reply false to a request of an older term; our term in the answer makes a
    // stale leader or candidate step down. This also frees a cluster whose member raised its
    // term while cut off and cannot win (PreVote, leader lease): the leader learns that term.
    if (m.type === 'heartbeat' || m.type === 'app') {
      this.send('appResp', m.from, { term: this.term })
    } else if (m.type === 'vote' || m.type === 'preVote') {
      this.send(m.type === 'vote' ? 'voteResp' : 'preVoteResp', m.from, { term: this.term, reject: true })
    } else {
      this.logger.debug({ id: this.id, term: this.term, from: m.from, type: m.type, messageTerm: m.term }, 'ignored a message of an older term')
    }
    return false
  }

  private stepNewerTerm(m: Message): boolean {
    if (m.type === 'vote' || m.type === 'preVote') {
      const force = m.context === transferContext
      const inLease = this.config.checkQuorum && this.leaderId !== '' && this.electionElapsed < this.config.electionTicks
      if (inLease && !force) {
        // Thesis §9.6 / §6.2: we heard from a leader within the minimum election timeout.
        this.logger.debug({ id: this.id, term: this.term, candidate: m.from, type: m.type }, 'vote ignored: leader lease')
        return false
      }
    }
    if (m.type === 'preVote') return true
    if (m.type === 'preVoteResp' && !m.reject) return true
    const leader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' ? m.from : ''
    this.becomeFollower(m.term, leader)
    return true
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'prop':
        this.dropProposal(m, 'no leader')
        return
      case 'app':
      case 'heartbeat':
      case 'snap':
        // A leader of our term exists (§5.2): give up the election.
        this.becomeFollower(m.term, m.from)
        this.stepFollower(m)
        return
      case 'voteResp':
      case 'preVoteResp':
        this.handleVoteResponse(m)
        return
      case 'readIndex':
        this.logger.debug({ id: this.id, term: this.term }, 'read dropped: no leader')
        return
      default:
        return
    }
  }

  private handleVoteResponse(m: Message): void {
    const expected = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp'
    if (m.type !== expected) return
    const result = this.poll(m.from, !m.reject)
    if (result === 'won') {
      if (this.role === 'preCandidate') this.campaign(false)
      else {
        this.becomeLeader()
        this.bcastAppend()
      }
    } else if (result === 'lost') {
      this.becomeFollower(this.term, '')
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'prop':
      case 'transferLeader':
      case 'readIndex':
        this.forwardToLeader(m)
        return
      case 'app':
        this.heardFromLeader(m.from)
        this.handleAppendEntries(m)
        return
      case 'heartbeat':
        this.heardFromLeader(m.from)
        this.handleHeartbeat(m)
        return
      case 'snap':
        this.heardFromLeader(m.from)
        this.handleSnapshot(m)
        return
      case 'timeoutNow':
        this.logger.info({ id: this.id, term: this.term, from: m.from }, 'leadership transfer: campaigning')
        this.hup(true)
        return
      case 'readIndexResp':
        this.readStates.push({ index: m.index, context: m.context })
        return
      default:
        return
    }
  }

  private heardFromLeader(leaderId: MemberId): void {
    this.electionElapsed = 0
    if (this.leaderId !== leaderId) {
      this.leaderId = leaderId
      this.logger.info({ id: this.id, term: this.term, leaderId }, 'found leader')
    }
  }

  /** A follower passes proposals, reads and transfer requests to its leader, if it knows one. */
  private forwardToLeader(m: Message): void {
    if (this.leaderId === '') {
      if (m.type === 'prop') this.dropProposal(m, 'no leader')
      else this.logger.debug({ id: this.id, term: this.term, type: m.type }, 'dropped: no leader')
      return
    }
    this.msgs.push({ ...m, to: this.leaderId })
  }

  /**
   * Refuses a proposal: the application's own by throwing, a forwarded one silently (its
   * proposer times out). A forwarded one may come back to its proposer, so `from` cannot tell.
   */
  private dropProposal(m: Message, reason: string): void {
    this.logger.debug({ id: this.id, term: this.term, from: m.from, reason }, 'proposal dropped')
    if (this.stepFromApplication) throw new ProposalDroppedError(`proposal dropped: ${reason}`)
  }

  // ---- follower: receiving the log ------------------------------------------------------------

  /** AppendEntries receiver (Figure 2, rules 1 to 5; §5.3), with a hint for fast back-tracking. */
  private handleAppendEntries(m: Message): void {
    const { raftLog } = this
    if (m.index < raftLog.committed) {
      this.send('appResp', m.from, { term: this.term, index: raftLog.committed })
      return
    }
    const lastNew = raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
    if (lastNew !== undefined) {
      this.send('appResp', m.from, { term: this.term, index: lastNew })
      return
    }
    // Thesis §5.3: hint the last index whose term is ≤ the leader's term at m.index, so the
    // leader can skip every entry of a conflicting term in one round trip.
    const hint = raftLog.findConflictByTerm(Math.min(m.index, raftLog.lastIndex()), m.logTerm)
    const hintTerm = raftLog.termIfKnown(hint) ?? 0
    this.logger.debug({ id: this.id, term: this.term, index: m.index, logTerm: m.logTerm, hint }, 'append rejected')
    this.send('appResp', m.from, { term: this.term, index: m.index, reject: true, rejectHint: hint, logTerm: hintTerm })
  }

  /** The heartbeat's commit is min(leader commit, our match), so it never exceeds our log. */
  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit)
    this.send('heartbeatResp', m.from, { term: this.term, context: m.context })
  }

  /** InstallSnapshot receiver (§7): a snapshot ahead of our log replaces it. */
  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot
    assert(snapshot !== undefined, 'snap message without a snapshot')
    const { index, term, confState } = snapshot.metadata
    const { raftLog } = this
    if (index <= raftLog.committed) {
      this.send('appResp', m.from, { term: this.term, index: raftLog.committed })
      return
    }
    if (raftLog.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: keep the log, just commit (§7).
      raftLog.commitTo(index)
      this.send('appResp', m.from, { term: this.term, index: raftLog.committed })
      return
    }
    this.logger.info({ id: this.id, term: this.term, index, snapshotTerm: term }, 'installing snapshot')
    raftLog.restore(snapshot)
    this.voters = [...confState.voters].sort()
    this.send('appResp', m.from, { term: this.term, index: raftLog.lastIndex() })
  }

  // ---- leader -------------------------------------------------------------------------------

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'beat':
        this.bcastHeartbeat()
        return
      case 'prop':
        this.handleProposal(m)
        return
      case 'readIndex':
        this.handleReadIndex(m)
        return
      case 'transferLeader':
        this.handleTransferLeader(m.from)
        return
      default:
        this.stepLeaderFromPeer(m)
    }
  }

  /** Messages a leader receives about one peer's progress. */
  private stepLeaderFromPeer(m: Message): void {
    const pr = this.progress.get(m.from)
    if (pr === undefined) {
      this.logger.debug({ id: this.id, from: m.from, type: m.type }, 'message from a non-voter ignored')
      return
    }
    switch (m.type) {
      case 'appResp':
        pr.recentActive = true
        if (m.reject) this.handleAppendRejected(m, pr)
        else this.handleAppendAccepted(m, pr)
        return
      case 'heartbeatResp':
        this.handleHeartbeatResponse(m, pr)
        return
      case 'snapStatus':
        this.handleSnapshotStatus(m, pr)
        return
      case 'unreachable':
        // The transport lost a message: stop streaming until the member answers a probe.
        if (pr.state === 'replicate') pr.becomeProbe()
        return
      default:
        return
    }
  }

  /** Appends the proposed entries, unless a transfer is under way or a confChange waits (thesis §3.10, §4.1). */
  private handleProposal(m: Message): void {
    if (m.entries.length === 0) return
    if (!this.progress.has(this.id)) {
      this.dropProposal(m, 'leader is not a voter')
      return
    }
    if (this.leadTransferee !== '') {
      this.dropProposal(m, 'leadership transfer under way')
      return
    }
    const entries: Entry[] = []
    for (const entry of m.entries) {
      if (entry.type === 'confChange') {
        if (this.pendingConfIndex > this.raftLog.applied) {
          this.dropProposal(m, 'a configuration change is pending')
          continue
        }
        this.pendingConfIndex = this.raftLog.lastIndex() + entries.length + 1
      }
      entries.push(entry)
    }
    if (entries.length === 0) return
    this.appendEntries(entries)
    this.bcastAppend()
  }

  /**
   * Appends `entries` at the end of our log in this term. The leader counts its own log as
   * matched at once (etcd's classic RawNode): on a one-voter cluster they commit in the same
   * Ready that persists them, and the application persists them before it applies them.
   */
  private appendEntries(entries: readonly Entry[]): void {
    let index = this.raftLog.lastIndex()
    const stamped = entries.map((e) => ({ index: ++index, term: this.term, type: e.type, data: e.data }))
    const lastIndex = this.raftLog.append(stamped)
    this.progress.get(this.id)?.maybeUpdate(lastIndex)
    this.maybeCommit()
  }

  /**
   * Commits the highest index a quorum has matched, if it is of this term (§5.4.2: earlier
   * terms commit only indirectly; Figure 8).
   * @returns whether the commit index moved.
   */
  private maybeCommit(): boolean {
    const matched = this.voters.map((id) => this.progress.get(id)?.matchIndex ?? 0).sort((a, b) => b - a)
    const quorumIndex = matched[this.quorum() - 1] ?? 0
    const hadCommittedInTerm = this.committedEntryInCurrentTerm()
    if (!this.raftLog.maybeCommit(quorumIndex, this.term)) return false
    if (!hadCommittedInTerm) this.releasePendingReadIndexMessages()
    return true
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termIfKnown(this.raftLog.committed) === this.term
  }

  private handleAppendRejected(m: Message, pr: Progress): void {
    // Thesis §5.3: skip every entry of a term the follower does not have (etcd's findConflictByTerm).
    let next = m.rejectHint
    if (m.logTerm > 0) next = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)
    this.logger.debug({ id: this.id, to: m.from, rejected: m.index, hint: m.rejectHint, next }, 'append rejected by follower')
    if (!pr.maybeDecrTo(m.index, next)) return
    if (pr.state === 'replicate') pr.becomeProbe()
    this.sendAppend(m.from, true)
  }

  private handleAppendAccepted(m: Message, pr: Progress): void {
    const wasPaused = pr.isPaused()
    if (!pr.maybeUpdate(m.index)) return
    if (pr.state === 'probe') pr.becomeReplicate()
    else if (pr.state === 'snapshot' && pr.matchIndex + 1 >= this.raftLog.firstIndex()) pr.becomeReplicate()
    else if (pr.state === 'replicate') pr.inflights.freeLE(m.index)
    if (this.maybeCommit()) this.bcastAppend()
    else if (wasPaused) this.sendAppend(m.from, true)
    // Pipelining: keep sending while the window has room and there is something to send.
    while (this.sendAppend(m.from, false)) {
      /* each call sends one append */
    }
    if (m.from === this.leadTransferee && pr.matchIndex === this.raftLog.lastIndex()) {
      this.logger.info({ id: this.id, term: this.term, to: m.from }, 'leadership transfer: target caught up')
      this.send('timeoutNow', m.from, { term: this.term })
    }
  }

  /**
   * The member is alive (CheckQuorum) and may confirm a ReadIndex round. When it lags, one
   * append may go out (etcd raft.go, MsgHeartbeatResp). Probing: the probe again, at most
   * once per heartbeat round. Replicating with a full window: an append without entries
   * (`sendEmptyAppend`), never new ones. Replicating with room: what `sendAppend` sends, new
   * entries or else an empty append; an empty append's consistency check finds lost appends.
   */
  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true
    if (pr.state === 'probe') pr.heartbeatAnswered(this.heartbeatRound)
    if (pr.matchIndex < this.raftLog.lastIndex()) {
      if (pr.state === 'replicate' && pr.inflights.full()) this.sendEmptyAppend(m.from, pr)
      else this.sendAppend(m.from, true)
    }
    if (m.context === '') return
    if (this.readOnly.recvAck(m.from, m.context) < this.quorum()) return
    for (const read of this.readOnly.advance(m.context)) this.answerRead(read.index, read.context, read.from)
  }

  private handleSnapshotStatus(m: Message, pr: Progress): void {
    if (pr.state !== 'snapshot') return
    if (m.reject) pr.pendingSnapshot = 0
    // Either way, wait for the member's answer (or a heartbeat response of a later round)
    // before the next append.
    pr.becomeProbe()
    pr.markProbeSent(this.heartbeatRound)
    this.logger.info({ id: this.id, to: m.from, ok: !m.reject, next: pr.nextIndex }, 'snapshot delivery reported')
  }

  // ---- leader: sending ----------------------------------------------------------------------

  /** Sends new entries (or the commit index) to every other voter. */
  private bcastAppend(): void {
    for (const id of this.progress.keys()) {
      if (id !== this.id) this.sendAppend(id, true)
    }
  }

  /**
   * Sends `to` the entries from its nextIndex, at most messageBytesMax bytes, or a snapshot
   * when they are compacted (§7).
   * @param sendIfEmpty send an append even with no entries (to carry the commit index).
   * @returns whether a message was sent.
   */
  private sendAppend(to: MemberId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to)
    if (pr === undefined || pr.isPaused()) return false
    const { raftLog } = this
    const prevIndex = pr.nextIndex - 1
    const prevTerm = raftLog.termIfKnown(prevIndex)
    if (prevTerm === undefined || pr.nextIndex < raftLog.firstIndex()) return this.sendSnapshot(to, pr)
    const entries = raftLog.slice(pr.nextIndex, raftLog.lastIndex() + 1, this.config.messageBytesMax)
    const last = entries[entries.length - 1]
    if (last === undefined && !sendIfEmpty) return false
    this.send('app', to, { term: this.term, index: prevIndex, logTerm: prevTerm, entries, commit: raftLog.committed })
    if (pr.state === 'replicate' && last !== undefined) {
      pr.optimisticUpdate(last.index)
      pr.inflights.add(last.index)
    } else if (pr.state === 'probe') {
      pr.markProbeSent(this.heartbeatRound)
    }
    return true
  }

  /**
   * Replicating with a full window (etcd raft.go maybeSendAppend, "throttled"): an append
   * without entries at nextIndex - 1, the end of what is in flight. It adds nothing to the
   * window, yet the answer empties it (accepted: all in flight arrived) or sends the member
   * back to probing (rejected: some was lost), so replication cannot stall when every
   * append in flight was lost. Snapshot when that index is compacted, as `sendAppend`.
   */
  private sendEmptyAppend(to: MemberId, pr: Progress): void {
    assert(pr.state === 'replicate', 'sendEmptyAppend: only while replicating')
    const prevIndex = pr.nextIndex - 1
    const prevTerm = this.raftLog.termIfKnown(prevIndex)
    if (prevTerm === undefined) {
      this.sendSnapshot(to, pr)
      return
    }
    this.send('app', to, { term: this.term, index: prevIndex, logTerm: prevTerm, commit: this.raftLog.committed })
  }

  private sendSnapshot(to: MemberId, pr: Progress): boolean {
    if (!pr.recentActive) return false
    const snapshot = this.raftLog.storage.snapshot()
    assert(snapshot.metadata.index > 0, 'a compacted log must have a snapshot')
    pr.becomeSnapshot(snapshot.metadata.index)
    this.logger.info({ id: this.id, term: this.term, to, index: snapshot.metadata.index }, 'sending snapshot')
    this.send('snap', to, { term: this.term, snapshot })
    return true
  }

  /** Heartbeats (§5.2) carry min(commit, the member's match) so no member commits past its log. */
  private bcastHeartbeat(context = this.readOnly.lastPendingContext()): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue
      this.send('heartbeat', id, { term: this.term, commit: Math.min(pr.matchIndex, this.raftLog.committed), context })
    }
  }

  // ---- reads --------------------------------------------------------------------------------

  /**
   * ReadIndex (thesis §6.4): the read point is the commit index, valid once the leader has
   * committed an entry of its term and a quorum has confirmed its leadership by answering a
   * heartbeat carrying the request's context. A single voter answers at once.
   */
  private handleReadIndex(m: Message): void {
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m)
      return
    }
    const index = this.raftLog.committed
    if (this.quorum() === 1 && this.progress.has(this.id)) {
      this.answerRead(index, m.context, m.from === this.id ? '' : m.from)
      return
    }
    this.readOnly.addRequest(index, m.context, m.from === this.id ? '' : m.from)
    this.readOnly.recvAck(this.id, m.context)
    this.bcastHeartbeat(m.context)
  }

  private releasePendingReadIndexMessages(): void {
    const pending = this.pendingReadIndexMessages
    this.pendingReadIndexMessages = []
    for (const m of pending) this.handleReadIndex(m)
  }

  private answerRead(index: RaftIndex, context: string, from: MemberId | ''): void {
    if (from === '') this.readStates.push({ index, context })
    else this.send('readIndexResp', from, { term: this.term, index, context })
  }

  // ---- leadership transfer --------------------------------------------------------------------

  /**
   * Thesis §3.10: stop taking proposals, bring the target up to date, then tell it to start
   * an election at once (TimeoutNow). Abandoned after an election timeout.
   */
  private handleTransferLeader(target: MemberId): void {
    if (target === this.id) return
    const pr = this.progress.get(target)
    if (pr === undefined) {
      this.logger.info({ id: this.id, target }, 'leadership transfer ignored: not a voter')
      return
    }
    if (this.leadTransferee === target) return
    if (this.leadTransferee !== '') this.abortLeaderTransfer('replaced')
    this.leadTransferee = target
    this.electionElapsed = 0
    this.logger.info({ id: this.id, term: this.term, target }, 'leadership transfer started')
    if (pr.matchIndex === this.raftLog.lastIndex()) this.send('timeoutNow', target, { term: this.term })
    else this.sendAppend(target, true)
  }

  private abortLeaderTransfer(reason: string): void {
    this.logger.info({ id: this.id, term: this.term, target: this.leadTransferee, reason }, 'leadership transfer aborted')
    this.leadTransferee = ''
  }

  // ---- membership ---------------------------------------------------------------------------

  /**
   * Applies a committed membership change (thesis §4.1, single-server changes; as etcd, the
   * configuration changes when the entry is applied). A leader that removes itself steps down.
   * @returns the configuration now in effect.
   */
  applyConfChange(cc: ConfChange): ConfState {
    switch (cc.type) {
      case 'addNode':
        this.addVoter(cc.memberId)
        break
      case 'removeNode':
        this.removeVoter(cc.memberId)
        break
      case 'updateNode':
        break
    }
    this.logger.info({ id: this.id, term: this.term, change: cc.type, memberId: cc.memberId, voters: this.voters }, 'configuration changed')
    return { voters: [...this.voters] }
  }

  private addVoter(id: MemberId): void {
    if (this.voters.includes(id)) return
    this.voters = [...this.voters, id].sort()
    if (this.role !== 'leader') return
    // A new member starts with an empty log: probe it from our end, back-track or snapshot.
    this.progress.set(id, this.newProgress(this.raftLog.lastIndex()))
    this.sendAppend(id, true)
  }

  private removeVoter(id: MemberId): void {
    this.voters = this.voters.filter((v) => v !== id)
    if (this.role !== 'leader') return
    this.progress.delete(id)
    if (id === this.id) {
      this.logger.info({ id: this.id, term: this.term }, 'leader removed from the configuration')
      this.becomeFollower(this.term, '')
      return
    }
    if (this.leadTransferee === id) this.abortLeaderTransfer('target removed')
    // A smaller quorum may commit more now.
    if (this.maybeCommit()) this.bcastAppend()
  }

  // ---- output -------------------------------------------------------------------------------

  private send(type: MessageType, to: MemberId, fields: MessageFields): void {
    assert(to !== this.id, `${type}: a member never sends to itself`)
    this.msgs.push(newMessage(type, this.id, to, fields))
  }
}

function assertValidConfig(config: RaftConfig): void {
  assert(config.id !== '', 'raft: id must not be empty')
  assert(Number.isInteger(config.heartbeatTicks), 'raft: heartbeatTicks must be an integer')
  assert(config.heartbeatTicks >= 1, 'raft: heartbeatTicks must be at least 1')
  assert(Number.isInteger(config.electionTicks), 'raft: electionTicks must be an integer')
  assert(config.electionTicks > config.heartbeatTicks, 'raft: electionTicks must exceed heartbeatTicks')
  assert(config.inflightMessagesMax >= 1, 'raft: inflightMessagesMax must be at least 1')
  assert(config.messageBytesMax >= 0, 'raft: messageBytesMax must not be negative')
  assert(config.appliedIndex >= 0, 'raft: appliedIndex must not be negative')
}
