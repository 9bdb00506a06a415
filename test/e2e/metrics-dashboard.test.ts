/**
 * Goal: the queries of the common etcd dashboards and alerts find arbor's metrics under the
 * names, types, label names and bucket boundaries etcd 3.4.23 uses, so those dashboards work
 * on an arbor cluster unchanged; and the queries that read etcd's v3-only families (gRPC,
 * mvcc) find nothing, as the README says.
 *
 * Sources of the queries: etcd's own mixin (contrib/mixin: dashboards/targets.libsonnet and
 * alerts/alerts.libsonnet) and etcd 3.x's alert rules of the v2 era (etcdHTTPRequestsSlow,
 * etcdHighNumberOfFailedHTTPRequests), and the proposal panels of the widely used "etcd
 * Prometheus" dashboard. Each entry names the metric a query reads, its type and the label
 * names it groups or filters by.
 *
 * Method: a 2-member arbor cluster of real processes; some traffic (writes, reads, quorum
 * reads, a failed read, a watch); then the follower is stopped so that the leader fails to
 * reach it (etcdMembersDown reads those failures). Both members' /metrics are parsed.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ArborCluster, sleep, v2Request, type ClusterMember } from '../support/arbor-cluster.js'

type MetricType = 'counter' | 'gauge' | 'histogram'

/** What one dashboard or alert query needs of a metric. */
interface QueryNeed {
  readonly query: string
  readonly metric: string
  readonly type: MetricType
  /** Label names the query reads (beyond `le`), each present on some sample. */
  readonly labels: readonly string[]
}

const served: readonly QueryNeed[] = [
  { query: 'mixin up: sum(etcd_server_has_leader)', metric: 'etcd_server_has_leader', type: 'gauge', labels: [] },
  { query: 'alert etcdNoLeader: etcd_server_has_leader == 0', metric: 'etcd_server_has_leader', type: 'gauge', labels: [] },
  { query: 'etcd_server_is_leader', metric: 'etcd_server_is_leader', type: 'gauge', labels: [] },
  { query: 'mixin leaderElections: changes(etcd_server_leader_changes_seen_total[1d])', metric: 'etcd_server_leader_changes_seen_total', type: 'counter', labels: [] },
  { query: 'mixin walFsync: histogram_quantile(0.99, sum(rate(etcd_disk_wal_fsync_duration_seconds_bucket[..])) by (instance, le))', metric: 'etcd_disk_wal_fsync_duration_seconds', type: 'histogram', labels: [] },
  { query: 'mixin dbFsync: histogram_quantile(0.99, sum(rate(etcd_disk_backend_commit_duration_seconds_bucket[..])) by (instance, le))', metric: 'etcd_disk_backend_commit_duration_seconds', type: 'histogram', labels: [] },
  { query: 'mixin memory: process_resident_memory_bytes', metric: 'process_resident_memory_bytes', type: 'gauge', labels: [] },
  { query: 'mixin peerTrafficIn: sum(rate(etcd_network_peer_received_bytes_total[..])) by (instance)', metric: 'etcd_network_peer_received_bytes_total', type: 'counter', labels: ['From'] },
  { query: 'mixin peerTrafficOut: sum(rate(etcd_network_peer_sent_bytes_total[..])) by (instance)', metric: 'etcd_network_peer_sent_bytes_total', type: 'counter', labels: ['To'] },
  { query: 'mixin peerRtt / alert etcdMemberCommunicationSlow: histogram_quantile(0.99, rate(etcd_network_peer_round_trip_time_seconds_bucket[5m])) ({{ $labels.To }})', metric: 'etcd_network_peer_round_trip_time_seconds', type: 'histogram', labels: ['To'] },
  { query: 'alert etcdMembersDown: count without (To) (rate(etcd_network_peer_sent_failures_total[..]) > 0.01)', metric: 'etcd_network_peer_sent_failures_total', type: 'counter', labels: ['To'] },
  { query: 'alert etcdHighNumberOfFailedProposals: rate(etcd_server_proposals_failed_total[15m]) > 5', metric: 'etcd_server_proposals_failed_total', type: 'counter', labels: [] },
  { query: 'panel Proposals Pending: etcd_server_proposals_pending', metric: 'etcd_server_proposals_pending', type: 'gauge', labels: [] },
  { query: 'panel Proposals Committed: rate(etcd_server_proposals_committed_total[..])', metric: 'etcd_server_proposals_committed_total', type: 'gauge', labels: [] },
  { query: 'panel Proposals Applied: rate(etcd_server_proposals_applied_total[..])', metric: 'etcd_server_proposals_applied_total', type: 'gauge', labels: [] },
  { query: 'alert etcdHighNumberOfFailedHTTPRequests: sum(rate(etcd_http_failed_total[5m])) by (method) / …', metric: 'etcd_http_failed_total', type: 'counter', labels: ['method', 'code'] },
  { query: 'alert etcdHighNumberOfFailedHTTPRequests: … / sum(rate(etcd_http_received_total[5m])) by (method)', metric: 'etcd_http_received_total', type: 'counter', labels: ['method'] },
  { query: 'alert etcdHTTPRequestsSlow: histogram_quantile(0.99, rate(etcd_http_successful_duration_seconds_bucket[5m])) ({{ $labels.method }})', metric: 'etcd_http_successful_duration_seconds', type: 'histogram', labels: ['method'] },
  { query: 'etcd_debugging_store_watchers', metric: 'etcd_debugging_store_watchers', type: 'gauge', labels: [] },
  { query: 'etcd_debugging_store_reads_total by (action)', metric: 'etcd_debugging_store_reads_total', type: 'counter', labels: ['action'] },
  { query: 'etcd_debugging_store_writes_total by (action)', metric: 'etcd_debugging_store_writes_total', type: 'counter', labels: ['action'] },
  { query: 'process_cpu_seconds_total', metric: 'process_cpu_seconds_total', type: 'counter', labels: [] },
  { query: 'process_open_fds / process_max_fds', metric: 'process_open_fds', type: 'gauge', labels: [] },
  { query: 'process_start_time_seconds', metric: 'process_start_time_seconds', type: 'gauge', labels: [] },
]

