/**
 * Linearizable reads without log entries: the ReadIndex protocol (Ongaro thesis §6.4).
 * The leader records its commit index as the read point, then confirms that it still leads
 * with a round of heartbeats carrying the request's context; once a quorum answered, every
 * request queued up to that one is released. Modelled on etcd raft's read_only.go.
 */
import { assert } from '../lib/index.js'
import type { MemberId, RaftIndex } from './types.js'

/** A read waiting for its heartbeat round. `from` is '' for the leader's own request. */
export interface PendingRead {
  readonly index: RaftIndex
  readonly context: string
  readonly from: MemberId
  readonly acks: Set<MemberId>
}

/** Reads in the order they arrived; contexts are unique (the application's request ids). */
export class ReadOnly {
  private queue: PendingRead[] = []

  /** Queues a read at `index` (the leader's commit index) unless `context` is already queued. */
  addRequest(index: RaftIndex, context: string, from: MemberId): void {
    if (this.queue.some((read) => read.context === context)) return
    this.queue.push({ index, context, from, acks: new Set() })
  }

  /**
   * Records that `member` answered the heartbeat carrying `context`.
   * @returns the number of members that confirmed it, or 0 when `context` is unknown.
   */
  recvAck(member: MemberId, context: string): number {
    const read = this.queue.find((r) => r.context === context)
    if (read === undefined) return 0
    read.acks.add(member)
    return read.acks.size
  }

  /** Removes and returns the reads queued up to and including `context`, oldest first. */
  advance(context: string): PendingRead[] {
    const position = this.queue.findIndex((r) => r.context === context)
    assert(position >= 0, 'readOnly.advance: unknown context')
    const released = this.queue.slice(0, position + 1)
    this.queue = this.queue.slice(position + 1)
    return released
  }

  /** Context of the newest queued read, or '' when none: heartbeats carry it. */
  lastPendingContext(): string {
    return this.queue[this.queue.length - 1]?.context ?? ''
  }

  reset(): void {
    this.queue = []
  }
}
