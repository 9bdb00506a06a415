/**
 * Limits and timings of the peer transport, each with its unit and what it protects
 * (STYLE.md §5). The CLI builds the real ones from config by spreading these defaults;
 * tests shorten the timings.
 */

/** How a member sends to its peers (`PeerTransport`). */
export interface TransportSettings {
  /**
   * Messages waiting for one peer; more are dropped and counted (Raft tolerates loss, and
   * etcd drops too when its per-peer buffer is full: rafthttp "sending buffer is full").
   */
  readonly peerQueueMessagesMax: number
  /**
   * Soft bound on the entry data of one POST (bytes, UTF-8). A batch always holds at least
   * one message, so one large entry may exceed it; the receiver's `raftBodyBytesMax` must
   * leave room for that.
   */
  readonly batchBytesMax: number
  /** Largest body of one POST /raft/snapshot (bytes); the receiver must accept this much. */
  readonly snapshotChunkBytesMax: number
  /** First delay before retrying a peer after a failed POST (ms). Doubles per failure. */
  readonly backoffInitialMs: number
  /** Largest delay between retries of a failing peer (ms). */
  readonly backoffMaxMs: number
  /** Time allowed to open a TCP connection to a peer (ms); etcd's rafthttp dial timeout is 1 s. */
  readonly dialTimeoutMs: number
  /**
   * Time allowed for a peer's answer headers, and then between two pieces of its body (ms):
   * undici's `headersTimeout` and `bodyTimeout`. A peer slower than this counts as failed.
   */
  readonly requestTimeoutMs: number
  /**
   * An idle connection to a peer is closed after this (ms) unless the peer's keep-alive hint
   * says less. Keep it below the peer app's `keepAliveTimeoutMs` so the client closes first.
   */
  readonly keepAliveTimeoutMs: number
  /** TCP connections per peer: one carries the batches, the other snapshot chunks. */
  readonly connectionsPerPeer: number
}

/** Defaults for `TransportSettings`. */
export const transportDefaults: TransportSettings = {
  peerQueueMessagesMax: 4096,
  batchBytesMax: 4 * 1024 * 1024,
  snapshotChunkBytesMax: 1024 * 1024,
  backoffInitialMs: 50,
  backoffMaxMs: 2_000,
  dialTimeoutMs: 1_000,
  requestTimeoutMs: 5_000,
  keepAliveTimeoutMs: 4_000,
  connectionsPerPeer: 2,
}

/** How a member receives from its peers (`buildPeerApp`). */
export interface PeerAppSettings {
  /**
   * Largest POST /raft body (bytes). Must exceed the senders' `batchBytesMax` by the largest
   * entry a member accepts (a batch holds at least one message) plus JSON overhead: the CLI
   * raises it to `raftBodyBytesFor` the client limits, or a peer refuses a large write with
   * 413 forever and the leader resends it forever.
   */
  readonly raftBodyBytesMax: number
  /** Largest POST /raft/snapshot body (bytes): the senders' `snapshotChunkBytesMax` or more. */
  readonly snapshotChunkBytesMax: number
  /** Largest snapshot received (bytes, staged on disk); a transfer running past it is refused with 413. */
  readonly snapshotBytesMax: number
  /** Idle keep-alive connections from peers are closed after this (ms). */
  readonly keepAliveTimeoutMs: number
  /** Time allowed to receive one whole request (ms); closes stalled senders. */
  readonly requestReceiveTimeoutMs: number
}

/**
 * The smallest POST /raft body limit (bytes) that still admits any write a member accepts:
 * a batch holds up to `batchBytesMax` bytes of entry data (at most doubled by the batch's
 * JSON: the entry's own JSON escapes stay, its quotes and backslashes gain one) plus one
 * entry of any size. A client's request is escaped twice on its way: its bytes become JSON
 * inside the entry, and the entry becomes a JSON string inside the batch, so one byte of the
 * request grows to at most 7 (a control character: `\u0001`, then `\\u0001`). Up to 4 MiB
 * more covers the messages' other fields.
 * @param requestBytesMax the largest client request a member accepts (body and headers).
 */
export function raftBodyBytesFor(requestBytesMax: number, batchBytesMax: number): number {
  return 2 * batchBytesMax + 7 * requestBytesMax + 4 * 1024 * 1024
}

/** Defaults for `PeerAppSettings`. */
export const peerAppDefaults: PeerAppSettings = {
  raftBodyBytesMax: 64 * 1024 * 1024,
  snapshotChunkBytesMax: 1024 * 1024,
  snapshotBytesMax: 64 * 1024 * 1024 * 1024,
  keepAliveTimeoutMs: 5_000,
  requestReceiveTimeoutMs: 30_000,
}