/** Families of etcd's v3 API (gRPC, mvcc, quota) that v2 has no counterpart for: panels stay empty. */
const notServed: readonly string[] = [
  'grpc_server_started_total',
  'grpc_server_handled_total',
  'grpc_server_handling_seconds',
  'etcd_mvcc_db_total_size_in_bytes',
  'etcd_server_quota_backend_bytes',
  'etcd_network_client_grpc_received_bytes_total',
  'etcd_network_client_grpc_sent_bytes_total',
]

/** Bucket upper bounds as etcd 3.4.23's /metrics prints them (recorded), without +Inf. */
const etcdBucketBounds: Record<string, string> = {
  etcd_disk_wal_fsync_duration_seconds: '0.001 0.002 0.004 0.008 0.016 0.032 0.064 0.128 0.256 0.512 1.024 2.048 4.096 8.192',
  etcd_disk_backend_commit_duration_seconds: '0.001 0.002 0.004 0.008 0.016 0.032 0.064 0.128 0.256 0.512 1.024 2.048 4.096 8.192',
  etcd_http_successful_duration_seconds: '0.0005 0.001 0.002 0.004 0.008 0.016 0.032 0.064 0.128 0.256 0.512 1.024 2.048',
  etcd_network_peer_round_trip_time_seconds:
    '0.0001 0.0002 0.0004 0.0008 0.0016 0.0032 0.0064 0.0128 0.0256 0.0512 0.1024 0.2048 0.4096 0.8192 1.6384 3.2768',
}

interface Sample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}

interface Scrape {
  readonly types: Map<string, string>
  readonly samples: Sample[]
}

