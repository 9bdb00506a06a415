/**
 * The shell of a member: binds the member core (core/member-core.ts) to Node — the clock
 * it is given, `setInterval` for Raft ticks and TTL sweeps, `setImmediate` for loop turns,
 * `setTimeout` for request deadlines — and turns the core's replies into the promises the
 * HTTP layer awaits. Everything a member decides happens in the core; nothing here does
 * more than schedule it and wait for it.
 */
import type { Clock } from '../lib/index.js'
import type { Logger, Message, RawNode } from '../raft/index.js'
import type { Event, GetOptions, HistoryRecord, Store, StoreRequest, StoreStats, WatchStart } from '../store/index.js'
import { AuthStore, MemoryAuthBackend, type AuthCommand, type AuthResult } from '../auth/index.js'
import type { LeaderStats, LoopStats, MemberApi, SelfStats } from './api.js'
import type { MemberInfo, MemberStorage, PeerSender, Scheduler } from './ports.js'
import { MemberCore } from './core/member-core.js'
import type { MemberSettings } from './core/parts.js'
import type { Reply } from './core/pending.js'

export type { MemberSettings } from './core/parts.js'

/** The parts a member is built from (wired by the CLI, or by tests with in-memory ones). */
export interface MemberParts {
  readonly raft: RawNode
  readonly store: Store
  /** The v2 auth state, changed by applied auth entries; an empty in-memory one if omitted. */
  readonly auth?: AuthStore
  readonly storage: MemberStorage
  readonly peers: PeerSender
  readonly clock: Clock
  readonly logger: Logger
  readonly settings: MemberSettings
}

/** Node's timers as the core's scheduler. */
const nodeScheduler: Scheduler = {
  soon: (fn) => void setImmediate(fn),
  after: (delayMs, fn) => {
    const timer = setTimeout(fn, delayMs)
    return () => clearTimeout(timer)
  },
}

/** One member of an arbor cluster, as the CLI runs it. */
export class Member implements MemberApi {
  readonly memberId: string
  readonly clusterId: string
  /** The v2 auth state this member applies auth entries to. */
  readonly auth: AuthStore
  private readonly core: MemberCore
  private timers: ReturnType<typeof setInterval>[] = []

  constructor(private readonly parts: MemberParts) {
    this.auth = parts.auth ?? new AuthStore(new MemoryAuthBackend())
    this.core = new MemberCore({ ...parts, auth: this.auth, scheduler: nodeScheduler })
    this.memberId = this.core.memberId
    this.clusterId = this.core.clusterId
  }

  /** Starts ticking and sweeping; a member that is the only voter campaigns at once. */
  start(): void {
    const { settings } = this.parts
    this.timers.push(setInterval(() => this.core.tick(), settings.heartbeatIntervalMs))
    this.timers.push(setInterval(() => this.core.sweepExpired(), settings.syncIntervalMs))
    this.core.start()
  }

  /**
   * Stops: no new requests, open watches ended, pending requests failed with 300
   * `etcdserver: server stopped`, the last batch written. Idempotent.
   */
  stop(): void {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    this.core.stop()
  }

  /**
   * Stops after handing leadership to the most up-to-date follower (Raft thesis §3.10), so
   * the cluster does not wait an election timeout for a new leader. Waits at most
   * `transferWaitMs` for another leader to be known, then stops anyway.
   */
  async stopGracefully(transferWaitMs: number): Promise<void> {
    if (this.core.transferLeadership()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, transferWaitMs)
        this.core.onLeaderChange(() => {
          if (this.core.isLeader) return
          clearTimeout(timer)
          resolve()
        })
      })
    }
    this.stop()
  }

  onStop(callback: () => void): void {
    this.core.onStop(callback)
  }

  nowMs(): number {
    return this.core.nowMs()
  }

  etcdIndex(): number {
    return this.core.etcdIndex()
  }

  raftIndex(): number {
    return this.core.raftIndex()
  }

  raftTerm(): number {
    return this.core.raftTerm()
  }

  get(key: string, options: GetOptions): Event {
    return this.core.get(key, options)
  }

  async quorumGet(key: string, options: GetOptions): Promise<Event> {
    await promised<number>((reply) => this.core.readIndex(reply))
    return this.core.get(key, options)
  }

  write(request: StoreRequest): Promise<Event> {
    return promised((reply) => this.core.write(request, reply))
  }

  /**
   * Proposes a v2 auth change and resolves with what applying it answered on this member.
   * @throws AuthError (etcd's status and message), V2Error 300 (stopped, timeout, too many)
   */
  authChange(command: AuthCommand): Promise<AuthResult> {
    return promised((reply) => this.core.authChange(command, reply))
  }

  watch(key: string, options: { recursive: boolean; stream: boolean; sinceIndex: number }, onEvent: (record: HistoryRecord) => boolean): WatchStart {
    return this.core.watch(key, options, onEvent)
  }

  storeStats(): StoreStats {
    return this.core.storeStats()
  }

  selfStats(): SelfStats {
    return this.core.selfStats()
  }

  loopStats(): LoopStats {
    return this.core.loopStats()
  }

  leaderStats(): LeaderStats | undefined {
    return this.core.leaderStats()
  }

  /** This member was removed from the cluster (it applied its removal, or a peer answered 410). */
  noteRemoved(): void {
    this.core.noteRemoved()
  }

  /** Registers a callback run when this member is removed from the cluster (etcd then exits). */
  onRemoved(callback: () => void): void {
    this.core.onRemoved(callback)
  }

  members(): MemberInfo[] {
    return this.core.members()
  }

  leader(): MemberInfo | undefined {
    return this.core.leader()
  }

  healthy(): boolean {
    return this.core.healthy()
  }

  /**
   * Adds a member with `peerUrls` (etcd's POST /v2/members): a confChange entry (thesis §4.1).
   * @throws MembershipError 409 when a member already uses one of the URLs; 500 when the
   *         change could not be committed (another change under way, no leader, timeout).
   */
  addMember(peerUrls: readonly string[]): Promise<MemberInfo> {
    return promised((reply) => this.core.addMember(peerUrls, reply))
  }

  /** Removes member `id` (etcd's DELETE /v2/members/<id>). @throws MembershipError 404, 410, 500 */
  removeMember(id: string): Promise<MemberInfo> {
    return promised((reply) => this.core.removeMember(id, reply))
  }

  /** Replaces the peer URLs of member `id` (etcd's PUT). @throws MembershipError 404, 410, 409, 500 */
  updateMember(id: string, peerUrls: readonly string[]): Promise<MemberInfo> {
    return promised((reply) => this.core.updateMember(id, peerUrls, reply))
  }

  /** Raft messages from peers (the transport calls this for each received batch). */
  receive(messages: readonly Message[]): void {
    this.core.receive(messages)
  }

  /** The transport could not reach `memberId`. */
  reportUnreachable(memberId: string): void {
    this.core.reportUnreachable(memberId)
  }

  /** The transport finished sending a snapshot to `memberId`. */
  reportSnapshot(memberId: string, ok: boolean): void {
    this.core.reportSnapshot(memberId, ok)
  }
}

/**
 * A promise settled by the reply `ask` hands to the core. What `ask` throws at once (a stopped
 * member, a 404 member) is thrown at once, as before the promise exists.
 */
function promised<T>(ask: (reply: Reply<T>) => void): Promise<T> {
  let reply: Reply<T> | undefined
  const promise = new Promise<T>((resolve, reject) => {
    reply = { resolve, reject }
  })
  if (reply === undefined) throw new Error('unreachable: the executor runs at once')
  ask(reply)
  return promise
}
