/**
 * What the HTTP layer may ask of a member. http imports only these types; the member loop
 * (member.ts) implements them.
 */
import type { Event, GetOptions, HistoryRecord, StoreRequest, StoreStats, WatchStart } from '../store/index.js'
import type { MemberInfo } from './ports.js'
import type { AuthCommand, AuthResult, AuthStore } from '../auth/index.js'

/** `/v2/stats/self` (spec §12.3), in etcd's field order. */
export interface SelfStats {
  name: string
  id: string
  state: 'StateLeader' | 'StateFollower' | 'StateCandidate' | 'StatePreCandidate'
  startTime: string
  leaderInfo: { leader: string; uptime: string; startTime: string }
  recvAppendRequestCnt: number
  sendAppendRequestCnt: number
}

/** `/v2/stats/leader` (spec §12.3). */
export interface LeaderStats {
  leader: string
  followers: Record<
    string,
    {
      latency: { current: number; average: number; standardDeviation: number; minimum: number; maximum: number }
      counts: { fail: number; success: number }
    }
  >
}

/**
 * Counters of the member loop since start, for `/metrics`: how many turns ran, how many of
 * them waited for the disk (a turn that persists entries, a snapshot, a term or a vote), and
 * how far the log and the store got (Raft indexes).
 */
export interface LoopStats {
  turns: number
  durableTurns: number
  commitIndex: number
  appliedIndex: number
  /** Writes waiting to be applied on this member. */
  pendingWrites: number
  /** Writes made while no leader was known, held until one is (timed-out ones may linger until the next such write). */
  writesAwaitingLeader: number
  /** Times a leader other than the last one known became known (etcd counts the same way: '' → A → '' → A is two). */
  leaderChanges: number
  /** Writes that failed without being applied: timed out, or refused for too many pending (etcd's failed proposals). */
  proposalsFailed: number
}

/** The member as the HTTP layer sees it. Errors are V2Errors (etcd codes). */
export interface MemberApi {
  /** etcd member ID (hex). */
  readonly memberId: string
  /** etcd cluster ID (hex), sent as `X-Etcd-Cluster-Id`. */
  readonly clusterId: string
  /** The member's clock in ms (for TTL bounds at the request edge). */
  nowMs(): number
  /** The store's current etcd index (`X-Etcd-Index`). */
  etcdIndex(): number
  /** Raft commit index and term (`X-Raft-Index`, `X-Raft-Term`). */
  raftIndex(): number
  raftTerm(): number
  /** A local read (possibly stale on a follower). @throws V2Error 100, 104 */
  get(key: string, options: GetOptions): Event
  /** A linearizable read through ReadIndex (Raft thesis §6.4). @throws V2Error 100, 104, 300 */
  quorumGet(key: string, options: GetOptions): Promise<Event>
  /** Proposes a write and resolves with its applied event. @throws V2Error 1xx from the store, 300 */
  write(request: StoreRequest): Promise<Event>
  /** The v2 auth state as applied on this member (read for the per-request check). */
  readonly auth: AuthStore
  /** Proposes a v2 auth change. @throws AuthError (etcd's answer), V2Error 300 */
  authChange(command: AuthCommand): Promise<AuthResult>
  /** Registers a watch (spec §11). @throws V2Error 401, 300 (too many watchers) */
  watch(
    key: string,
    options: { recursive: boolean; stream: boolean; sinceIndex: number },
    onEvent: (record: HistoryRecord) => boolean,
  ): WatchStart
  storeStats(): StoreStats
  selfStats(): SelfStats
  loopStats(): LoopStats
  /** undefined when this member is not the leader (etcd answers 403). */
  leaderStats(): LeaderStats | undefined
  members(): MemberInfo[]
  /** The leader's member record, or undefined while there is none. */
  leader(): MemberInfo | undefined
  /** True while the member knows a leader (etcd's /health). */
  healthy(): boolean
  /** etcd's POST /v2/members. @throws MembershipError */
  addMember(peerUrls: readonly string[]): Promise<MemberInfo>
  /** etcd's DELETE /v2/members/<id>. @throws MembershipError */
  removeMember(id: string): Promise<MemberInfo>
  /** etcd's PUT /v2/members/<id>. @throws MembershipError */
  updateMember(id: string, peerUrls: readonly string[]): Promise<MemberInfo>
  /** Registers a callback run when the member stops (to end open watches). */
  onStop(callback: () => void): void
}
