/**
 * `RawNode`: the application's handle on one member's Raft state machine, in the shape of
 * etcd-io/raft's rawnode.go (classic, synchronous form). The application calls `tick()` on
 * its clock, `step()` for each message from a peer, `propose()`/`readIndex()` for its
 * clients, and runs this loop:
 *
 *   if (node.hasReady()) {
 *     const ready = node.ready()   // what to do; nothing done yet
 *     persist(ready)               // hardState, entries, snapshot: durable first (Figure 2)
 *     send(ready.messages)         // only after they are durable
 *     apply(ready.committedEntries)
 *     node.advance(ready)          // acknowledge; the next Ready may then be taken
 *   }
 *
 * A leader counts its own unstable entries as matched at once, so on a one-voter cluster a
 * proposal is in the same Ready's `entries` and `committedEntries`: one fsync per batch.
 * `committedEntries` never reaches past what that Ready persists.
 */
import { assert, type Rng } from '../lib/index.js'
import { newMessage } from './message.js'
import { Raft, type RaftConfig, type Role } from './raft.js'
import type { ProgressState } from './progress.js'
import type {
  ConfChange,
  ConfState,
  HardState,
  LogStorage,
  Logger,
  MemberId,
  Message,
  MessageType,
  RaftIndex,
  Ready,
  SoftState,
  Term,
} from './types.js'

/** What `RawNode.status()` reports. `progress` is present on a leader only. */
export interface RaftStatus {
  readonly id: MemberId
  readonly term: Term
  readonly vote: MemberId | ''
  readonly commit: RaftIndex
  readonly applied: RaftIndex
  readonly leaderId: MemberId | ''
  readonly role: Role
  readonly progress?: Record<MemberId, { readonly matchIndex: RaftIndex; readonly nextIndex: RaftIndex; readonly state: ProgressState }>
}

/** Message types only the member itself produces; a peer never sends them. */
const localTypes: ReadonlySet<MessageType> = new Set(['hup', 'beat', 'snapStatus', 'unreachable'])

export class RawNode {
  private readonly raft: Raft
  private prevHardState: HardState
  private prevSoftState: SoftState
  /** A Ready was handed out and not yet acknowledged by `advance`. */
  private readyOut = false

  /**
   * Restores the member from `storage` (hard state, configuration, log) as a follower.
   * @param rng    draws the randomized election timeouts (§5.2).
   * @param logger receives role, term and leader changes at info level.
   */
  constructor(config: RaftConfig, storage: LogStorage, rng: Rng, private readonly logger: Logger) {
    this.raft = new Raft(config, storage, rng, logger)
    this.prevHardState = this.raft.hardState()
    this.prevSoftState = this.raft.softState()
  }

  /** Advances the logical clock by one tick (elections, heartbeats, CheckQuorum). */
  tick(): void {
    this.raft.tick()
  }

  /**
   * Starts an election now (PreVote first when configured). A single voter becomes leader at
   * once and appends the empty entry of its term (§8). Does nothing on a leader or a non-voter.
   */
  campaign(): void {
    this.raft.stepLocal(newMessage('hup', this.raft.id, this.raft.id))
  }

  /**
   * Proposes an entry carrying `data` (opaque to Raft). A leader appends it; a follower
   * forwards it to its leader (no answer comes back: the application sees it committed or
   * times out).
   * @throws ProposalDroppedError when there is no leader, a leadership transfer is under way,
   *         or this leader is no longer a voter.
   */
  propose(data: string): void {
    this.raft.stepLocal(newMessage('prop', this.raft.id, this.raft.id, { entries: [{ index: 0, term: 0, type: 'normal', data }] }))
  }

  /**
   * Proposes a membership change as a `confChange` entry whose data is the JSON of `cc`
   * (thesis §4.1: one server at a time). When it is committed, the application applies it
   * and calls `applyConfChange(cc)`.
   * @throws ProposalDroppedError as `propose`, and on a leader when another change is not
   *         yet applied.
   */
  proposeConfChange(cc: ConfChange): void {
    const entry = { index: 0, term: 0, type: 'confChange' as const, data: JSON.stringify(cc) }
    this.raft.stepLocal(newMessage('prop', this.raft.id, this.raft.id, { entries: [entry] }))
  }

