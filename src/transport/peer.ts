/**
 * The sending side of one peer: a bounded queue, one batch POST in flight at a time, an
 * exponential backoff after failures, snapshot transfers beside the batches, counters.
 *
 * Nothing here waits on the caller's behalf: `enqueue` and `sendSnapshot` return at once,
 * and the callbacks to the member (`reportUnreachable`, `reportSnapshot`) run later, from
 * timers and I/O callbacks, never from inside a `send` call, so the member loop is never
 * re-entered while it holds a Ready (STYLE.md §4). Messages in a failed batch are lost, as
 * etcd's rafthttp pipeline loses them; Raft retransmits (§5.3).
 */
import { Buffer } from 'node:buffer'
import { randomUUID } from 'node:crypto'
import { Pool } from 'undici'
import { assert, BoundedQueue } from '../lib/index.js'
import { entryDataBytes, type Logger, type MemberId, type Message } from '../raft/index.js'
import { LatencyRecorder, type PeerStats } from './peer-stats.js'
import type { TransportSettings } from './settings.js'
import { sendSnapshotChunks, type SnapshotSource } from './snapshot-sender.js'
import { connectorOf, type DialTls } from './dial.js'
import { encodeBatch, peerHeaders, peerPaths, wireVersion } from './wire.js'

/** What every peer of one transport shares: who we are, the settings, the member's callbacks. */
export interface PeerContext {
  readonly clusterId: string
  /** This member (the sender). */
  readonly memberId: MemberId
  readonly settings: TransportSettings
  readonly logger: Logger
  readonly reportUnreachable: (memberId: MemberId) => void
  readonly reportSnapshot: (memberId: MemberId, ok: boolean) => void
  /** A peer answered 410: this member was removed from the cluster (etcd then stops). */
  readonly reportRemoved: () => void
  /** A batch POST was answered after `roundTripMs` (metrics). */
  readonly reportRoundTrip: (memberId: MemberId, roundTripMs: number) => void
  /** A monotonic clock for round trips (ms). */
  readonly monotonicNowMs: () => number
  /** TLS options for `https://` peer URLs, asked at each new connection; undefined: undici's defaults. */
  readonly dialTls?: DialTls
}

/** A peer answered something other than 204. */
export class PeerRefusal extends Error {
  override readonly name = 'PeerRefusal'
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(`peer answered ${statusCode}: ${body}`)
  }
}

/**
 * The delay before the next attempt after one more failure: `backoffInitialMs` after the
 * first, then doubled, never above `backoffMaxMs` (ms).
 */
export function nextBackoffMs(previousMs: number, settings: Pick<TransportSettings, 'backoffInitialMs' | 'backoffMaxMs'>): number {
  if (previousMs <= 0) return Math.min(settings.backoffInitialMs, settings.backoffMaxMs)
  return Math.min(previousMs * 2, settings.backoffMaxMs)
}

/** Bytes a message counts against `batchBytesMax`: its entries' data and its context (UTF-8). */
function messageBytes(message: Message): number {
  let bytes = Buffer.byteLength(message.context)
  for (const entry of message.entries) bytes += entryDataBytes(entry)
  return bytes
}

type Counters = { success: number; fail: number; dropped: number; batches: number; bytes: number; snapshotsSent: number; snapshotsFailed: number }

/** One remote member, as this member sends to it. */
export class Peer {
  private readonly queue: BoundedQueue<Message>
  private readonly latency = new LatencyRecorder()
  private readonly counters: Counters = { success: 0, fail: 0, dropped: 0, batches: 0, bytes: 0, snapshotsSent: 0, snapshotsFailed: 0 }
  private peerUrls: readonly string[]
  private urlIndex = 0
  private pool: Pool | undefined
  /** Pools being closed gracefully (after a URL change); destroyed by `stop`. */
  private readonly closingPools = new Set<Pool>()
  private batchInFlight = false
  private snapshotInFlight = false
  private flushHandle: ReturnType<typeof setImmediate> | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private dropReportHandle: ReturnType<typeof setImmediate> | undefined
  private backoffMs = 0
  private active = true
  private stopped = false
  /** Messages ever queued, and ever settled (in a batch that succeeded or failed): FIFO. */
  private queuedTotal = 0
  private settledTotal = 0
  private readonly flushWaiters: { readonly target: number; readonly resolve: () => void }[] = []

