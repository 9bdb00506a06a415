/**
 * Starts a cluster of arbor members as child processes on loopback for end-to-end tests:
 * free ports, one temporary data directory per member, etcd's cluster flags, and control of
 * each member's process by PID (SIGKILL, SIGTERM, SIGSTOP, SIGCONT, restart on its data
 * directory, a new member joining with `--initial-cluster-state existing`). `stop()` ends
 * every process this helper started, by PID, and removes the data directories.
 *
 * The leader is found from `/v2/stats/self` of the members asked: one of them says
 * `StateLeader` and every one of them names it in `leaderInfo.leader`.
 *
 * Beside it, what the cluster tests share: `v2Request` (one HTTP request with a deadline),
 * `WriteLoad` (concurrent writers of unique keys that record every acknowledged write and
 * every stale quorum read), `probeFirstWrite` (time to the first write accepted after an
 * event), and `readValues` / `missingWrites` (is every acknowledged write on a member).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { request } from 'undici'
import { freePort, removeDir, tempDir } from './arbor-process.js'

const mainTs = resolve(import.meta.dirname, '../../src/cli/main.ts')
/** The built member that `npm start` and the `arbor` bin run (made by `npm run build`, at install). */
export const builtMainJs = resolve(import.meta.dirname, '../../dist/arbor.mjs')
/** tsx's loader by URL, so a member's working directory does not matter. */
const tsxLoader = import.meta.resolve('tsx')

/** How a cluster is started. Times in ms. */
export interface ClusterOptions {
  /** Number of members, named n1..nN. */
  readonly size: number
  /** etcd's --heartbeat-interval (default 50, to keep the tests fast). */
  readonly heartbeatIntervalMs?: number
  /** etcd's --election-timeout (default 500). */
  readonly electionTimeoutMs?: number
  /** More flags for every member, e.g. ['--request-timeout-ms', '1000']. */
  readonly extraArgs?: readonly string[]
  /** Scheme of the peer URLs: 'https' with the peer TLS flags in `extraArgs` (default 'http'). */
  readonly peerScheme?: 'http' | 'https'
  /** What runs: the TypeScript sources through tsx (default), or the built package (`dist/`). */
  readonly entry?: 'source' | 'built'
  /** --log-level of every member (default 'info': role and leader changes are logged). */
  readonly logLevel?: string
  /**
   * Where member i (0-based) runs and listens, e.g. in a network namespace of its own
   * (test/support/netns.ts). Default: 127.0.0.1 on free ports, started by this process.
   */
  readonly placement?: (index: number) => MemberPlacement & { readonly clientPort: number; readonly peerPort: number }
}

/** What `/v2/stats/self` says (the fields used here). */
export interface SelfStatsSeen {
  readonly id: string
  readonly name: string
  readonly state: string
  readonly leaderInfo: { readonly leader: string }
}

/** An answer to one HTTP request. */
export interface V2Reply {
  readonly status: number
  /** The parsed body, undefined when it is not JSON. `any`: each endpoint answers its own
   *  shape (a node, an error, members, stats) and each test reads the fields it expects. */
  readonly json: any
  readonly text: string
  /** `X-Etcd-Index`, NaN when absent. */
  readonly etcdIndex: number
}

/**
 * One request to `baseUrl` (a member's client URL).
 * @param form  a body sent as application/x-www-form-urlencoded (PUT/POST on /v2/keys).
 * @param jsonBody a body sent as application/json (/v2/members).
 * @throws on a network error, or when no answer came within `timeoutMs` (default 5000).
 */
export async function v2Request(
  baseUrl: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  options: { form?: string; jsonBody?: unknown; timeoutMs?: number } = {},
): Promise<V2Reply> {
  const timeoutMs = options.timeoutMs ?? 5_000
  const headers: Record<string, string> = {}
  let body: string | undefined
  if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = options.form
  } else if (options.jsonBody !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.jsonBody)
  }
  const response = await request(baseUrl + path, {
    method,
    headers,
    body,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.statusCode, json, text, etcdIndex: Number(response.headers['x-etcd-index']) }
}

/** Resolves after `ms` milliseconds (end-to-end tests only). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/**
 * Where a member runs: its listening address (default 127.0.0.1) and, for a member in
 * another network namespace, how its process is started (`argv` is node and its arguments).
 * A `spawnProcess` must start `argv` itself (not a shell around it), so that the child's PID
 * is the member's.
 */
