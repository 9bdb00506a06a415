/**
 * TTL expiry through the log (ARCHITECTURE decision 2): only the leader decides that keys
 * expired, by proposing a sweep entry that carries its clock; every member applies it alike.
 * One sweep at a time, each expiring at most `expireKeysPerEntry` keys; while keys are still
 * due, the next is proposed as soon as this member applied the previous one.
 */
import { ProposalDroppedError } from '../../raft/index.js'
import { encodeExpire } from '../proposal.js'
import type { CoreParts, CoreState } from './parts.js'

export class ExpirySweeps {
  /** When the sweep in flight was proposed (ms); undefined when none is. */
  private inFlightSinceMs: number | undefined

  constructor(
    private readonly parts: CoreParts,
    private readonly state: CoreState,
    private readonly requestTurn: () => void,
  ) {}

  /**
   * On the leader, proposes a sweep when the earliest TTL is due and no sweep is in flight
   * (one that was not applied within `requestTimeoutMs` is taken as lost).
   */
  maybePropose(): void {
    if (!this.state.isLeader || this.state.stopped) return
    const { clock, store, settings, raft } = this.parts
    const nowMs = clock.nowMs()
    const dueMs = store.earliestExpirationMs()
    if (dueMs === undefined || dueMs > nowMs) return
    const inFlight = this.inFlightSinceMs
    if (inFlight !== undefined && nowMs - inFlight < settings.requestTimeoutMs) return
    this.inFlightSinceMs = nowMs
    try {
      raft.propose(encodeExpire(nowMs, settings.expireKeysPerEntry))
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      this.inFlightSinceMs = undefined
    }
    this.requestTurn()
  }

  /**
   * A sweep was applied here. Keys may still be due (more than one entry expires): look again
   * once the turn is over, so that other work runs between two sweeps.
   */
  applied(): void {
    this.inFlightSinceMs = undefined
    if (this.state.isLeader) this.parts.scheduler.soon(() => this.maybePropose())
  }
}