  /**
   * @param memberId the remote member.
   * @param peerUrls its peer URLs (`--initial-advertise-peer-urls`); at least one. The
   *                 first is used until it fails, then the next, round robin.
   */
  constructor(
    readonly memberId: MemberId,
    peerUrls: readonly string[],
    private readonly context: PeerContext,
  ) {
    this.peerUrls = checkedUrls(peerUrls)
    this.queue = new BoundedQueue(context.settings.peerQueueMessagesMax)
  }

  /** The URLs this peer is reached at. */
  get urls(): readonly string[] {
    return this.peerUrls
  }

  /** Queues `message` for the next batch, or drops and counts it when the queue is full. */
  enqueue(message: Message): void {
    if (this.stopped) return
    if (this.queue.push(message)) {
      this.queuedTotal += 1
      this.scheduleFlush()
      return
    }
    this.counters.dropped += 1
    this.scheduleDropReport()
  }

  /**
   * Starts sending a 'snap' message in chunks, its data pulled from `source` (closed when the
   * transfer ends, however it ends). While a transfer to this peer is under way, another one
   * is dropped without a report (its source closed): Raft is still waiting for the first one's.
   */
  sendSnapshot(message: Message, source: SnapshotSource): void {
    assert(message.type === 'snap', 'sendSnapshot: not a snap message')
    assert(message.snapshot !== undefined, 'sendSnapshot: the server must fill the snapshot')
    if (this.stopped) {
      source.close()
      return
    }
    if (this.snapshotInFlight) {
      source.close()
      this.context.logger.warn({ memberId: this.memberId, index: message.snapshot?.metadata.index }, 'snapshot dropped: a transfer is under way')
      return
    }
    this.snapshotInFlight = true
    const { settings } = this.context
    const transferId = randomUUID()
    const post = (path: string, headers: Record<string, string>, body: Uint8Array) => this.post(path, headers, body)
    sendSnapshotChunks(message, source, transferId, settings.snapshotChunkBytesMax, post).then(
      (bytes) => this.snapshotDelivered(message, bytes),
      (error: unknown) => this.snapshotFailed(message, error),
    )
  }

  /** Uses `peerUrls` from now on; a request in flight finishes on the old connection. */
  updateUrls(peerUrls: readonly string[]): void {
    this.peerUrls = checkedUrls(peerUrls)
    this.urlIndex = 0
    this.retirePool()
  }

  /** Resolves once every message queued before the call is settled (sent, or failed and counted). */
  flushed(): Promise<void> {
    if (this.stopped || this.settledTotal >= this.queuedTotal) return Promise.resolve()
    return new Promise((resolve) => this.flushWaiters.push({ target: this.queuedTotal, resolve }))
  }

  stats(): PeerStats {
    return { ...this.counters, queued: this.queue.length, backoffMs: this.backoffMs, latencyMs: this.latency.snapshot() }
  }

