/**
 * Clients waiting for their proposal to be applied, or for a linearizable read point,
 * each with a deadline. Settling is idempotent: a late result for a timed-out request is
 * dropped (the write may still have happened, as with etcd's "request timed out").
 */
import { V2Error, ErrorCode } from '../v2error/index.js'

interface Waiter<T> {
  resolve(value: T): void
  reject(error: Error): void
  timer: ReturnType<typeof setTimeout>
}

/** A table of pending promises keyed by request id. */
export class Waiters<T> {
  private readonly pending = new Map<string, Waiter<T>>()
  /** Waiters that timed out since the table was made. */
  timedOut = 0

  /** @param timeoutMs after which the waiter fails with 300 `etcdserver: request timed out`. */
  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.pending.size
  }

  has(id: string): boolean {
    return this.pending.has(id)
  }

  /** Registers `id` and returns the promise its settlement resolves. */
  wait(id: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        this.timedOut += 1
        reject(new V2Error(ErrorCode.RaftInternal, 'etcdserver: request timed out', 0))
      }, this.timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
    })
  }

  resolve(id: string, value: T): void {
    const waiter = this.take(id)
    waiter?.resolve(value)
  }

  reject(id: string, error: Error): void {
    const waiter = this.take(id)
    waiter?.reject(error)
  }

  /** Fails every waiter with `error` (shutdown). */
  rejectAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.reject(id, error)
  }

  private take(id: string): Waiter<T> | undefined {
    const waiter = this.pending.get(id)
    if (waiter === undefined) return undefined
    this.pending.delete(id)
    clearTimeout(waiter.timer)
    return waiter
  }
}
