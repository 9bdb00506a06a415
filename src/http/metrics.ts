/**
 * `/metrics` in Prometheus text format (prom-client), under the names, types, labels, units
 * and buckets etcd 3.4.23 exposes (recorded from its `/metrics`), so that dashboards and
 * alerts written for etcd read an arbor member unchanged (README "Metrics"; the queries a
 * test asserts are listed in test/e2e/metrics-dashboard.test.ts):
 *
 * - leadership and proposals: `etcd_server_*` (read from the member when scraped);
 * - disk: `etcd_disk_wal_fsync_duration_seconds` (commits that waited for the disk) and
 *   `etcd_disk_backend_commit_duration_seconds` (every commit), one observation per
 *   member-loop turn, fed by the database's commit observer;
 * - peers: `etcd_network_peer_*` by `To` / `From` member id (hex), fed by the transport;
 * - key-space requests: `etcd_http_received_total`, `etcd_http_successful_duration_seconds`
 *   and `etcd_http_failed_total`, counted as etcd's v2 keys handler does;
 * - the v2 store: `etcd_debugging_store_*`, read from the same counters as `/v2/stats/store`;
 * - `process_*` and `nodejs_*` from prom-client's default collectors;
 * - arbor's own member-loop counters (`arbor_*`).
 *
 * ONE `MemberMetrics` per member, shared by every client listener of that member, each with
 * its own `Registry` (never prom-client's global one: tests run several members in one process).
 */
import type { FastifyReply } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { MemberApi } from '../server/index.js'
import type { AuthMetrics } from './auth-gate.js'

/** The `method` label of etcd's HTTP metrics: the request's method, `QGET` for a quorum GET. */
export type KeyMethod = 'GET' | 'QGET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'

const keyMethods: readonly KeyMethod[] = ['GET', 'QGET', 'HEAD', 'PUT', 'POST', 'DELETE']

/** `count` buckets from `start`, each `factor` times the last (Go prometheus.ExponentialBuckets). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const buckets: number[] = []
  let bound = start
  for (let i = 0; i < count; i++) {
    buckets.push(bound)
    bound *= factor
  }
  return buckets
}

/**
 * etcd 3.4.23's bucket boundaries (seconds), as its `/metrics` lists them: disk 1 ms … 8.192 s,
 * HTTP 0.5 ms … 2.048 s, peer round trips 0.1 ms … 3.2768 s.
 */
export const etcdBuckets = {
  disk: exponentialBuckets(0.001, 2, 14),
  http: exponentialBuckets(0.0005, 2, 13),
  peerRoundTrip: exponentialBuckets(0.0001, 2, 16),
} as const

/** Counters of one peer since it was added, as the transport keeps them. */
export interface PeerTraffic {
  /** Request body bytes the peer accepted (batches and snapshot chunks). */
  readonly bytes: number
  /** Messages lost on the way to the peer: in failed batches, or refused by a full queue. */
  readonly fail: number
  readonly dropped: number
}

/** Where the metrics that the member API does not carry come from; each optional. */
export interface MetricSources {
  /** The transport's counters per peer (member id hex → counters). */
  readonly peerTraffic?: () => Readonly<Record<string, PeerTraffic>>
}

/**
 * What the key-space handler reports, as etcd's v2 keys handler does: `received` once a
 * request has been parsed (watches excepted), `succeeded` with its time to answer (watches
 * excepted), `failed` with the HTTP status of an error from the member (watches included;
 * parse errors are neither received nor failed).
 */
export interface KeyRequestMetrics {
  received(method: KeyMethod): void
  succeeded(method: KeyMethod, seconds: number): void
  failed(method: KeyMethod, status: number): void
  /** A watch was asked for (etcd_debugging_store_watch_requests_total). */
  watchRequested(): void
}

/** The metrics of one member. */
export class MemberMetrics implements KeyRequestMetrics, AuthMetrics {
  readonly registry = new Registry()
  /** Children per method, made once: the request path allocates no label object. */
  private readonly receivedBy: Record<KeyMethod, Counter.Internal>
  private readonly succeededBy: Record<KeyMethod, Histogram.Internal<'method'>>
  private readonly failedCounter: Counter<'method' | 'code'>
  private readonly watchRequests: Counter
  private readonly failedLogins: Counter
  private readonly passwordVerifications: Counter
  private readonly walFsync: Histogram
  private readonly backendCommit: Histogram
  private readonly peerReceived: Counter<'From'>
  private readonly peerReceivedBy = new Map<string, Counter.Internal>()
  private readonly peerRoundTrip: Histogram<'To'>
  private readonly peerRoundTripBy = new Map<string, Histogram.Internal<'To'>>()