  /**
   * Stops for good: queued messages are discarded, requests in flight aborted, timers
   * cleared, connections closed; no callback runs afterwards. Resolves once the sockets are closed.
   */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.flushHandle !== undefined) clearImmediate(this.flushHandle)
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    if (this.dropReportHandle !== undefined) clearImmediate(this.dropReportHandle)
    this.flushHandle = undefined
    this.retryTimer = undefined
    this.dropReportHandle = undefined
    this.queue.drain()
    for (const waiter of this.flushWaiters.splice(0)) waiter.resolve()
    const pools = [...this.closingPools]
    if (this.pool !== undefined) pools.push(this.pool)
    this.pool = undefined
    await Promise.all(pools.map((pool) => pool.destroy()))
  }

  // ---- batches ------------------------------------------------------------------------------

  /** Posts the queue in the next event-loop turn, unless a POST is in flight or we back off. */
  private scheduleFlush(): void {
    if (this.stopped || this.batchInFlight || this.flushHandle !== undefined || this.retryTimer !== undefined) return
    if (this.queue.length === 0) return
    this.flushHandle = setImmediate(() => {
      this.flushHandle = undefined
      this.postBatch()
    })
  }

  /** Takes the queue (up to `batchBytesMax`) and posts it as one batch. */
  private postBatch(): void {
    if (this.stopped || this.batchInFlight) return
    const taken = this.takeBatch()
    if (taken.length === 0) return
    const messages = newestHeartbeatsOnly(taken)
    const { clusterId, memberId, monotonicNowMs } = this.context
    const body = Buffer.from(encodeBatch({ version: wireVersion, clusterId, from: memberId, to: this.memberId, messages }), 'utf8')
    this.batchInFlight = true
    const startMs = monotonicNowMs()
    this.post(peerPaths.raft, { 'content-type': 'application/json' }, body).then(
      () => this.batchDelivered(taken.length, body.byteLength, monotonicNowMs() - startMs),
      (error: unknown) => this.batchFailed(taken.length, error),
    )
  }

  /** Oldest first, stopping once `batchBytesMax` is reached; always at least one message. */
  private takeBatch(): Message[] {
    const messages: Message[] = []
    let bytes = 0
    while (bytes < this.context.settings.batchBytesMax) {
      const message = this.queue.shift()
      if (message === undefined) break
      messages.push(message)
      bytes += messageBytes(message)
    }
    return messages
  }

  private batchDelivered(count: number, bytes: number, roundTripMs: number): void {
    this.batchInFlight = false
    this.counters.success += count
    this.counters.batches += 1
    this.counters.bytes += bytes
    this.latency.record(roundTripMs)
    this.context.reportRoundTrip(this.memberId, roundTripMs)
    this.settle(count)
    if (this.stopped) return
    this.backoffMs = 0
    this.markActive()
    this.scheduleFlush()
  }

  private batchFailed(count: number, error: unknown): void {
    this.batchInFlight = false
    this.counters.fail += count
    this.settle(count)
    if (this.stopped) return
    if (error instanceof PeerRefusal && error.statusCode === 410) this.context.reportRemoved()
    this.noteFailure(error, 'batch failed')
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.scheduleFlush()
    }, this.backoffMs)
    this.context.reportUnreachable(this.memberId)
  }

  /** Counts `count` more messages settled and wakes the `flushed()` callers now satisfied. */
  private settle(count: number): void {
    this.settledTotal += count
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.flushWaiters[i]
      if (waiter === undefined || waiter.target > this.settledTotal) continue
      this.flushWaiters.splice(i, 1)
      waiter.resolve()
    }
  }

  /** One report per event-loop turn in which messages were dropped (etcd reports every drop). */
  private scheduleDropReport(): void {
    if (this.dropReportHandle !== undefined) return
    this.dropReportHandle = setImmediate(() => {
      this.dropReportHandle = undefined
      if (!this.stopped) this.context.reportUnreachable(this.memberId)
    })
  }

  // ---- snapshots ----------------------------------------------------------------------------

  private snapshotDelivered(message: Message, bytes: number): void {
    this.snapshotInFlight = false
    this.counters.snapshotsSent += 1
    this.counters.bytes += bytes
    if (this.stopped) return
    this.context.logger.info({ memberId: this.memberId, index: message.snapshot?.metadata.index, bytes }, 'snapshot sent')
    this.context.reportSnapshot(this.memberId, true)
  }

  private snapshotFailed(message: Message, error: unknown): void {
    this.snapshotInFlight = false
    this.counters.snapshotsFailed += 1
    if (this.stopped) return
    // The batches keep their own backoff: a refused snapshot says little about the connection.
    this.context.logger.warn({ memberId: this.memberId, index: message.snapshot?.metadata.index, error: describe(error) }, 'snapshot failed')
    this.context.reportUnreachable(this.memberId)
    this.context.reportSnapshot(this.memberId, false)
  }

  // ---- connections --------------------------------------------------------------------------

  /** One POST to the current URL; resolves on 204, rejects on anything else. */
  private async post(path: string, headers: Record<string, string>, body: Uint8Array): Promise<void> {
    // A snapshot transfer may reach its next chunk after `stop`: it must not open a new pool.
    if (this.stopped) throw new Error('transport stopped')
    const { settings, clusterId, memberId } = this.context
    const response = await this.currentPool().request({
      path,
      method: 'POST',
      headers: { ...headers, [peerHeaders.clusterId]: clusterId, [peerHeaders.from]: memberId, [peerHeaders.to]: this.memberId },
      body,
      headersTimeout: settings.requestTimeoutMs,
      bodyTimeout: settings.requestTimeoutMs,
    })
    if (response.statusCode === 204) {
      await response.body.dump()
      return
    }
    const text = await response.body.text()
    throw new PeerRefusal(response.statusCode, text.trim().slice(0, 300))
  }

  private currentPool(): Pool {
    if (this.pool !== undefined) return this.pool
    const { settings } = this.context
    const url = this.peerUrls[this.urlIndex % this.peerUrls.length] ?? ''
    this.pool = new Pool(new URL(url).origin, {
      connections: settings.connectionsPerPeer,
      pipelining: 1,
      connectTimeout: settings.dialTimeoutMs,
      ...(this.context.dialTls === undefined ? {} : { connect: connectorOf(this.context.dialTls, settings.dialTimeoutMs) }),
      headersTimeout: settings.requestTimeoutMs,
      bodyTimeout: settings.requestTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      keepAliveMaxTimeout: settings.keepAliveTimeoutMs,
      // Peers answer 204 or a one-line error: anything longer is not a peer.
      maxResponseSize: 64 * 1024,
    })
    return this.pool
  }

  /** Closes the current pool once its requests finish; the next request opens a new one. */
  private retirePool(): void {
    const pool = this.pool
    if (pool === undefined) return
    this.pool = undefined
    this.closingPools.add(pool)
    const forget = (error?: unknown): void => {
      this.closingPools.delete(pool)
      // `stop` may destroy a pool while it closes; that ends the close with an error, expectedly.
      if (error !== undefined) this.context.logger.debug({ memberId: this.memberId, error: describe(error) }, 'old connection pool closed abruptly')
    }
    pool.close().then(() => forget(), forget)
  }

  /** After a failed batch: back off, log the change to inactive once, try the next URL next time. */
  private noteFailure(error: unknown, what: string): void {
    this.backoffMs = nextBackoffMs(this.backoffMs, this.context.settings)
    const fields = { memberId: this.memberId, url: this.peerUrls[this.urlIndex % this.peerUrls.length], error: describe(error), backoffMs: this.backoffMs }
    if (this.active) this.context.logger.warn(fields, `peer became inactive: ${what}`)
    else this.context.logger.debug(fields, what)
    this.active = false
    if (this.peerUrls.length > 1) {
      this.urlIndex = (this.urlIndex + 1) % this.peerUrls.length
      this.retirePool()
    }
  }

  private markActive(): void {
    if (this.active) return
    this.active = true
    this.context.logger.info({ memberId: this.memberId }, 'peer became active')
  }
}

