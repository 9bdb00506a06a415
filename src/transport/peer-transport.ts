/**
 * The sending side of the transport: Raft messages from the member loop to its peers over
 * HTTP (one `Peer` per remote member). Implements the server's `PeerSender` port
 * structurally (server/ports.ts): `send` never blocks and never fails; what cannot be sent
 * is dropped, counted, and reported to Raft later through `reportUnreachable` (etcd
 * rafthttp does the same: transport.go, peer.go, pipeline.go).
 */
import { performance } from 'node:perf_hooks'
import { assert } from '../lib/index.js'
import type { Logger, MemberId, Message } from '../raft/index.js'
import { Peer } from './peer.js'
import type { PeerStats } from './peer-stats.js'
import type { TransportSettings } from './settings.js'
import type { DialTls } from './dial.js'
import { isWireType } from './wire.js'
import { bytesSource, type SnapshotSource } from './snapshot-sender.js'

/** How to build a `PeerTransport`. */
export interface PeerTransportOptions {
  /** etcd cluster ID (hex), sent with every request; peers of other clusters refuse us. */
  readonly clusterId: string
  /** This member's id (hex): the sender of every batch. */
  readonly memberId: MemberId
  readonly settings: TransportSettings
  readonly logger: Logger
  /**
   * A batch to `memberId` failed, or messages to it were dropped (RawNode.reportUnreachable).
   * Called from timers and I/O callbacks, never from inside `send`.
   */
  readonly reportUnreachable: (memberId: MemberId) => void
  /** A peer said this member was removed from the cluster (410). */
  readonly reportRemoved?: () => void
  /** A snapshot transfer to `memberId` ended: delivered (`ok`) or failed (RawNode.reportSnapshot). */
  readonly reportSnapshot: (memberId: MemberId, ok: boolean) => void
  /** A batch POST to `memberId` was answered after `roundTripMs` (for metrics; must not throw). */
  readonly reportRoundTrip?: (memberId: MemberId, roundTripMs: number) => void
  /**
   * TLS options (this member's certificate and key, the peers' CA) for `https://` peer URLs,
   * asked at each new connection so that a reloaded certificate is used from then on.
   * Undefined: undici's defaults (the system's CAs, no client certificate).
   */
  readonly dialTls?: DialTls
}

/** Sends Raft messages to the other members of the cluster. */
export class PeerTransport {
  private readonly peers = new Map<MemberId, Peer>()
  private readonly warnedUnknown = new Set<MemberId>()
  private stopped = false

  constructor(private readonly options: PeerTransportOptions) {}

  /**
   * Hands `messages` to their peers' queues and returns at once (to be called after the
   * Ready that produced them is durable: Raft Figure 2). Everything sent to one peer in
   * one event-loop turn leaves in one POST; a peer's messages arrive in the order sent,
   * or not at all. 'snap' messages travel in chunks beside the batches, their data taken
   * from the message (a member streams its state with `sendSnapshot` instead). Messages to
   * a member that is not a peer (never added, or removed) are dropped and logged.
   */
  send(messages: readonly Message[]): void {
    if (this.stopped) return
    for (const message of messages) {
      assert(isWireType(message.type), `send: ${message.type} is a local message type`)
      assert(message.to !== this.options.memberId, 'send: a member never sends to itself')
      const peer = this.peers.get(message.to)
      if (peer === undefined) this.unknownPeer(message)
      else if (message.type === 'snap') peer.sendSnapshot(message, bytesSource(message.snapshot?.data ?? new Uint8Array(0), this.options.settings.snapshotChunkBytesMax))
      else peer.enqueue(message)
    }
  }

  /**
   * Sends the 'snap' `message` in chunks, its data pulled from `source` piece by piece (a
   * member's state, read in bounded chunks); `source` is closed once the transfer ends, or at
   * once when the message cannot be sent. Returns at once; the outcome is reported through
   * `reportSnapshot`.
   */
  sendSnapshot(message: Message, source: SnapshotSource): void {
    assert(message.type === 'snap', 'sendSnapshot: not a snap message')
    const peer = this.stopped ? undefined : this.peers.get(message.to)
    if (peer === undefined) {
      source.close()
      if (!this.stopped) this.unknownPeer(message)
      return
    }
    peer.sendSnapshot(message, source)
  }

