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
  /**
   * Opens a consistent read of the applied state (tree, history, applied index, members) as
   * committed now, for InstallSnapshot: read in bounded chunks, held open until closed.
   */
  openStateReader(): StateReader
  /**
   * Replaces the applied state by a leader's, on a follower that fell behind, inside the
   * turn's transaction. `data` is what the transport delivered as the snapshot's data: a
   * token naming the copy it staged chunk by chunk.
   */
  importState(data: Uint8Array): void
}

/**
 * The applied state as it stood at one index, in chunks of bounded size (the transport's
 * `SnapshotSource` has this shape). Whoever is handed one closes it.
 */
export interface StateReader {
  /** Raft index of the last entry applied to the state being read. */
  readonly appliedIndex: RaftIndex
  /** The next chunk, or `undefined` after the last. Synchronous and bounded. */
  next(): Uint8Array | undefined
  /** Ends the read (idempotent). */
  close(): void
}

/** Sends Raft messages to peers. Never blocks; a full queue drops and reports (Raft tolerates loss). */
export interface PeerSender {
  send(messages: readonly Message[]): void
  /**
   * Sends the 'snap' `message` with its data pulled from `state`, chunk by chunk; closes
   * `state` when the transfer ends (or at once if it cannot start). Reports the outcome to
   * the member later (`reportSnapshot`).
   */
  sendSnapshot(message: Message, state: StateReader): void
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

/**
 * How the member core is scheduled: it never calls `setImmediate` or `setTimeout` itself.
 * The shell (member.ts) binds this to Node's timers; the simulator to its simulated clock and
 * step order, so a run is fixed by its seed.
 */
export interface Scheduler {
  /** Runs `fn` after the work under way, before any timer (the shell: `setImmediate`). */
  soon(fn: () => void): void
  /**
   * Runs `fn` once `delayMs` ms have passed (the shell: `setTimeout`).
   * @returns a function that cancels it (harmless after it ran).
   */
  after(delayMs: number, fn: () => void): () => void
}