  constructor(member: MemberApi, sources: MetricSources = {}) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.registerServer(member)
    this.registerStore(member)

    this.failedLogins = new Counter({
      name: 'arbor_auth_failed_logins_total',
      help: 'Requests whose v2 auth credentials did not verify (wrong password, unknown user, malformed header).',
      registers,
    })
    this.passwordVerifications = new Counter({
      name: 'arbor_auth_password_verifications_total',
      help: 'v2 auth credentials checked with bcrypt, i.e. not answered from the verified-credential cache.',
      registers,
    })
    const received = new Counter({
      name: 'etcd_http_received_total',
      help: 'Counter of requests received into the system (successfully parsed and authd).',
      labelNames: ['method'],
      registers,
    })
    const succeeded = new Histogram({
      name: 'etcd_http_successful_duration_seconds',
      help: 'Bucketed histogram of processing time (s) of successfully handled requests (non-watches), by method (GET/PUT etc.).',
      labelNames: ['method'],
      buckets: [...etcdBuckets.http],
      registers,
    })
    this.receivedBy = childrenByMethod((method) => received.labels(method))
    this.succeededBy = childrenByMethod((method) => succeeded.labels(method))
    this.failedCounter = new Counter({
      name: 'etcd_http_failed_total',
      help: 'Counter of handle failures of requests (non-watches), by method (GET/PUT etc.) and code (400, 500 etc.).',
      labelNames: ['method', 'code'],
      registers,
    })
    this.watchRequests = new Counter({
      name: 'etcd_debugging_store_watch_requests_total',
      help: 'Total number of incoming watch requests (new or reestablished).',
      registers,
    })

