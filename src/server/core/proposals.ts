/**
 * Client writes and auth changes on their way into the log (ARCHITECTURE decision 4): each
 * gets a request id, waits in a reply table until this member applies its entry, and is
 * answered with what applying it returned here. A follower's proposal is forwarded to the
 * leader by Raft ('prop'); a forwarded write delivered twice enters the log once
 * (recent-proposals.ts). While no leader is known, writes wait for one until their deadline.
 */
import { ProposalDroppedError, type Entry, type Message } from '../../raft/index.js'
import type { Event, StoreRequest } from '../../store/index.js'
import type { AuthCommand, AuthError, AuthResult } from '../../auth/index.js'
import { ErrorCode, V2Error } from '../../v2error/index.js'
import { encodeAuth, encodeWrite } from '../proposal.js'
import { RecentProposals } from '../recent-proposals.js'
import { PendingReplies, type Reply } from './pending.js'
import type { CoreParts, CoreState } from './parts.js'

/** A write's applied result, answered after the turn's transaction commits. */
export type WriteOutcome = { readonly requestId: string; readonly event?: Event; readonly error?: V2Error }

/** An applied auth change's result, answered after the turn's transaction commits. */
export type AuthOutcome = { readonly requestId: string; readonly result?: AuthResult; readonly error?: AuthError }

export class Proposals {
  private readonly writes: PendingReplies<Event>
  private readonly authChanges: PendingReplies<AuthResult>
  /** Writes proposed while no leader was known, proposed again once one is (until their deadline). */
  private awaitingLeader: { readonly data: string; readonly requestId: string }[] = []
  /** Request ids of the latest writes in the log: a forwarded write arriving twice is dropped. */
  private readonly recent: RecentProposals
  /** Writes refused because `pendingProposalsMax` were pending (the timed-out ones are counted by `writes`). */
  private writesRefused = 0

  constructor(
    private readonly parts: CoreParts,
    private readonly state: CoreState,
    private readonly requestTurn: () => void,
  ) {
    const { scheduler, settings } = parts
    this.writes = new PendingReplies(scheduler, settings.requestTimeoutMs)
    this.authChanges = new PendingReplies(scheduler, settings.requestTimeoutMs)
    this.recent = new RecentProposals(recentProposalsCapacity(settings.pendingProposalsMax))
    this.noteLogTail()
  }

  /** Writes waiting to be applied here. */
  get pendingWrites(): number {
    return this.writes.size
  }

  get awaitingLeaderCount(): number {
    return this.awaitingLeader.length
  }

  /** Writes that failed without being applied: timed out, or refused as too many. */
  get failed(): number {
    return this.writes.timedOut + this.writesRefused
  }

  /**
   * Proposes a v2 write; `reply` gets the applied event, or the store's V2Error, or 300
   * (`too many requests` at once beyond `pendingProposalsMax`, `request timed out`).
   */
  write(request: StoreRequest, reply: Reply<Event>): void {
    if (this.writes.size >= this.parts.settings.pendingProposalsMax) {
      this.writesRefused += 1
      reply.reject(new V2Error(ErrorCode.RaftInternal, 'etcdserver: too many requests', 0))
      return
    }
    const requestId = this.state.nextRequestId()
    this.writes.add(requestId, reply)
    this.propose(encodeWrite(requestId, this.parts.clock.nowMs(), request), requestId)
  }

  /** Proposes a v2 auth change; without a leader it fails at once with 300 (the client retries). */
  authChange(command: AuthCommand, reply: Reply<AuthResult>): void {
    if (this.writes.size + this.authChanges.size >= this.parts.settings.pendingProposalsMax) {
      reply.reject(new V2Error(ErrorCode.RaftInternal, 'etcdserver: too many requests', 0))
      return
    }
    const requestId = this.state.nextRequestId()
    this.authChanges.add(requestId, reply)
    try {
      this.parts.raft.propose(encodeAuth(requestId, command))
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      this.authChanges.reject(requestId, new V2Error(ErrorCode.RaftInternal, 'etcdserver: no leader', 0))
      return
    }
    this.requestTurn()
  }

  /** A peer's message, or undefined for a forwarded write already in the log or proposed. */
  filterForwarded(message: Message): Message | undefined {
    return message.type === 'prop' ? this.recent.filterForwarded(message) : message
  }

  /** Entries this turn persists: their request ids are known from now on. */
  noteEntries(entries: readonly Entry[]): void {
    this.recent.noteEntries(entries)
  }

  /** Answers the writes and auth changes applied in a turn, after its commit. */
  answer(writes: readonly WriteOutcome[], auth: readonly AuthOutcome[]): void {
    for (const outcome of writes) {
      if (outcome.event !== undefined) this.writes.resolve(outcome.requestId, outcome.event)
      else if (outcome.error !== undefined) this.writes.reject(outcome.requestId, outcome.error)
    }
    for (const outcome of auth) {
      if (outcome.result !== undefined) this.authChanges.resolve(outcome.requestId, outcome.result)
      else if (outcome.error !== undefined) this.authChanges.reject(outcome.requestId, outcome.error)
    }
  }

  /** Once a leader is known, the writes held for one are proposed (those still waiting). */
  proposeAwaitingLeader(): void {
    if (this.state.leaderId === '' || this.awaitingLeader.length === 0) return
    const waiting = this.awaitingLeader
    this.awaitingLeader = []
    for (const { data, requestId } of waiting) {
      if (this.writes.has(requestId)) this.propose(data, requestId)
    }
  }

  /** Fails every waiting write and auth change with `error` (stop). */
  rejectAll(error: Error): void {
    this.writes.rejectAll(error)
    this.authChanges.rejectAll(error)
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
    this.requestTurn()
  }

  /** After a restart, the writes already in the log tail are known again (recent-proposals.ts). */
  private noteLogTail(): void {
    const { log } = this.parts.storage
    const last = log.lastIndex()
    const first = Math.max(log.firstIndex(), last - this.recent.capacity + 1)
    if (first <= last) this.recent.noteEntries(log.entries(first, last + 1, Number.POSITIVE_INFINITY))
  }
}

/**
 * How many request ids a member remembers to drop duplicated forwarded writes: twice the
 * writes one member may have pending, at least 1,024.
 */
function recentProposalsCapacity(pendingProposalsMax: number): number {
  return Math.max(1_024, 2 * pendingProposalsMax)
}