/**
 * `batch` with only the newest heartbeat and the newest heartbeat answer it holds, each at
 * its own place. While a peer is slow or unreachable, heartbeats pile up in its queue; sent
 * together, each one stale, they would make the peer answer each, and the leader resend its
 * probe (up to a whole message of entries) for every answer (Raft thesis §6.4, etcd's
 * MsgHeartbeatResp handling), blocking both for as long as that takes. The newest carries
 * the newest commit index and read context, and acknowledging a read context acknowledges
 * every earlier one, so nothing the older ones said is lost.
 */
export function newestHeartbeatsOnly(batch: readonly Message[]): Message[] {
  const lastHeartbeat = batch.findLastIndex((m) => m.type === 'heartbeat')
  const lastAnswer = batch.findLastIndex((m) => m.type === 'heartbeatResp')
  return batch.filter((m, i) => (m.type !== 'heartbeat' || i === lastHeartbeat) && (m.type !== 'heartbeatResp' || i === lastAnswer))
}

/** `peerUrls` checked: at least one, each an absolute http(s) URL. */
function checkedUrls(peerUrls: readonly string[]): readonly string[] {
  if (peerUrls.length === 0) throw new RangeError('a peer needs at least one URL')
  for (const url of peerUrls) {
    const protocol = new URL(url).protocol
    if (protocol !== 'http:' && protocol !== 'https:') throw new RangeError(`peer URL ${url}: not http or https`)
  }
  return [...peerUrls]
}

/** A short description of a failure for logs. */
function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}
