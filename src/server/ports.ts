/**
 * What the member loop needs from storage and transport, as interfaces: the server never
 * imports those modules (ARCHITECTURE.md, layer 3). The CLI wires the real ones; tests and
 * the simulator wire in-memory ones.
 */
import type { LogStore, Message, RaftIndex } from '../raft/index.js'

/** A cluster member as `/v2/members` lists it (etcd membership.Member). */
export interface MemberInfo {
  /** etcd member ID: lower-case hex, no padding. */
  readonly id: string
  /** '' until the member has started and published its name. */
  readonly name: string
  readonly peerUrls: readonly string[]
  readonly clientUrls: readonly string[]
}

/** The member's durable state: the Raft log, the applied index, the membership. */
export interface MemberStorage {
  readonly log: LogStore
  /**
   * Runs `fn` in one SQLite transaction; nested calls join it. `durable` (default): its
   * commit waits for the disk (one fsync). Otherwise it is atomic and survives a process
   * crash, but a power cut may lose it (with every later commit): only for what the durable
   * log rebuilds, such as applying committed entries.
   */
  transaction<T>(fn: () => T, durable?: boolean): T
  /** Index of the last log entry applied to the store (0 on a new member). */
  appliedIndex(): RaftIndex
  setAppliedIndex(index: RaftIndex): void
  /** Members of the cluster, ascending by numeric id. */
  members(): MemberInfo[]
  upsertMember(member: MemberInfo): void
  removeMember(id: string): void
  /** True for an id removed from the cluster earlier (etcd answers 410 for it). */
  isRemoved(id: string): boolean
  /** A consistent copy of the applied state (tree, history, applied index, members), for InstallSnapshot. */
  exportState(): Uint8Array
  /** Replaces the applied state by a copy from `exportState` (on a follower that fell behind). */
  importState(data: Uint8Array): void
}

/** Sends Raft messages to peers. Never blocks; a full queue drops and reports (Raft tolerates loss). */
export interface PeerSender {
  send(messages: readonly Message[]): void
  /** The cluster's members changed: reach exactly these (the sender skips itself). */
  setPeers?(members: readonly MemberInfo[]): void
  /** Per-peer delivery counters and round-trip latency (ms), for `/v2/stats/leader`. */
  stats?(): Record<string, PeerDeliveryStats>
}

/** What the transport measured of one peer. Latencies in ms; all 0 before the first answer. */
export interface PeerDeliveryStats {
  readonly success: number
  readonly fail: number
  readonly latencyMs: {
    readonly current: number
    readonly average: number
    readonly standardDeviation: number
    readonly minimum: number
    readonly maximum: number
  }
}
