/**
 * Shared pieces of the transport tests: message builders, a recording logger, short
 * timings, receivers on real loopback ports, a port nobody listens on, and `Signal`, which
 * turns callbacks into awaitable events so that no test sleeps.
 */
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Logger, Message, MessageType, Snapshot } from '../../src/raft/index.js'
import {
  buildPeerApp,
  peerAppDefaults,
  transportDefaults,
  PeerTransport,
  type PeerAppOptions,
  type PeerAppSettings,
  type TransportSettings,
} from '../../src/transport/index.js'

export const clusterId = 'cdf818194e3a8c32'

/** A message with every unused field at its zero value (as raft/message.ts builds them). */
export function message(type: MessageType, from: string, to: string, fields: Partial<Message> = {}): Message {
  return {
    type,
    from,
    to,
    term: 1,
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

/**
 * `count` appends without entries from `from` to `to`, numbered by `commit` from `first`
 * (messages the transport sends one for one; it keeps only the newest of queued heartbeats).
 */
export function emptyAppends(from: string, to: string, first: number, count: number): Message[] {
  return Array.from({ length: count }, (_, i) => message('app', from, to, { commit: first + i }))
}

/** A 'snap' message carrying `data`. */
export function snapMessage(from: string, to: string, data: Uint8Array): Message {
  const snapshot: Snapshot = { metadata: { index: 42, term: 3, confState: { voters: [from, to] } }, data }
  return message('snap', from, to, { term: 3, snapshot })
}

/** A logger that keeps every line, for assertions on what was logged. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; fields: object; message: string }[] = []
  debug(fields: object, message: string): void {
    this.lines.push({ level: 'debug', fields, message })
  }
  info(fields: object, message: string): void {
    this.lines.push({ level: 'info', fields, message })
  }
  warn(fields: object, message: string): void {
    this.lines.push({ level: 'warn', fields, message })
  }
  error(fields: object, message: string): void {
    this.lines.push({ level: 'error', fields, message })
  }
  messages(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message)
  }
}

/** Transport timings short enough for tests: backoff 5 ms → 40 ms. */
export const testTransportSettings: TransportSettings = {
  ...transportDefaults,
  backoffInitialMs: 5,
  backoffMaxMs: 40,
  requestTimeoutMs: 5_000,
}

export const testPeerAppSettings: PeerAppSettings = { ...peerAppDefaults }

/** Values pushed by callbacks, awaited by tests in order. */
export class Signal<T> {
  private readonly values: T[] = []
  private readonly waiters: { count: number; resolve: (values: T[]) => void }[] = []

  push(value: T): void {
    this.values.push(value)
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]
      if (waiter !== undefined && this.values.length >= waiter.count) {
        this.waiters.splice(i, 1)
        waiter.resolve(this.values.slice())
      }
    }
  }

  /** Everything pushed so far. */
  get all(): readonly T[] {
    return this.values
  }

  /** Resolves with everything pushed once at least `count` values have been. */
  atLeast(count: number): Promise<T[]> {
    if (this.values.length >= count) return Promise.resolve(this.values.slice())
    return new Promise((resolve) => this.waiters.push({ count, resolve }))
  }
}

/** A member's receiving side on 127.0.0.1: its app, its URL, what it received, batch by batch. */
export interface Receiver {
  readonly memberId: string
  readonly app: FastifyInstance
  readonly url: string
  /** One value per onMessages call: the messages of one batch (or one reassembled snapshot). */
  readonly batches: Signal<Message[]>
  readonly logger: RecordingLogger
  /** All received messages, in order. */
  messages(): Message[]
}

/** Starts a peer app for `memberId` on `port` (0: any free port). */
export async function startReceiver(
  memberId: string,
  options: {
    clusterId?: string
    port?: number
    settings?: Partial<PeerAppSettings>
    members?: PeerAppOptions['members']
    hook?: (app: FastifyInstance) => void
  } = {},
): Promise<Receiver> {
  const batches = new Signal<Message[]>()
  const logger = new RecordingLogger()
  const appOptions: PeerAppOptions = {
    clusterId: options.clusterId ?? clusterId,
    memberId,
    onMessages: (messages) => batches.push(messages),
    members: options.members ?? (() => []),
    version: { etcdserver: '3.4.0', etcdcluster: '3.4.0' },
    settings: { ...testPeerAppSettings, ...options.settings },
    logger,
  }
  const app = buildPeerApp(appOptions)
  options.hook?.(app)
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 })
  const { port } = app.server.address() as AddressInfo
  return { memberId, app, url: `http://127.0.0.1:${port}`, batches, logger, messages: () => batches.all.flat() }
}

/** A loopback port that was free a moment ago and has no listener: connections are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
  return port
}

/** A transport for `memberId` whose reports land in signals. */
export function startTransport(memberId: string, options: { clusterId?: string; settings?: Partial<TransportSettings> } = {}) {
  const unreachable = new Signal<string>()
  const snapshots = new Signal<{ memberId: string; ok: boolean }>()
  const logger = new RecordingLogger()
  const transport = new PeerTransport({
    clusterId: options.clusterId ?? clusterId,
    memberId,
    settings: { ...testTransportSettings, ...options.settings },
    logger,
    reportUnreachable: (id) => unreachable.push(id),
    reportSnapshot: (id, ok) => snapshots.push({ memberId: id, ok }),
  })
  return { transport, unreachable, snapshots, logger }
}

/** Resolves in the next event-loop turn (after pending setImmediate callbacks). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