export interface MemberPlacement {
  readonly host?: string
  readonly spawnProcess?: (argv: readonly string[], env: NodeJS.ProcessEnv) => ChildProcess
}

/** One member of the cluster: its addresses, its data directory and its current process. */
export class ClusterMember {
  readonly clientUrl: string
  readonly peerUrl: string
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private log = ''
  /** True between `pause` and `resume`. */
  paused = false
  /** etcd member id (hex), known once the member answered `/v2/stats/self`. */
  id = ''

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    private readonly placement: MemberPlacement = {},
    peerScheme: 'http' | 'https' = 'http',
  ) {
    const host = placement.host ?? '127.0.0.1'
    this.clientUrl = `http://${host}:${clientPort}`
    this.peerUrl = `${peerScheme}://${host}:${peerPort}`
  }

  /** PID of the running process; undefined when none runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined
  }

  /** True while the current process has not exited (paused counts as running). */
  get running(): boolean {
    const child = this.child
    return child !== undefined && child.exitCode === null && child.signalCode === null
  }

  /** Exit code and signal of the last process (both null while it runs). */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } {
    return { code: this.child?.exitCode ?? null, signal: this.child?.signalCode ?? null }
  }

  /** Everything every process of this member wrote, each start marked by a line. */
  output(): string {
    return this.log
  }

  /**
   * Spawns the process with `args` (after node's own) and `env` added to this process's
   * environment (its ETCD* and ARBOR_* variables are left out: arbor reads both as settings).
   * Does not wait for it to serve.
   */
  /** Node's arguments before the member's flags: the program to run. */
  entryArgv: readonly string[] = ['--import', tsxLoader, mainTs]

  spawn(args: readonly string[], env: Readonly<Record<string, string>> = {}): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.child?.pid})`)
    mkdirSync(this.dataDir, { recursive: true })
    const setting = (name: string): boolean => name.startsWith('ETCD') || name.startsWith('ARBOR_')
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !setting(name)))
    const argv = [process.execPath, ...this.entryArgv, ...args]
    const fullEnv = { ...inherited, ...env }
    const child =
      this.placement.spawnProcess?.(argv, fullEnv) ??
      spawn(process.execPath, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: fullEnv })
    this.child = child
    this.paused = false
    this.log += `--- ${this.name} started, pid ${child.pid} ---\n`
    child.stdout?.on('data', (chunk: Buffer) => (this.log += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString()))
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        this.log += `--- ${this.name} pid ${child.pid} exited: code ${code}, signal ${signal} ---\n`
        resolveExit()
      }),
    )
  }

  /** Sends `signal` to the running process by its PID (no-op when none runs). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.pid
    if (pid !== undefined) process.kill(pid, signal)
  }

  /** Waits for the current process to exit. */
  waitForExit(): Promise<void> {
    return this.exited
  }
}

/** N members started together; see the file header. */
export class ArborCluster {
  readonly heartbeatIntervalMs: number
  readonly electionTimeoutMs: number
  private readonly extraArgs: readonly string[]
  private readonly logLevel: string
  private readonly root: string
  private readonly token: string

  private constructor(
    options: ClusterOptions,
    readonly members: ClusterMember[],
    root: string,
  ) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 50
    this.electionTimeoutMs = options.electionTimeoutMs ?? 500
    this.extraArgs = options.extraArgs ?? []
    this.logLevel = options.logLevel ?? 'info'
    this.root = root
    this.token = `arbor-test-${process.pid}-${Date.now()}`
  }

  /** Starts `options.size` members (n1..nN) and waits until all serve and agree on a leader. */
  static async start(options: ClusterOptions): Promise<ArborCluster> {
    const root = tempDir('arbor-cluster-')
    const members: ClusterMember[] = []
    for (let i = 1; i <= options.size; i++) {
      const placed = options.placement?.(i - 1)
      const name = `n${i}`
      members.push(
        placed === undefined ? await ArborCluster.newMember(root, name, options.peerScheme) : new ClusterMember(name, placed.clientPort, placed.peerPort, join(root, name), placed),
      )
    }
    const cluster = new ArborCluster(options, members, root)
    if (options.entry === 'built') for (const member of members) member.entryArgv = [builtMainJs]
    const initialCluster = cluster.initialCluster(members)
    try {
      for (const member of members) member.spawn(cluster.args(member, initialCluster, 'new'))
      await Promise.all(members.map((m) => cluster.waitForHealth(m)))
      await cluster.waitForLeader()
    } catch (error) {
      await cluster.stop()
      throw error
    }
    return cluster
  }

  private static async newMember(root: string, name: string, peerScheme: 'http' | 'https' = 'http'): Promise<ClusterMember> {
    return new ClusterMember(name, await freePort(), await freePort(), join(root, name), {}, peerScheme)
  }

  /** The member named `name`. @throws when there is none. */
  member(name: string): ClusterMember {
    const found = this.members.find((m) => m.name === name)
    if (found === undefined) throw new Error(`no member named ${name}`)
    return found
  }

  /** Members whose process runs and is not paused. */
  live(): ClusterMember[] {
    return this.members.filter((m) => m.running && !m.paused)
  }

  /** `name=peerUrl,...` of `members`, as `--initial-cluster` wants it. */
  initialCluster(members: readonly ClusterMember[]): string {
    return members.map((m) => `${m.name}=${m.peerUrl}`).join(',')
  }

  /** The flags a member is started with. */
  private args(member: ClusterMember, initialCluster: string, state: 'new' | 'existing'): string[] {
    return [
      '--name', member.name,
      '--data-dir', member.dataDir,
      '--listen-client-urls', member.clientUrl,
      '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl,
      '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', state,
      '--initial-cluster-token', this.token,
      '--heartbeat-interval', String(this.heartbeatIntervalMs),
      '--election-timeout', String(this.electionTimeoutMs),
      '--log-level', this.logLevel,
      ...this.extraArgs,
    ]
  }

  /** SIGKILL and wait for the exit. */
  async kill(member: ClusterMember): Promise<void> {
    member.signal('SIGKILL')
    await member.waitForExit()
    member.paused = false
  }

  /** SIGTERM (a paused member is continued first) and wait; returns the exit code. */
  async terminate(member: ClusterMember): Promise<number | null> {
    if (member.paused) this.resume(member)
    member.signal('SIGTERM')
    await member.waitForExit()
    return member.exit.code
  }

  /** SIGSTOP: the process stops answering peers and clients, its sockets stay open. */
  pause(member: ClusterMember): void {
    member.signal('SIGSTOP')
    member.paused = true
  }

  /** SIGCONT after `pause`. */
  resume(member: ClusterMember): void {
    member.signal('SIGCONT')
    member.paused = false
  }

  /**
   * Starts a stopped member again on its data directory and ports, with `moreArgs` after its
   * usual flags (e.g. ['--force-new-cluster']); waits for /health.
   */
  async restart(member: ClusterMember, moreArgs: readonly string[] = []): Promise<void> {
    member.spawn([...this.args(member, this.initialCluster(this.members), 'new'), ...moreArgs])
    await this.waitForHealth(member)
  }

  /**
   * A new member (ports, data directory) not yet known to the cluster: announce it with
   * `POST /v2/members` or `etcdctl member add`, then `join` it.
   */
  async prepareMember(name: string): Promise<ClusterMember> {
    const member = await ArborCluster.newMember(this.root, name)
    const first = this.members[0]
    if (first !== undefined) member.entryArgv = first.entryArgv
    this.members.push(member)
    return member
  }

  /**
   * Starts a member that was added to the cluster, with `--initial-cluster-state existing`
   * and `initialCluster` (every member, itself included); waits for /health.
   */
  async join(member: ClusterMember, initialCluster: string): Promise<void> {
    member.spawn(this.args(member, initialCluster, 'existing'))
    await this.waitForHealth(member)
  }

  /**
   * Starts a member that was added to the cluster with the environment `etcdctl member add`
   * printed (ETCD_NAME, ETCD_INITIAL_CLUSTER, ETCD_INITIAL_CLUSTER_STATE): those three
   * settings come from `env` alone, the rest from flags; waits for /health.
   */
  async joinWithEnv(member: ClusterMember, env: Readonly<Record<string, string>>): Promise<void> {
    const fromEnv = new Set(['--name', '--initial-cluster', '--initial-cluster-state'])
    const args = this.args(member, '', 'existing')
    const kept: string[] = []
    for (let i = 0; i < args.length; i += 2) {
      const flag = args[i]
      const value = args[i + 1]
      if (flag !== undefined && value !== undefined && !fromEnv.has(flag)) kept.push(flag, value)
    }
    member.spawn(kept, env)
    await this.waitForHealth(member)
  }

  /** Forgets a member whose process ended (after it was removed from the cluster). */
  forget(member: ClusterMember): void {
    if (member.running) throw new Error(`${member.name} still runs`)
    const at = this.members.indexOf(member)
    if (at >= 0) this.members.splice(at, 1)
  }

  /** `/v2/stats/self` of `member` (1 s at most). */
  async selfStats(member: ClusterMember): Promise<SelfStatsSeen> {
    const reply = await v2Request(member.clientUrl, 'GET', '/v2/stats/self', { timeoutMs: 1_000 })
    if (reply.status !== 200) throw new Error(`${member.name} /v2/stats/self answered ${reply.status}`)
    const stats = reply.json as SelfStatsSeen
    member.id = stats.id
    return stats
  }

  /**
   * Waits until one of `among` (default: the live members) is leader and all of them name
   * it; `timeoutMs` default 10 s. @throws with every member's view when that does not happen.
   */
  async waitForLeader(among: readonly ClusterMember[] = this.live(), timeoutMs = 10_000): Promise<ClusterMember> {
    const deadline = Date.now() + timeoutMs
    let views: string[] = []
    while (Date.now() < deadline) {
      const seen = await Promise.all(among.map((m) => this.selfStats(m).catch((error: Error) => error)))
      views = seen.map((s, i) => `${among[i]?.name}: ${s instanceof Error ? s.message : `${s.state} leader=${s.leaderInfo.leader}`}`)
      const leaderId = seen.find((s): s is SelfStatsSeen => !(s instanceof Error) && s.state === 'StateLeader')?.id
      const agreed = leaderId !== undefined && seen.every((s) => !(s instanceof Error) && s.leaderInfo.leader === leaderId)
      const leader = among.find((m) => m.id === leaderId)
      if (agreed && leader !== undefined) return leader
      await sleep(20)
    }
    throw new Error(`no agreed leader within ${timeoutMs} ms: ${views.join('; ')}`)
  }

  /** `member`'s X-Etcd-Index (from a plain GET of the root). */
  async etcdIndex(member: ClusterMember): Promise<number> {
    return (await v2Request(member.clientUrl, 'GET', '/v2/keys/', { timeoutMs: 2_000 })).etcdIndex
  }

  /** Polls until `member`'s etcd index reaches `index` (default 10 s); returns the time taken (ms). */
  async waitForIndex(member: ClusterMember, index: number, timeoutMs = 10_000): Promise<number> {
    const startedAt = Date.now()
    let seen = NaN
    while (Date.now() - startedAt < timeoutMs) {
      seen = await this.etcdIndex(member).catch(() => NaN)
      if (seen >= index) return Date.now() - startedAt
      await sleep(20)
    }
    throw new Error(`${member.name} is at etcd index ${seen}, not ${index}, after ${timeoutMs} ms`)
  }

  /** Polls `GET /health` on `member` until it answers 200 (20 s at most). */
  async waitForHealth(member: ClusterMember, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (!member.running) throw new Error(`${member.name} exited (${JSON.stringify(member.exit)}):\n${member.output()}`)
      const reply = await v2Request(member.clientUrl, 'GET', '/health', { timeoutMs: 1_000 }).catch(() => undefined)
      if (reply?.status === 200) return
      await sleep(50)
    }
    throw new Error(`${member.name} did not become healthy within ${timeoutMs} ms:\n${member.output()}`)
  }

  /** Every member's output, for an assertion message. */
  output(): string {
    return this.members.map((m) => m.output()).join('\n')
  }

  /**
   * Ends every process this cluster started, by PID: paused ones are continued, all get
   * SIGTERM, any still running after 5 s gets SIGKILL. Removes the data directories.
   * @returns each member's exit code of its last process (null when killed by a signal).
   */
  async stop(): Promise<Record<string, number | null>> {
    const running = this.members.filter((m) => m.running)
    for (const member of running) if (member.paused) this.resume(member)
    for (const member of running) member.signal('SIGTERM')
    const timer = setTimeout(() => {
      for (const member of running) member.signal('SIGKILL')
    }, 5_000)
    await Promise.all(running.map((m) => m.waitForExit()))
    clearTimeout(timer)
    removeDir(this.root)
    return Object.fromEntries(this.members.map((m) => [m.name, m.exit.code]))
  }
}

/** A write that got a 2xx answer: it must be readable on every member from then on. */
export interface AckedWrite {
  readonly key: string
  readonly value: string
  /** Name of the member the client wrote through. */
  readonly via: string
  /** When the request was sent and when its answer came (Date.now() ms). */
  readonly startedAtMs: number
  readonly ackedAtMs: number
}

/** How a `WriteLoad` writes. Times in ms. */
export interface WriteLoadOptions {
  /** Keys are `/<prefix>/<client>/<n>`, values `v<client>.<n>`. */
  readonly prefix: string
  readonly clients: number
  /** Client i starts on member i mod N and moves to the next member after a failure. */
  readonly members: () => readonly ClusterMember[]
  /** Client-side limit for one request (the member may also answer 300 sooner). */
  readonly requestTimeoutMs: number
  /** After each acknowledged write, read the key with quorum=true on another live member. */
  readonly quorumReadBack: boolean
}

/**
 * Concurrent clients writing unique keys until `stop()`. Records every acknowledged write,
 * every failure by kind, and every quorum read that did not see a write acknowledged before
 * it started (a stale read: a linearizability violation).
 */
export class WriteLoad {
  readonly acked = new Map<string, AckedWrite>()
  readonly failures = new Map<string, number>()
  /** Quorum reads that answered without the acknowledged value: each is a bug. */
  readonly staleReads: string[] = []
  quorumReadsSeen = 0
  private running = false
  private clients: Promise<void>[] = []

  constructor(private readonly options: WriteLoadOptions) {}

  start(): void {
    this.running = true
    for (let i = 0; i < this.options.clients; i++) this.clients.push(this.runClient(i))
  }

  /** Stops sending and waits for every request in flight to end. */
  async stop(): Promise<void> {
    this.running = false
    await Promise.all(this.clients)
    this.clients = []
  }

  /** Acknowledged writes sent through one of `names` with an answer in [fromMs, toMs). */
  ackedVia(names: readonly string[], fromMs: number, toMs: number): AckedWrite[] {
    return [...this.acked.values()].filter((w) => names.includes(w.via) && w.ackedAtMs >= fromMs && w.ackedAtMs < toMs)
  }

  /**
   * The longest time in [fromMs, toMs] without an acknowledgement (Date.now() ms), measured
   * between answers: how long the cluster looked unavailable to these clients.
   */
  longestGapMs(fromMs: number, toMs: number): number {
    const times = [...this.acked.values()].map((w) => w.ackedAtMs).filter((t) => t >= fromMs && t <= toMs)
    times.sort((a, b) => a - b)
    let longest = 0
    let previous = fromMs
    for (const time of [...times, toMs]) {
      longest = Math.max(longest, time - previous)
      previous = time
    }
    return longest
  }

  /** `failures` as one line, for diagnostics. */
  failureSummary(): string {
    return [...this.failures].map(([kind, count]) => `${kind}: ${count}`).join(', ') || 'none'
  }

  private countFailure(kind: string): void {
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1)
  }

  private async runClient(clientNo: number): Promise<void> {
    let memberNo = clientNo
    for (let n = 0; this.running; n++) {
      const members = this.options.members()
      const member = members[memberNo % members.length]
      if (member === undefined) return
      const write = await this.writeOnce(member, clientNo, n)
      if (write === undefined) {
        memberNo += 1
        await sleep(20)
        continue
      }
      if (this.options.quorumReadBack) await this.readBack(write, members, memberNo + 1 + n)
    }
  }

  private async writeOnce(member: ClusterMember, clientNo: number, n: number): Promise<AckedWrite | undefined> {
    const key = `/${this.options.prefix}/${clientNo}/${n}`
    const value = `v${clientNo}.${n}`
    const startedAtMs = Date.now()
    try {
      const reply = await v2Request(member.clientUrl, 'PUT', `/v2/keys${key}`, {
        form: `value=${value}`,
        timeoutMs: this.options.requestTimeoutMs,
      })
      if (reply.status !== 201) {
        this.countFailure(`PUT ${reply.status} ${reply.json?.errorCode ?? ''} ${reply.json?.cause ?? ''}`.trim())
        return undefined
      }
      const write = { key, value, via: member.name, startedAtMs, ackedAtMs: Date.now() }
      this.acked.set(key, write)
      return write
    } catch (error) {
      this.countFailure(`PUT ${(error as Error).name}`)
      return undefined
    }
  }

  /** Reads `write.key` with quorum=true on a live member other than the writer, if any. */
  private async readBack(write: AckedWrite, members: readonly ClusterMember[], from: number): Promise<void> {
    const others = members.filter((m) => m.name !== write.via && m.running && !m.paused)
    const member = others[from % Math.max(1, others.length)]
    if (member === undefined) return
    try {
      const reply = await v2Request(member.clientUrl, 'GET', `/v2/keys${write.key}?quorum=true`, {
        timeoutMs: this.options.requestTimeoutMs,
      })
      if (reply.status === 200 && reply.json?.node?.value === write.value) this.quorumReadsSeen += 1
      else if (reply.status === 200 || reply.status === 404) {
        this.staleReads.push(`${member.name} GET ${write.key}?quorum=true after its ack via ${write.via}: ${reply.status} ${reply.text.trim()}`)
      } else this.countFailure(`quorum GET ${reply.status} ${reply.json?.errorCode ?? ''}`.trim())
    } catch (error) {
      this.countFailure(`quorum GET ${(error as Error).name}`)
    }
  }
}

/**
 * From now on, starts a PUT of a new key through one of `members` (in turn) every `everyMs`
 * without waiting for earlier ones, until one is acknowledged; then waits for the rest.
 * @param options.sinceMs the event measured from (Date.now() ms; default: now).
 * @returns ms from `sinceMs` to the first acknowledgement, and every write acknowledged.
 * @throws when nothing is acknowledged within `timeoutMs`.
 */
export async function probeFirstWrite(
  members: readonly ClusterMember[],
  prefix: string,
  options: { sinceMs?: number; everyMs: number; requestTimeoutMs: number; timeoutMs: number },
): Promise<{ elapsedMs: number; acked: AckedWrite[] }> {
  const sinceMs = options.sinceMs ?? Date.now()
  const acked: AckedWrite[] = []
  const inFlight: Promise<void>[] = []
  let firstAckMs: number | undefined
  for (let n = 0; firstAckMs === undefined && Date.now() - sinceMs < options.timeoutMs; n++) {
    const member = members[n % members.length]
    if (member === undefined) break
    const key = `/${prefix}/${n}`
    const startedAtMs = Date.now()
    const put = v2Request(member.clientUrl, 'PUT', `/v2/keys${key}`, { form: `value=p${n}`, timeoutMs: options.requestTimeoutMs })
    inFlight.push(
      put.then(
        (reply) => {
          if (reply.status !== 201) return
          const ackedAtMs = Date.now()
          acked.push({ key, value: `p${n}`, via: member.name, startedAtMs, ackedAtMs })
          firstAckMs ??= ackedAtMs
        },
        () => undefined,
      ),
    )
    await sleep(options.everyMs)
  }
  await Promise.all(inFlight)
  if (firstAckMs === undefined) throw new Error(`no write acknowledged within ${options.timeoutMs} ms`)
  return { elapsedMs: firstAckMs - sinceMs, acked }
}

/** Every key with a value under `/<dir>` on `member` (recursive GET; 404 reads as empty). */
export async function readValues(member: ClusterMember, dir: string, options: { quorum: boolean }): Promise<Map<string, string>> {
  const query = options.quorum ? '?recursive=true&quorum=true' : '?recursive=true'
  const reply = await v2Request(member.clientUrl, 'GET', `/v2/keys/${dir}${query}`, { timeoutMs: 10_000 })
  const values = new Map<string, string>()
  if (reply.status === 404) return values
  if (reply.status !== 200) throw new Error(`${member.name} GET /${dir}: ${reply.status} ${reply.text}`)
  type V2Node = { key: string; value?: string; nodes?: V2Node[] }
  const stack: V2Node[] = [(reply.json as { node: V2Node }).node]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.value !== undefined) values.set(node.key, node.value)
    for (const child of node.nodes ?? []) stack.push(child)
  }
  return values
}

/** The acknowledged writes `values` lacks or holds with another value, as lines. */
export function missingWrites(acked: Iterable<AckedWrite>, values: ReadonlyMap<string, string>): string[] {
  const missing: string[] = []
  for (const write of acked) {
    const got = values.get(write.key)
    if (got !== write.value) missing.push(`${write.key}: acked ${write.value} via ${write.via}, read ${got ?? 'nothing'}`)
  }
  return missing
}
