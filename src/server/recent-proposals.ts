/**
 * Forwarded proposals enter the log at most once. A follower forwards a client write to the
 * leader as a 'prop' message (Raft thesis §6.2); should the network hand that message over
 * twice, the leader would append the write twice and apply it twice (a compare-and-swap, or a
 * write later overwritten, taking effect again). Every member remembers the request ids of the
 * latest entries it appended or accepted, and drops a forwarded write whose id it has seen.
 *
 * The filter works before the log, never in apply: each member applies exactly what the log
 * holds, so members cannot diverge whatever each one remembers. A duplicate older than the
 * `capacity` latest writes would pass; the transport sends each message once (a POST is never
 * retried), so this guards against a network that duplicates, not against a sender that does.
 */
import { assert } from '../lib/index.js'
import type { Entry, Message } from '../raft/index.js'
import { requestIdOf } from './proposal.js'

/** Request ids of the latest `capacity` client writes seen in the log or in accepted proposals. */
export class RecentProposals {
  private readonly seen = new Set<string>()
  /** The same ids in the order they were seen (a ring of `capacity` slots). */
  private readonly ring: (string | undefined)[]
  private next = 0

  /** @param capacity how many request ids are remembered (≥ 1). */
  constructor(readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity >= 1, 'RecentProposals capacity must be ≥ 1')
    this.ring = new Array<string | undefined>(capacity)
  }

  /** Notes the request ids of entries written to this member's log. */
  noteEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const requestId = entry.type === 'normal' ? requestIdOf(entry.data) : undefined
      if (requestId !== undefined) this.remember(requestId)
    }
  }

  /**
   * A forwarded proposal without the writes seen before (their ids are noted now, so a
   * second copy of this message is dropped as a whole).
   * @returns the message to step, or undefined when nothing is left of it.
   */
  filterForwarded(message: Message): Message | undefined {
    assert(message.type === 'prop', 'only proposals are filtered')
    const fresh = message.entries.filter((entry) => {
      const requestId = entry.type === 'normal' ? requestIdOf(entry.data) : undefined
      if (requestId === undefined) return true
      if (this.seen.has(requestId)) return false
      this.remember(requestId)
      return true
    })
    if (fresh.length === message.entries.length) return message
    return fresh.length === 0 ? undefined : { ...message, entries: fresh }
  }

  /** Whether `requestId` was seen (for tests and logs). */
  has(requestId: string): boolean {
    return this.seen.has(requestId)
  }

  private remember(requestId: string): void {
    if (this.seen.has(requestId)) return
    const evicted = this.ring[this.next]
    if (evicted !== undefined) this.seen.delete(evicted)
    this.ring[this.next] = requestId
    this.next = (this.next + 1) % this.capacity
    this.seen.add(requestId)
  }
}
