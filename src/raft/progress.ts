/**
 * What a leader knows about each voter's log: `Progress` (Raft Figure 2's nextIndex and
 * matchIndex, plus a replication state) and `Inflights`, the window of appends sent but not
 * yet acknowledged. Modelled on etcd raft's tracker/progress.go and tracker/inflights.go.
 *
 * States (etcd raft design, thesis §5.3 optimisations):
 * - `probe`: the leader does not know where the follower's log matches; it sends one append
 *   at a time and waits for the answer, or for a heartbeat response of a later heartbeat
 *   round, before the next.
 * - `replicate`: the logs matched at `matchIndex`; the leader streams appends optimistically,
 *   advancing `nextIndex` as it sends, at most `inflightMessagesMax` unacknowledged. With the
 *   window full it sends only appends without entries (raft.ts, `sendEmptyAppend`).
 * - `snapshot`: the entries the follower needs are compacted; a snapshot is on its way and
 *   nothing else is sent until it is reported delivered (or failed).
 */
import { assert } from '../lib/index.js'
import type { RaftIndex } from './types.js'

export type ProgressState = 'probe' | 'replicate' | 'snapshot'

/** Last indexes of appends in flight, oldest first; at most `capacity` of them. */
export class Inflights {
  private lastIndexes: RaftIndex[] = []

  /** @param capacity most appends in flight at once; at least 1. */
  constructor(readonly capacity: number) {
    assert(capacity >= 1, 'inflight capacity must be at least 1')
  }

  get count(): number {
    return this.lastIndexes.length
  }

  full(): boolean {
    return this.lastIndexes.length >= this.capacity
  }

  /** Records an append whose last entry is `lastIndex` (ascending; never when full). */
  add(lastIndex: RaftIndex): void {
    assert(!this.full(), 'inflights: add when full')
    const previous = this.lastIndexes[this.lastIndexes.length - 1]
    assert(previous === undefined || previous < lastIndex, 'inflights: indexes must ascend')
    this.lastIndexes.push(lastIndex)
  }

  /** Forgets every append whose last index is ≤ `index` (acknowledged). */
  freeLE(index: RaftIndex): void {
    let n = 0
    while (n < this.lastIndexes.length && (this.lastIndexes[n] ?? Infinity) <= index) n++
    if (n > 0) this.lastIndexes = this.lastIndexes.slice(n)
  }

  reset(): void {
    this.lastIndexes = []
  }
}

/** A leader's view of one voter. Invariant: matchIndex < nextIndex. */
export class Progress {
  /** Highest index known to be replicated on the member (Figure 2: matchIndex). */
  matchIndex: RaftIndex
  /** Index of the next entry to send (Figure 2: nextIndex). */
  nextIndex: RaftIndex
  state: ProgressState = 'probe'
  /** In `snapshot` state: the index of the snapshot being sent. */
  pendingSnapshot: RaftIndex = 0
  /** In `probe` state: an append is out and unanswered, so no other is sent. Set by `markProbeSent`. */
  probeSent = false
  /**
   * The leader's heartbeat round (raft.ts, `heartbeatRound`) in which the unanswered probe
   * went out; meaningful only while `probeSent`.
   */
  private probeSentRound = 0
  /** The member was heard from since the last CheckQuorum round (thesis §6.2). */
  recentActive = true
  readonly inflights: Inflights

  constructor(matchIndex: RaftIndex, nextIndex: RaftIndex, inflightMessagesMax: number) {
    assert(matchIndex < nextIndex, 'progress: matchIndex must be below nextIndex')
    this.matchIndex = matchIndex
    this.nextIndex = nextIndex
    this.inflights = new Inflights(inflightMessagesMax)
  }

  /** Back to probing from just after the match (or after the snapshot that was sent). */
  becomeProbe(): void {
    const after = this.state === 'snapshot' ? Math.max(this.matchIndex, this.pendingSnapshot) : this.matchIndex
    this.resetState('probe')
    this.nextIndex = after + 1
  }

  /** Streaming from just after the match. */
  becomeReplicate(): void {
    this.resetState('replicate')
    this.nextIndex = this.matchIndex + 1
  }

  /** Waiting for the snapshot at `snapshotIndex` to be delivered. */
  becomeSnapshot(snapshotIndex: RaftIndex): void {
    this.resetState('snapshot')
    this.pendingSnapshot = snapshotIndex
  }

  /**
   * Records that the member's log matches up to `index` (an accepted append).
   * @returns whether matchIndex moved; a stale or duplicate answer does not move it.
   */
  maybeUpdate(index: RaftIndex): boolean {
    let updated = false
    if (this.matchIndex < index) {
      this.matchIndex = index
      updated = true
      this.probeSent = false
    }
    this.nextIndex = Math.max(this.nextIndex, index + 1)
    return updated
  }

  /** After sending entries up to `lastIndex` while replicating: the next append starts after them. */
  optimisticUpdate(lastIndex: RaftIndex): void {
    this.nextIndex = lastIndex + 1
  }

  /**
   * Moves nextIndex back after the member rejected the append whose previous index was
   * `rejected`; `hint` is where the member suggests trying next (fast back-tracking, §5.3).
   * @returns false when the rejection is stale (answers an append we no longer wait for).
   */
  maybeDecrTo(rejected: RaftIndex, hint: RaftIndex): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.matchIndex) return false
      this.nextIndex = this.matchIndex + 1
      return true
    }
    if (this.nextIndex - 1 !== rejected) return false
    this.nextIndex = Math.max(Math.min(rejected, hint + 1), this.matchIndex + 1, 1)
    this.probeSent = false
    return true
  }

  /** In `probe` state: an append went out in heartbeat round `round`; the next waits for an answer. */
  markProbeSent(round: number): void {
    this.probeSent = true
    this.probeSentRound = round
  }

  /**
   * The member answered a heartbeat while the leader is in heartbeat round `round`: it is
   * alive, so a probe sent in an earlier round was probably lost and one more may go. A probe
   * sent in this round stays unanswered-but-fresh: a burst of heartbeat responses (several
   * rounds queued, or ReadIndex heartbeats) lets at most one probe go per round.
   */
  heartbeatAnswered(round: number): void {
    if (this.probeSent && this.probeSentRound < round) this.probeSent = false
  }

  /** Whether the leader must hold back appends to this member for now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent
      case 'replicate':
        return this.inflights.full()
      case 'snapshot':
        return true
    }
  }

  private resetState(state: ProgressState): void {
    this.state = state
    this.probeSent = false
    this.pendingSnapshot = 0
    this.inflights.reset()
  }
}