  /**
   * Starts sending to `memberId` at `peerUrls` (absolute http or https URLs; at least one).
   * Adding a known peer updates its URLs; adding this member itself does nothing, so the
   * whole member list may be passed in. Ignored after `stop`.
   * @throws RangeError when `peerUrls` is empty or holds a URL that is not http(s).
   */
  addPeer(memberId: MemberId, peerUrls: readonly string[]): void {
    if (this.stopped || memberId === this.options.memberId) return
    const known = this.peers.get(memberId)
    if (known !== undefined) {
      known.updateUrls(peerUrls)
      return
    }
    const { clusterId, settings, logger, reportUnreachable, reportSnapshot } = this.options
    const reportRemoved = (): void => this.options.reportRemoved?.()
    const reportRoundTrip = this.options.reportRoundTrip ?? ((): void => {})
    const { dialTls } = this.options
    const context = {
      clusterId,
      memberId: this.options.memberId,
      settings,
      logger,
      reportUnreachable,
      reportSnapshot,
      reportRemoved,
      reportRoundTrip,
      monotonicNowMs: () => performance.now(),
      ...(dialTls === undefined ? {} : { dialTls }),
    }
    this.peers.set(memberId, new Peer(memberId, peerUrls, context))
    this.warnedUnknown.delete(memberId)
    logger.info({ memberId, peerUrls }, 'peer added')
  }

  /**
   * Sends to `memberId` at `peerUrls` from now on (a member's peer URLs changed through
   * /v2/members). A POST in flight finishes on the old connection. Unknown → added.
   * @throws RangeError as `addPeer`.
   */
  updatePeer(memberId: MemberId, peerUrls: readonly string[]): void {
    if (this.stopped || memberId === this.options.memberId) return
    const known = this.peers.get(memberId)
    if (known === undefined) {
      this.addPeer(memberId, peerUrls)
      return
    }
    known.updateUrls(peerUrls)
    this.options.logger.info({ memberId, peerUrls }, 'peer updated')
  }

  /**
   * Stops sending to `memberId`: its queue is discarded and its requests aborted, without
   * reports. Later messages to it are dropped. Resolves once its connections are closed.
   */
  removePeer(memberId: MemberId): Promise<void> {
    const peer = this.peers.get(memberId)
    if (peer === undefined) return Promise.resolve()
    this.peers.delete(memberId)
    this.options.logger.info({ memberId }, 'peer removed')
    return peer.stop()
  }

  /** Whether `memberId` is a peer. */
  hasPeer(memberId: MemberId): boolean {
    return this.peers.has(memberId)
  }

  /** The peers' ids and URLs, in the order they were added. */
  peerList(): { memberId: MemberId; peerUrls: readonly string[] }[] {
    return [...this.peers.values()].map((peer) => ({ memberId: peer.memberId, peerUrls: peer.urls }))
  }

  /** Counters per peer, for `/v2/stats/leader` (etcd's `followers`) and metrics. */
  stats(): Record<MemberId, PeerStats> {
    const result: Record<MemberId, PeerStats> = {}
    for (const [memberId, peer] of this.peers) result[memberId] = peer.stats()
    return result
  }

  /**
   * Resolves once every message queued before the call has been settled: delivered, or
   * lost with a failed POST and counted. Snapshot transfers are not waited for.
   */
  async flushed(): Promise<void> {
    await Promise.all([...this.peers.values()].map((peer) => peer.flushed()))
  }

  /**
   * Stops every peer: queues discarded, requests aborted, timers cleared, sockets closed; no
   * callback runs afterwards and `send` does nothing. Resolves when all sockets are closed.
   */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const peers = [...this.peers.values()]
    this.peers.clear()
    await Promise.all(peers.map((peer) => peer.stop()))
  }

  private unknownPeer(message: Message): void {
    if (this.warnedUnknown.has(message.to)) return
    this.warnedUnknown.add(message.to)
    this.options.logger.warn({ to: message.to, type: message.type }, 'message dropped: unknown peer')
  }
}