  /**
   * Puts a committed membership change into effect; called by the application when it
   * applies the entry. A removed leader steps down.
   * @returns the configuration now in effect, for the application to persist.
   */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc)
  }

  /**
   * Handles a message from a peer. Messages for another member or of a local-only type are
   * dropped (logged), never trusted.
   * @throws ProposalDroppedError never for a peer's message (only local proposals throw).
   */
  step(message: Message): void {
    if (message.to !== this.raft.id || localTypes.has(message.type)) {
      this.rejectedMessage(message)
      return
    }
    this.raft.step(message)
  }

  private rejectedMessage(message: Message): void {
    this.logger.warn({ type: message.type, from: message.from, to: message.to }, 'message dropped: not for this member')
  }

  /**
   * Asks for a linearizable read point (thesis §6.4). The answer arrives as a `ReadState`
   * with the same `context` in a later Ready (at once on a one-voter cluster); serve the read
   * once applied ≥ its index. Dropped silently when no leader is known (the read times out).
   * @param context unique per request (the application's request id).
   */
  readIndex(context: string): void {
    this.raft.stepLocal(newMessage('readIndex', this.raft.id, this.raft.id, { context }))
  }

  /** Asks the leader to hand leadership to `to` (thesis §3.10); forwarded when we follow. */
  transferLeadership(to: MemberId): void {
    this.raft.stepLocal(newMessage('transferLeader', to, this.raft.id))
  }

  /** The transport could not reach `id`: its progress goes back to probing. */
  reportUnreachable(id: MemberId): void {
    this.raft.stepLocal(newMessage('unreachable', id, this.raft.id))
  }

  /** The transport delivered (`ok`) or failed to deliver the snapshot sent to `id`. */
  reportSnapshot(id: MemberId, ok: boolean): void {
    this.raft.stepLocal(newMessage('snapStatus', id, this.raft.id, { reject: !ok }))
  }

  /** Whether `ready()` has something to hand out. False while a Ready awaits `advance`. */
  hasReady(): boolean {
    if (this.readyOut) return false
    const { raft } = this
    const log = raft.raftLog
    if (!sameSoftState(raft.softState(), this.prevSoftState)) return true
    if (!sameHardState(raft.hardState(), this.prevHardState)) return true
    if (log.unstableEntries().length > 0 || log.pendingSnapshot() !== undefined) return true
    if (raft.msgs.length > 0 || raft.readStates.length > 0) return true
    return log.hasNextCommittedEntries()
  }

  /**
   * What the application must do now, in order: persist `hardState`, `entries` and
   * `snapshot`; send `messages`; apply `committedEntries`; then call `advance(ready)`.
   * Takes the messages and read states: they are handed out once.
   */
  ready(): Ready {
    assert(!this.readyOut, 'ready: the previous Ready was not advanced')
    const { raft } = this
    const log = raft.raftLog
    const softState = raft.softState()
    const hardState = raft.hardState()
    const snapshot = log.pendingSnapshot()
    const ready: Ready = {
      ...(sameSoftState(softState, this.prevSoftState) ? {} : { softState }),
      ...(sameHardState(hardState, this.prevHardState) ? {} : { hardState }),
      entries: [...log.unstableEntries()],
      ...(snapshot === undefined ? {} : { snapshot }),
      committedEntries: log.nextCommittedEntries(),
      messages: raft.msgs,
      readStates: raft.readStates,
    }
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1]
    assert(lastCommitted === undefined || lastCommitted.index <= log.lastIndex(), 'committed entries beyond the log')
    raft.msgs = []
    raft.readStates = []
    this.prevSoftState = softState
    this.prevHardState = hardState
    this.readyOut = true
    return ready
  }

  /** Acknowledges that `ready` was persisted, sent and applied. */
  advance(ready: Ready): void {
    assert(this.readyOut, 'advance: no Ready is out')
    this.readyOut = false
    const log = this.raft.raftLog
    if (ready.snapshot !== undefined) {
      log.stableSnapTo(ready.snapshot.metadata.index)
      log.appliedTo(ready.snapshot.metadata.index)
    }
    const lastEntry = ready.entries[ready.entries.length - 1]
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term)
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1]
    if (lastCommitted !== undefined) log.appliedTo(lastCommitted.index)
  }

  /** The current term (Figure 2); cheaper than `status()` for every response's `X-Raft-Term`. */
  term(): Term {
    return this.raft.term
  }

  /** The commit index now; cheaper than `status()` for every response's `X-Raft-Index`. */
  commitIndex(): RaftIndex {
    return this.raft.raftLog.committed
  }

  /** The member's state now (not what was last persisted). */
  status(): RaftStatus {
    const { raft } = this
    const base = {
      id: raft.id,
      term: raft.term,
      vote: raft.vote,
      commit: raft.raftLog.committed,
      applied: raft.raftLog.applied,
      leaderId: raft.leaderId,
      role: raft.role,
    }
    if (raft.role !== 'leader') return base
    const progress: Record<MemberId, { matchIndex: RaftIndex; nextIndex: RaftIndex; state: ProgressState }> = {}
    for (const [id, pr] of raft.progress) progress[id] = { matchIndex: pr.matchIndex, nextIndex: pr.nextIndex, state: pr.state }
    return { ...base, progress }
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leaderId === b.leaderId && a.role === b.role
}