    this.walFsync = new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL (arbor: commits that waited for the disk).',
      buckets: [...etcdBuckets.disk],
      registers,
    })
    this.backendCommit = new Histogram({
      name: 'etcd_disk_backend_commit_duration_seconds',
      help: 'The latency distributions of commit called by backend (arbor: every member-loop commit).',
      buckets: [...etcdBuckets.disk],
      registers,
    })

    this.peerReceived = new Counter({
      name: 'etcd_network_peer_received_bytes_total',
      help: 'The total number of bytes received from peers.',
      labelNames: ['From'],
      registers,
    })
    this.peerRoundTrip = new Histogram({
      name: 'etcd_network_peer_round_trip_time_seconds',
      help: 'Round-Trip-Time histogram between peers',
      labelNames: ['To'],
      buckets: [...etcdBuckets.peerRoundTrip],
      registers,
    })
    const peerTraffic = sources.peerTraffic
    if (peerTraffic !== undefined) this.registerPeerTraffic(peerTraffic)
  }

  received(method: KeyMethod): void {
    this.receivedBy[method].inc()
  }

  succeeded(method: KeyMethod, seconds: number): void {
    this.succeededBy[method].observe(seconds)
  }

  failed(method: KeyMethod, status: number): void {
    this.failedCounter.labels(method, String(status)).inc()
  }

  watchRequested(): void {
    this.watchRequests.inc()
  }

  /**
   * One commit of the member loop took `seconds`; `synced` when it waited for the disk (the
   * write-ahead log is fsynced inside the commit with synchronous=FULL).
   */
  observeCommit(seconds: number, synced: boolean): void {
    this.backendCommit.observe(seconds)
    if (synced) this.walFsync.observe(seconds)
  }

  /** A batch POST to peer `to` (member id, hex) was answered after `seconds`. */
  observePeerRoundTrip(to: string, seconds: number): void {
    let child = this.peerRoundTripBy.get(to)
    if (child === undefined) {
      child = this.peerRoundTrip.labels(to)
      this.peerRoundTripBy.set(to, child)
    }
    child.observe(seconds)
  }

  /** `bytes` of a request body from peer `from` (member id, hex) were received. */
  countPeerReceived(from: string, bytes: number): void {
    let child = this.peerReceivedBy.get(from)
    if (child === undefined) {
      child = this.peerReceived.labels(from)
      this.peerReceivedBy.set(from, child)
    }
    child.inc(bytes)
  }

  /** A request whose credentials did not verify (wrong password, unknown user, malformed). */
  countFailedLogin(): void {
    this.failedLogins.inc()
  }

  /** Credentials were checked with bcrypt: the member's credential cache did not answer. */
  countPasswordVerification(): void {
    this.passwordVerifications.inc()
  }

  /** Answers a scrape. */
  async serve(reply: FastifyReply): Promise<FastifyReply> {
    const text = await this.registry.metrics()
    return reply.code(200).header('content-type', this.registry.contentType).send(text)
  }

  /** Leadership and proposals, read from the member when scraped (etcd server/etcdserver/metrics.go). */
  private registerServer(member: MemberApi): void {
    const registers = [this.registry]
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(read()) } })
    }
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({ name, help, registers, collect() { setCounter(this, read()) } })
    }
    gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => (member.healthy() ? 1 : 0))
    gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () =>
      member.selfStats().state === 'StateLeader' ? 1 : 0,
    )
    counter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.', () => member.loopStats().leaderChanges)
    // etcd declares these two as gauges, set to the Raft commit and applied indexes.
    gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () => member.loopStats().commitIndex)
    gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () => member.loopStats().appliedIndex)
    gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => member.loopStats().pendingWrites)
    counter('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.', () => member.loopStats().proposalsFailed)
    gauge('arbor_writes_awaiting_leader', 'Writes made while no leader was known, held until one is.', () => member.loopStats().writesAwaitingLeader)
    counter('arbor_loop_turns_total', 'Member-loop turns (one transaction each).', () => member.loopStats().turns)
    counter(
      'arbor_loop_durable_turns_total',
      'Member-loop turns whose commit waited for the disk (entries, snapshot, term or vote).',
      () => member.loopStats().durableTurns,
    )
    gauge('arbor_store_etcd_index', "The store's current etcd index (X-Etcd-Index).", () => member.etcdIndex())
  }

  /**
   * The v2 store's families, from the counters `/v2/stats/store` shows, so the two always
   * agree: reads = getsSuccess + getsFail (arbor does not tell recursive gets apart: all are
   * `get`), writes per action = its success + fail, expires = expireCount.
   */
  private registerStore(member: MemberApi): void {
    const registers = [this.registry]
    new Counter({
      name: 'etcd_debugging_store_reads_total',
      help: 'Total number of reads action by (get/getRecursive), local to this member.',
      labelNames: ['action'],
      registers,
      collect() {
        const stats = member.storeStats()
        setLabelledCounter(this, [['get', stats.getsSuccess + stats.getsFail]])
      },
    })
    new Counter({
      name: 'etcd_debugging_store_writes_total',
      help: 'Total number of writes (e.g. set/compareAndDelete) seen by this member.',
      labelNames: ['action'],
      registers,
      collect() {
        const s = member.storeStats()
        setLabelledCounter(this, [
          ['set', s.setsSuccess + s.setsFail],
          ['create', s.createSuccess + s.createFail],
          ['update', s.updateSuccess + s.updateFail],
          ['delete', s.deleteSuccess + s.deleteFail],
          ['compareAndSwap', s.compareAndSwapSuccess + s.compareAndSwapFail],
          ['compareAndDelete', s.compareAndDeleteSuccess + s.compareAndDeleteFail],
        ])
      },
    })
    new Counter({
      name: 'etcd_debugging_store_expires_total',
      help: 'Total number of expired keys.',
      registers,
      collect() {
        setCounter(this, member.storeStats().expireCount)
      },
    })
    new Gauge({
      name: 'etcd_debugging_store_watchers',
      help: 'Count of currently active watchers.',
      registers,
      collect() {
        this.set(member.storeStats().watchers)
      },
    })
  }

  /** Bytes sent and failures per peer, read from the transport when scraped. */
  private registerPeerTraffic(read: () => Readonly<Record<string, PeerTraffic>>): void {
    const registers = [this.registry]
    new Counter({
      name: 'etcd_network_peer_sent_bytes_total',
      help: 'The total number of bytes sent to peers.',
      labelNames: ['To'],
      registers,
      collect() {
        setLabelledCounter(this, Object.entries(read()).map(([to, peer]) => [to, peer.bytes]))
      },
    })
    new Counter({
      name: 'etcd_network_peer_sent_failures_total',
      help: 'The total number of send failures from peers.',
      labelNames: ['To'],
      registers,
      collect() {
        setLabelledCounter(this, Object.entries(read()).map(([to, peer]) => [to, peer.fail + peer.dropped]))
      },
    })
  }
}

function childrenByMethod<T>(make: (method: KeyMethod) => T): Record<KeyMethod, T> {
  const children = {} as Record<KeyMethod, T>
  for (const method of keyMethods) children[method] = make(method)
  return children
}

/**
 * Sets a counter to a total counted elsewhere (since that source started). A source that
 * starts over (a peer removed and added again) shows as a counter reset, which `rate()` handles.
 */
function setCounter(counter: Counter, total: number): void {
  counter.reset()
  counter.inc(total)
}

/** Sets one series per label value to its total; values never seen (0) get no series, as in etcd. */
function setLabelledCounter(counter: Counter<string>, totals: readonly (readonly [string, number])[]): void {
  counter.reset()
  for (const [label, total] of totals) if (total > 0) counter.labels(label).inc(total)
}
