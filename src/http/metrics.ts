/**
 * `/metrics` in Prometheus text format (prom-client), with the etcd families a v2 operator
 * dashboard reads (spec v2-api.md §12.6): store watchers, leadership, key-space requests and
 * proposals; and arbor's own member-loop counters (turns, and the turns that waited for the disk).
 */
import type { FastifyReply } from 'fastify'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { LoopStats, MemberApi } from '../server/index.js'

/** One registry per app, so several members in one process (tests) do not collide. */
export class Metrics {
  private readonly registry = new Registry()
  private readonly received: Counter<'method'>
  private readonly failedLogins: Counter

  constructor(member: MemberApi) {
    collectDefaultMetrics({ register: this.registry })
    this.failedLogins = new Counter({
      name: 'arbor_auth_failed_logins_total',
      help: 'Requests whose v2 auth credentials did not verify (wrong password, unknown user, malformed header).',
      registers: [this.registry],
    })
    this.received = new Counter({
      name: 'etcd_http_received_total',
      help: 'Key-space requests received, by method.',
      labelNames: ['method'],
      registers: [this.registry],
    })
    new Gauge({
      name: 'etcd_debugging_store_watchers',
      help: 'Watchers registered on this member.',
      registers: [this.registry],
      collect() {
        this.set(member.storeStats().watchers)
      },
    })
    new Gauge({
      name: 'etcd_server_has_leader',
      help: 'Whether this member knows a leader (1) or not (0).',
      registers: [this.registry],
      collect() {
        this.set(member.healthy() ? 1 : 0)
      },
    })
    new Gauge({
      name: 'etcd_server_is_leader',
      help: 'Whether this member is the leader (1) or not (0).',
      registers: [this.registry],
      collect() {
        this.set(member.selfStats().state === 'StateLeader' ? 1 : 0)
      },
    })
    const loopGauge = (name: string, help: string, pick: (stats: LoopStats) => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(pick(member.loopStats()))
        },
      })
    }
    loopGauge('etcd_server_proposals_committed_total', 'The Raft commit index.', (s) => s.commitIndex)
    loopGauge('etcd_server_proposals_applied_total', 'The last log index applied to the store.', (s) => s.appliedIndex)
    loopGauge('etcd_server_proposals_pending', 'Writes proposed on this member, waiting to be applied.', (s) => s.pendingWrites)
    loopGauge('arbor_writes_awaiting_leader', 'Writes made while no leader was known, held until one is.', (s) => s.writesAwaitingLeader)
    loopCounter(this.registry, 'arbor_loop_turns_total', 'Member-loop turns (one transaction each).', () => member.loopStats().turns)
    loopCounter(
      this.registry,
      'arbor_loop_durable_turns_total',
      'Member-loop turns whose commit waited for the disk (entries, snapshot, term or vote).',
      () => member.loopStats().durableTurns,
    )
    new Gauge({
      name: 'etcd_debugging_store_index',
      help: 'The store\'s current etcd index.',
      registers: [this.registry],
      collect() {
        this.set(member.etcdIndex())
      },
    })
  }

  /** A request whose credentials did not verify (wrong password, unknown user, malformed). */
  countFailedLogin(): void {
    this.failedLogins.inc()
  }

  countKeysRequest(method: string): void {
    this.received.inc({ method })
  }

  async serve(reply: FastifyReply): Promise<FastifyReply> {
    const text = await this.registry.metrics()
    return reply.code(200).header('content-type', this.registry.contentType).send(text)
  }
}

/** A counter read from the member when scraped: it goes up by what the member counted since. */
function loopCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let reported = 0
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read()
      this.inc(Math.max(0, now - reported))
      reported = now
    },
  })
}
