/**
 * A one-member arbor built from in-memory parts, for HTTP and member-loop tests: the Raft
 * log in `MemoryLogStorage`, the tree in `MemoryStoreBackend`, membership and the applied
 * index in a small in-memory `MemberStorage`, a `PeerSender` that drops (or records) every
 * message, and a silent pino logger. No port is opened: HTTP tests use `app.inject()`.
 *
 * Test-only: the `x-test-raw-url` header replaces the request target (see `rawUrlHeader`).
 *
 * `startTestMember()` starts the member and waits until it leads (a single voter elects
 * itself at once). `close()` stops the member (clearing its timers) and closes the app, so
 * a test that calls it leaves nothing running.
 */
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { buildApp, type HttpSettings, type KeyLimits } from '../../src/http/index.js'
import { SeededRng, systemClock, type Clock } from '../../src/lib/index.js'
import { MemoryLogStorage, RawNode, type Message, type RaftConfig } from '../../src/raft/index.js'
import { Member, type MemberInfo, type MemberSettings, type MemberStorage, type StateReader } from '../../src/server/index.js'
import { MemoryStoreBackend, Store, defaultStoreLimits, type StoreLimits } from '../../src/store/index.js'

/** The member's own record (ID, name, URLs), the same for every test member. */
export const testMemberInfo: MemberInfo = {
  id: 'ac7c97ef0ec193b0',
  name: 's1',
  peerUrls: ['http://127.0.0.1:23791'],
  clientUrls: ['http://127.0.0.1:23790'],
}

/** `X-Etcd-Cluster-Id` of every test member. */
export const testClusterId = '8cc9da78b36d1115'

/** Loop settings unless a test overrides them: fast ticks, a 2 s request timeout. */
export const testMemberSettings: MemberSettings = {
  memberId: testMemberInfo.id,
  clusterId: testClusterId,
  name: testMemberInfo.name,
  heartbeatIntervalMs: 10,
  requestTimeoutMs: 2_000,
  pendingProposalsMax: 1_000,
  snapshotCount: 10_000,
  syncIntervalMs: 50,
  expireKeysPerEntry: 1_000,
  clientUrls: testMemberInfo.clientUrls,
}

/** etcd's HTTP limits (10 MiB forms), timeouts that never fire during a test. */
export const testHttpSettings: HttpSettings = {
  corsOrigins: [],
  requestBodyBytesMax: 10_485_760,
  watcherEventsMax: 100,
  limits: { keyBytesMax: 65_536, keyDepthMax: 4_096, valueBytesMax: 10_485_760 },
  headersTimeoutMs: 10_000,
  requestReceiveTimeoutMs: 30_000,
  keepAliveTimeoutMs: 30_000,
  headerBytesMax: 1024 * 1024,
}

/**
 * A request header that replaces the request target before the app reads it. `inject()`
 * normalizes URLs as a browser would (dot segments removed, `<` escaped), so tests of raw
 * targets (`//`, `%2e%2e`, ...) send the target here; Node's server passes such targets
 * through unchanged, as the e2e tests check with raw sockets.
 */
export const rawUrlHeader = 'x-test-raw-url'

/** The second voter of the non-default modes. */
export const peerId = 'b0b0b0b0b0b0b0b0'

/** What a test may change; everything else takes the defaults above. */
export interface TestMemberOptions {
  readonly http?: Partial<Omit<HttpSettings, 'limits'>> & { readonly limits?: Partial<KeyLimits> }
  readonly member?: Partial<MemberSettings>
  readonly store?: Partial<StoreLimits>
  readonly clock?: Clock
  /**
   * Who leads when the member starts (default `leader`: the member is the only voter).
   * The other modes add a second voter, `peerId`, that never answers after its scripted
   * messages, so nothing the member proposes is ever committed:
   * - `leaderWithoutQuorum`: the peer votes for the member, which leads term 1;
   * - `follower`: the peer leads term 1 (one heartbeat), the member forwards to it;
   * - `noLeader`: the peer is silent; the member knows no leader.
   * Set `member.heartbeatIntervalMs` high to keep Raft's timers from changing that.
   */
  readonly mode?: 'leader' | 'leaderWithoutQuorum' | 'follower' | 'noLeader'
  /** Receives every message the member sends (default: dropped). */
  readonly onSend?: (messages: readonly Message[]) => void
  /** Told each time the member asks its transport to reach exactly these members. */
  readonly onSetPeers?: (members: readonly MemberInfo[]) => void
  /** Seed of Raft's election timeouts. */
  readonly seed?: number
}

/** A running test member and its parts (exposed so tests can look inside). */
export interface TestMember {
  readonly member: Member
  readonly app: FastifyInstance
  readonly raft: RawNode
  readonly log: MemoryLogStorage
  readonly store: Store
  readonly storage: TestMemberStorage
  /** Stops the member (timers cleared, waiters failed) and closes the app. Idempotent. */
  close(): Promise<void>
}

/** `MemberStorage` in memory: the members list and the applied index. */
export class TestMemberStorage implements MemberStorage {
  /** Each transaction's `durable` flag, in order (whether its commit would wait for the disk). */
  readonly transactions: boolean[] = []
  private applied = 0
  private readonly list: MemberInfo[]
  private readonly removed = new Set<string>()

  constructor(
    readonly log: MemoryLogStorage,
    members: readonly MemberInfo[],
  ) {
    this.list = [...members]
  }

  transaction<T>(fn: () => T, durable = true): T {
    this.transactions.push(durable)
    return fn()
  }

  appliedIndex(): number {
    return this.applied
  }

  setAppliedIndex(index: number): void {
    this.applied = index
  }

