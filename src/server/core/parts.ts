/**
 * What the member core is built from, and the state its parts share. Every port is
 * injected: the CLI wires SQLite storage, the HTTP transport and Node's clock and timers
 * (through the shell, member.ts); the simulator wires in-memory ones and a simulated clock.
 */
import type { Clock } from '../../lib/index.js'
import type { Logger, RawNode } from '../../raft/index.js'
import type { Store } from '../../store/index.js'
import type { AuthStore } from '../../auth/index.js'
import type { MemberStorage, PeerSender, Scheduler } from '../ports.js'

/** Settings of the member loop; every one comes from config. */
export interface MemberSettings {
  readonly memberId: string
  readonly clusterId: string
  readonly name: string
  /** One Raft tick (ms); etcd's --heartbeat-interval. */
  readonly heartbeatIntervalMs: number
  /** How long a write or quorum read waits before 300 `request timed out` (ms). */
  readonly requestTimeoutMs: number
  /** Proposals waiting to be applied on this member before 300 `too many requests`. */
  readonly pendingProposalsMax: number
  /** Log entries kept behind the applied index for slow followers (etcd --snapshot-count). */
  readonly snapshotCount: number
  /** How often the leader looks for expired TTLs (ms); etcd sweeps every 500 ms. */
  readonly syncIntervalMs: number
  /**
   * Keys one sync entry expires at most: bounds the work of one apply. While more are due,
   * the leader proposes the next sweep as soon as the previous one is applied.
   */
  readonly expireKeysPerEntry: number
  /** This member's advertised client URLs, published to the cluster once a leader is known. */
  readonly clientUrls: readonly string[]
}

/** The ports and settings of one member core. */
export interface CoreParts {
  readonly raft: RawNode
  readonly store: Store
  /** The v2 auth state, changed by applied auth entries. */
  readonly auth: AuthStore
  readonly storage: MemberStorage
  readonly peers: PeerSender
  readonly clock: Clock
  readonly scheduler: Scheduler
  readonly logger: Logger
  readonly settings: MemberSettings
}

/** etcd's names for a member's Raft role, as `/v2/stats/self` reports it. */
export type RoleName = 'StateLeader' | 'StateFollower' | 'StateCandidate' | 'StatePreCandidate'

/**
 * What the parts of the core share: how far this member applied the log, and what it knows
 * of the leader. Written by the turn (applied index) and by Raft's soft state; read by all.
 */
export class CoreState {
  /** Raft index of the last entry applied to the store. */
  appliedIndex: number
  /** The leader's member id, '' while none is known. */
  leaderId = ''
  /** When the current leader became known (ms, the injected clock). */
  leaderSinceMs: number
  role: RoleName = 'StateFollower'
  /** Times a leader other than the last one known became known. */
  leaderChanges = 0
  /** Set by stop(): no new requests, no more turns. */
  stopped = false
  private requestCounter = 0
  private readonly requestIdPrefix: string
  private readonly leaderCallbacks: (() => void)[] = []

  constructor(memberId: string, startTimeMs: number, appliedIndex: number) {
    this.appliedIndex = appliedIndex
    this.leaderSinceMs = startTimeMs
    // Request ids never repeat, across restarts too: member id, start time, counter.
    this.requestIdPrefix = `${memberId}.${startTimeMs.toString(36)}.`
  }

  get isLeader(): boolean {
    return this.role === 'StateLeader'
  }

  /** Records a new leader (`''`: none known), known since `nowMs`, and tells the listeners. */
  setLeader(leaderId: string, nowMs: number): void {
    if (leaderId !== '') this.leaderChanges += 1
    this.leaderId = leaderId
    this.leaderSinceMs = nowMs
    for (const callback of this.leaderCallbacks) callback()
  }

  onLeaderChange(callback: () => void): void {
    this.leaderCallbacks.push(callback)
  }

  /** A request id unique to this member's lifetime and across its restarts. */
  nextRequestId(): string {
    this.requestCounter += 1
    return this.requestIdPrefix + this.requestCounter.toString(36)
  }

  /** The request counter, for ids that need another unique suffix (new member ids). */
  get requestsMade(): number {
    return this.requestCounter
  }
}
