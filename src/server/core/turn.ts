/**
 * One loop turn (ARCHITECTURE.md, "the loop turn"; STYLE.md §4): persist → send → apply →
 * answer → advance, synchronous from start to finish, with nothing interleaved.
 *
 *   persist and apply  in one storage transaction: a snapshot to install, the new entries,
 *                      the hard state, then the committed entries applied and the applied
 *                      index recorded with them, then compaction. The transaction waits for
 *                      the disk only when Raft needs what it persists to be durable before
 *                      its messages leave (entries, a snapshot, a new term or vote: Figure 2);
 *                      a turn that only moves the commit index and applies entries commits
 *                      without an fsync, since the durable log rebuilds it.
 *   send               only after that commit.
 *   answer             the store's watchers, then the clients whose entries were applied,
 *                      then the quorum reads whose read point is now applied.
 *   advance            Raft may hand out the next Ready.
 */
import type { Message, Ready } from '../../raft/index.js'
import type { StateReader } from '../ports.js'
import { mustPersistDurably, type PersistedVote } from '../durability.js'
import type { Applied, Applier } from './apply.js'
import type { Compaction } from './compaction.js'
import type { Membership } from './membership.js'
import type { CoreParts, CoreState, RoleName } from './parts.js'
import type { Proposals } from './proposals.js'
import type { QuorumReads } from './reads.js'

/** The parts a turn drives. */
export interface TurnParts {
  readonly applier: Applier
  readonly proposals: Proposals
  readonly reads: QuorumReads
  readonly membership: Membership
  readonly compaction: Compaction
}

/** Counters of the turns run since start (for `/metrics`). */
export interface TurnCounters {
  turns: number
  durableTurns: number
  appendsSent: number
}

export class LoopTurn {
  /** The term and vote on disk: a turn that changes either must reach the disk. */
  private persistedVote: PersistedVote
  readonly counters: TurnCounters = { turns: 0, durableTurns: 0, appendsSent: 0 }

  constructor(
    private readonly parts: CoreParts,
    private readonly state: CoreState,
    private readonly turnParts: TurnParts,
    private readonly requestTurn: () => void,
  ) {
    const { hardState } = parts.storage.log.initialState()
    this.persistedVote = { term: hardState.term, vote: hardState.vote }
  }

  /** Runs one turn over `ready` (taken from Raft just before). */
  run(ready: Ready): void {
    const { raft, storage, peers, store } = this.parts
    const { applier, proposals, reads, membership, compaction } = this.turnParts
    const applied: Applied = { writes: [], auth: [], membership: [] }
    const durable = mustPersistDurably(ready, this.persistedVote)
    this.counters.turns += 1
    if (durable) this.counters.durableTurns += 1
    storage.transaction(() => {
      if (ready.snapshot !== undefined) applier.installSnapshot(ready.snapshot)
      if (ready.entries.length > 0) storage.log.append(ready.entries)
      proposals.noteEntries(ready.entries)
      if (ready.hardState !== undefined) storage.log.setHardState(ready.hardState)
      const appliedBefore = this.state.appliedIndex
      applier.applyEntries(ready.committedEntries, applied)
      // One write of the applied index per turn: it commits with the entries it covers.
      if (this.state.appliedIndex > appliedBefore) storage.setAppliedIndex(this.state.appliedIndex)
      compaction.maybeCompact()
    }, durable)
    if (ready.hardState !== undefined) this.persistedVote = { term: ready.hardState.term, vote: ready.hardState.vote }
    if (ready.messages.some((m) => m.type === 'snap')) this.sendWithStates(ready.messages)
    else peers.send(ready.messages)
    for (const message of ready.messages) if (message.type === 'app') this.counters.appendsSent += 1
    store.flushNotifications()
    proposals.answer(applied.writes, applied.auth)
    membership.answer(applied.membership)
    if (ready.softState !== undefined) this.noteSoftState(ready.softState)
    reads.noteConfirmed(ready.readStates)
    reads.release()
    raft.advance(ready)
    proposals.proposeAwaitingLeader()
    membership.maybePublishAttributes()
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
    const { storage, logger, peers, raft, scheduler } = this.parts
    peers.send(messages.filter((m) => m.type !== 'snap'))
    for (const message of messages) {
      if (message.type !== 'snap') continue
      let state: StateReader
      try {
        state = storage.openStateReader()
      } catch (error) {
        logger.error({ index: this.state.appliedIndex, to: message.to, error: error instanceof Error ? error.message : String(error) }, 'snapshot export failed')
        scheduler.soon(() => {
          if (this.state.stopped) return
          raft.reportSnapshot(message.to, false)
          this.requestTurn()
        })
        continue
      }
      const index = state.appliedIndex
      const metadata = { index, term: storage.log.term(index), confState: storage.log.initialState().confState }
      peers.sendSnapshot({ ...message, snapshot: { metadata, data: new Uint8Array(0) } }, state)
    }
  }

  private noteSoftState(soft: NonNullable<Ready['softState']>): void {
    const { raft, logger, clock } = this.parts
    const role = roleName(soft.role)
    const term = raft.status().term
    if (soft.leaderId !== this.state.leaderId) {
      logger.info({ term, leaderId: soft.leaderId, previousLeaderId: this.state.leaderId }, 'leader changed')
      this.state.setLeader(soft.leaderId, clock.nowMs())
    }
    if (role !== this.state.role) {
      logger.info({ term, role, previousRole: this.state.role }, 'role changed')
      this.state.role = role
    }
  }
}

function roleName(role: NonNullable<Ready['softState']>['role']): RoleName {
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
