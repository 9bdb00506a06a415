/**
 * Linearizable reads (`quorum=true`) through ReadIndex (Raft thesis §6.4; ARCHITECTURE
 * decision 5): the read asks Raft for a read point (the leader's commit index, confirmed by
 * a heartbeat round with a quorum), then waits until this member applied up to it. Only then
 * may the local store answer. No log entry is written.
 */
import { assert } from '../../lib/index.js'
import type { ReadState } from '../../raft/index.js'
import { PendingReplies, type Reply } from './pending.js'
import type { CoreParts, CoreState } from './parts.js'

export class QuorumReads {
  /** Reads by context, each answered with its read point (a Raft index). */
  private readonly replies: PendingReplies<number>
  /** Read points Raft confirmed, waiting for the applied index to reach them. */
  private readonly confirmed: ReadState[] = []

  constructor(
    private readonly parts: CoreParts,
    private readonly state: CoreState,
    private readonly requestTurn: () => void,
  ) {
    this.replies = new PendingReplies(parts.scheduler, parts.settings.requestTimeoutMs)
  }

  /** Asks for a read point; `reply` gets it once this member applied up to it, or 300 at the deadline. */
  request(reply: Reply<number>): void {
    const context = this.state.nextRequestId()
    this.replies.add(context, reply)
    this.parts.raft.readIndex(context)
    this.requestTurn()
  }

  /** Read points Raft handed out in a turn. */
  noteConfirmed(readStates: readonly ReadState[]): void {
    for (const readState of readStates) this.confirmed.push(readState)
  }

  /** Answers every read whose read point is applied. */
  release(): void {
    for (let i = this.confirmed.length - 1; i >= 0; i--) {
      const read = this.confirmed[i]
      assert(read !== undefined)
      if (read.index > this.state.appliedIndex) continue
      this.confirmed.splice(i, 1)
      this.replies.resolve(read.context, read.index)
    }
  }

  rejectAll(error: Error): void {
    this.replies.rejectAll(error)
  }
}