/** Parses the Prometheus text format (the subset prom-client writes). */
function parse(text: string): Scrape {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) types.set(type[1]!, type[2]!)
    if (line === '' || line.startsWith('#')) continue
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(sample !== null, `a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) })
  }
  return { types, samples }
}

/** The samples of `metric` (for a histogram, its `_bucket` samples). */
function samplesOf(scrape: Scrape, metric: string, type: MetricType): Sample[] {
  const name = type === 'histogram' ? `${metric}_bucket` : metric
  return scrape.samples.filter((s) => s.name === name)
}

async function scrape(member: ClusterMember): Promise<Scrape> {
  const reply = await v2Request(member.clientUrl, 'GET', '/metrics')
  assert.equal(reply.status, 200)
  return parse(reply.text)
}

describe('etcd dashboards read an arbor cluster', () => {
  let cluster: ArborCluster | undefined
  let leaderScrape: Scrape
  let followerScrape: Scrape

  before(async () => {
    cluster = await ArborCluster.start({ size: 2 })
    const leader = await cluster.waitForLeader()
    const follower = cluster.members.find((m) => m !== leader)
    assert.ok(follower !== undefined)
    for (let i = 0; i < 20; i++) {
      const via: ClusterMember = i % 2 === 0 ? leader : follower
      assert.equal((await v2Request(via.clientUrl, 'PUT', `/v2/keys/d${i}`, { form: `value=${i}` })).status, 201)
    }
    assert.equal((await v2Request(follower.clientUrl, 'GET', '/v2/keys/d1')).status, 200)
    assert.equal((await v2Request(leader.clientUrl, 'GET', '/v2/keys/d1?quorum=true')).status, 200)
    assert.equal((await v2Request(leader.clientUrl, 'GET', '/v2/keys/missing')).status, 404)
    assert.equal((await v2Request(leader.clientUrl, 'GET', '/v2/keys/d1?wait=true&waitIndex=1')).status, 200)
    followerScrape = await scrape(follower)
    // The leader now fails to reach the follower: its heartbeats count as send failures.
    await cluster.kill(follower)
    const deadline = Date.now() + 20_000
    for (;;) {
      leaderScrape = await scrape(leader)
      if (samplesOf(leaderScrape, 'etcd_network_peer_sent_failures_total', 'counter').length > 0) break
      assert.ok(Date.now() < deadline, 'the leader counted failures to reach the stopped follower within 20 s')
      await sleep(100)
    }
  })
  after(async () => {
    if (cluster !== undefined) await cluster.stop()
  })

  for (const need of served) {
    test(need.query, () => {
      assert.equal(leaderScrape.types.get(need.metric), need.type, `${need.metric} is a ${need.type}`)
      const samples = samplesOf(leaderScrape, need.metric, need.type)
      assert.ok(samples.length > 0, `${need.metric} has samples`)
      for (const label of need.labels) {
        assert.ok(
          samples.some((s) => s.labels[label] !== undefined && s.labels[label] !== ''),
          `${need.metric} carries the label ${label}`,
        )
      }
      const bounds = etcdBucketBounds[need.metric]
      if (need.type === 'histogram') {
        assert.ok(bounds !== undefined, `etcd's buckets of ${need.metric} are recorded here`)
        const first = samples[0]!
        const sameSeries = samples.filter((s) => need.labels.every((l) => s.labels[l] === first.labels[l]))
        assert.equal(sameSeries.map((s) => s.labels.le).join(' '), `${bounds} +Inf`)
        assert.ok((sameSeries.at(-1)?.value ?? 0) > 0, `${need.metric} observed something`)
      }
    })
  }

  test('peer labels are member ids: the leader sends To the follower, the follower receives From the leader', () => {
    const to = samplesOf(leaderScrape, 'etcd_network_peer_sent_bytes_total', 'counter').map((s) => s.labels.To)
    const from = samplesOf(followerScrape, 'etcd_network_peer_received_bytes_total', 'counter').map((s) => s.labels.From)
    const ids = cluster!.members.map((m) => m.id)
    assert.equal(to.length, 1)
    assert.equal(from.length, 1)
    assert.ok(ids.includes(to[0]!) && ids.includes(from[0]!), `${to[0]} and ${from[0]} are among ${ids.join(', ')}`)
    assert.notEqual(to[0], from[0])
    assert.ok(samplesOf(followerScrape, 'etcd_network_peer_received_bytes_total', 'counter')[0]!.value > 0)
  })

  test('a quorum read is counted as QGET, a failed read by its status', () => {
    const received = samplesOf(leaderScrape, 'etcd_http_received_total', 'counter')
    assert.equal(received.find((s) => s.labels.method === 'QGET')?.value, 1)
    const failed = samplesOf(leaderScrape, 'etcd_http_failed_total', 'counter')
    assert.deepEqual(failed.map((s) => [s.labels.method, s.labels.code, s.value]), [['GET', '404', 1]])
  })

  test('the v3-only families are absent: their panels stay empty', () => {
    for (const name of notServed) assert.equal(leaderScrape.types.get(name), undefined, name)
  })
})
