/**
 * Requests waiting for the loop: a write for its entry to be applied here, a quorum read for
 * its read point, a membership or auth change for its entry. Each waits until a deadline
 * (the scheduler's `after`), then fails with 300 `etcdserver: request timed out`. Settling is
 * idempotent: a late result for a timed-out request is dropped (the write may still have
 * happened, as with etcd's "request timed out").
 */
import { ErrorCode, V2Error } from '../../v2error/index.js'
import type { Scheduler } from '../ports.js'

/** Where an answer goes: a promise's `resolve`/`reject` fit, so does a simulated client. */
export interface Reply<T> {
  resolve(value: T): void
  reject(error: Error): void
}

interface Waiting<T> {
  readonly reply: Reply<T>
  readonly cancelTimer: () => void
}

/** A table of waiting replies keyed by request id, each with a deadline. */
export class PendingReplies<T> {
  private readonly waiting = new Map<string, Waiting<T>>()
  /** Replies that timed out since the table was made. */
  timedOut = 0

  /** @param timeoutMs after which a reply fails with 300 `etcdserver: request timed out`. */
  constructor(
    private readonly scheduler: Scheduler,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.waiting.size
  }

  has(id: string): boolean {
    return this.waiting.has(id)
  }

  /** Registers `reply` under `id`; it fails with 300 once `timeoutMs` pass unsettled. */
  add(id: string, reply: Reply<T>): void {
    const cancelTimer = this.scheduler.after(this.timeoutMs, () => {
      if (this.waiting.get(id)?.reply !== reply) return
      this.waiting.delete(id)
      this.timedOut += 1
      reply.reject(new V2Error(ErrorCode.RaftInternal, 'etcdserver: request timed out', 0))
    })
    this.waiting.set(id, { reply, cancelTimer })
  }

  resolve(id: string, value: T): void {
    this.take(id)?.resolve(value)
  }

  reject(id: string, error: Error): void {
    this.take(id)?.reject(error)
  }

  /** Fails every waiting reply with `error` (shutdown). */
  rejectAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.reject(id, error)
  }

  private take(id: string): Reply<T> | undefined {
    const waiting = this.waiting.get(id)
    if (waiting === undefined) return undefined
    this.waiting.delete(id)
    waiting.cancelTimer()
    return waiting.reply
  }
}
