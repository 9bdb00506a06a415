/**
 * `/metrics` in Prometheus text format (prom-client), with the etcd families a v2 operator
 * dashboard reads (spec v2-api.md §12.6): store watchers, leadership and key-space requests.
 */
import type { FastifyReply } from 'fastify'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { MemberApi } from '../server/index.js'

/** One registry per app, so several members in one process (tests) do not collide. */
export class Metrics {
  private readonly registry = new Registry()
  private readonly received: Counter<'method'>

  constructor(member: MemberApi) {
    collectDefaultMetrics({ register: this.registry })
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
    new Gauge({
      name: 'etcd_debugging_store_index',
      help: 'The store\'s current etcd index.',
      registers: [this.registry],
      collect() {
        this.set(member.etcdIndex())
      },
    })
  }

  countKeysRequest(method: string): void {
    this.received.inc({ method })
  }

  async serve(reply: FastifyReply): Promise<FastifyReply> {
    const text = await this.registry.metrics()
    return reply.code(200).header('content-type', this.registry.contentType).send(text)
  }
}