  members(): MemberInfo[] {
    return [...this.list].sort((a, b) => (BigInt('0x' + a.id) < BigInt('0x' + b.id) ? -1 : 1))
  }

  upsertMember(member: MemberInfo): void {
    const at = this.list.findIndex((m) => m.id === member.id)
    if (at === -1) this.list.push(member)
    else this.list[at] = member
  }

  removeMember(id: string): void {
    const at = this.list.findIndex((m) => m.id === id)
    if (at !== -1) this.list.splice(at, 1)
    this.removed.add(id)
  }

  isRemoved(id: string): boolean {
    return this.removed.has(id)
  }

  /** A test member never sends a snapshot: its only peer (if any) is never behind a compaction. */
  openStateReader(): StateReader {
    throw new Error('TestMemberStorage: snapshots are not supported')
  }

  /** A test member never installs a snapshot: no peer ever sends one. */
  importState(): void {
    throw new Error('TestMemberStorage: snapshots are not supported')
  }
}

/** Every chunk of `state`, joined; `state` is closed. */
export function readAll(state: StateReader): Uint8Array {
  const pieces: Uint8Array[] = []
  try {
    for (let piece = state.next(); piece !== undefined; piece = state.next()) pieces.push(piece)
  } finally {
    state.close()
  }
  return new Uint8Array(Buffer.concat(pieces))
}

/** Builds the member's parts without starting anything. */
export function buildTestMember(options: TestMemberOptions = {}): Omit<TestMember, 'close'> {
  const settings: MemberSettings = { ...testMemberSettings, ...options.member }
  const others = (options.mode ?? 'leader') === 'leader' ? [] : [peerId]
  const log = new MemoryLogStorage({ voters: [settings.memberId, ...others] })
  const members = [testMemberInfo, ...others.map((id) => ({ id, name: '', peerUrls: [`http://peer-${id}:2380`], clientUrls: [] }))]
  const storage = new TestMemberStorage(log, members)
  const logger = pino({ level: 'silent' })
  const raftConfig: RaftConfig = {
    id: settings.memberId,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    messageBytesMax: 1024 * 1024,
    inflightMessagesMax: 256,
    appliedIndex: 0,
  }
  const raft = new RawNode(raftConfig, log, new SeededRng(options.seed ?? 1), logger)
  const store = new Store(new MemoryStoreBackend(), { ...defaultStoreLimits, ...options.store })
  const onSend = options.onSend
  const onSetPeers = options.onSetPeers
  const peers = {
    send: (messages: readonly Message[]) => onSend?.(messages),
    // The state is read whole, here, and handed over in the message (as a transport would deliver it).
    sendSnapshot: (message: Message, state: StateReader) => onSend?.([{ ...message, snapshot: { metadata: message.snapshot?.metadata ?? { index: 0, term: 0, confState: { voters: [] } }, data: readAll(state) } }]),
    setPeers: (members: readonly MemberInfo[]) => onSetPeers?.(members),
  }
  const member = new Member({ raft, store, storage, peers, clock: options.clock ?? systemClock, logger, settings })
  const http = options.http ?? {}
  const httpSettings: HttpSettings = {
    ...testHttpSettings,
    ...http,
    limits: { ...testHttpSettings.limits, ...http.limits },
  }
  const app = buildApp(member, httpSettings)
  app.addHook('onRequest', (request, _reply, done) => {
    const raw = request.headers[rawUrlHeader]
    if (typeof raw === 'string') (request.raw as { originalUrl?: string }).originalUrl = raw
    done()
  })
  return { member, app, raft, log, store, storage }
}

/**
 * Builds and starts a member. In the default mode, resolves once it leads and has applied
 * its term's first entry and its published attributes (so the next Raft entry is the test's
 * own); in the others, at once.
 * @throws Error when a default-mode member has not become leader after 1000 loop passes.
 */
export async function startTestMember(options: TestMemberOptions = {}): Promise<TestMember> {
  const parts = buildTestMember(options)
  const { member, app, raft } = parts
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    member.stop()
    await app.close()
  }
  scriptPeer(raft, options.mode ?? 'leader')
  member.start()
  if ((options.mode ?? 'leader') === 'leader') {
    for (let pass = 0; pass < 1_000 && !settled(parts); pass++) {
      member.receive([]) // runs a loop turn now, without waiting for a tick
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (!settled(parts)) {
      await close()
      throw new Error('test member did not become leader')
    }
  }
  return { ...parts, close }
}

/** The member leads and has applied everything, its published attributes included. */
function settled(parts: Omit<TestMember, 'close'>): boolean {
  const status = parts.raft.status()
  if (parts.member.selfStats().state !== 'StateLeader') return false
  if (status.applied < status.commit) return false
  const applied = parts.log.entries(parts.log.firstIndex(), status.applied + 1, Number.MAX_SAFE_INTEGER)
  return applied.some((entry) => entry.data.startsWith('a '))
}

/** Steps the peer's scripted messages into `raft` before the member starts. */
function scriptPeer(raft: RawNode, mode: NonNullable<TestMemberOptions['mode']>): void {
  const self = raft.status().id
  switch (mode) {
    case 'leader':
    case 'noLeader':
      return
    case 'follower':
      raft.step(peerMessage('heartbeat', self, 1))
      return
    case 'leaderWithoutQuorum':
      raft.campaign() // PreVote round for term 1
      raft.step(peerMessage('preVoteResp', self, 1))
      raft.step(peerMessage('voteResp', self, 1))
      return
  }
}

/** A message from `peerId` to `to`. */
export function peerMessage(type: Message['type'], to: string, term: number, fields: Partial<Message> = {}): Message {
  return {
    type,
    from: peerId,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: '',
    ...fields,
  }
}
