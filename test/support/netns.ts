/**
 * Network namespaces for end-to-end tests that cut the network between arbor members
 * (root only: `ip netns`, veth pairs, a bridge, and iptables or routes inside each namespace).
 *
 * A `NetnsLab` gives each of N hosts its own network namespace, joined by a veth pair to one
 * bridge in the root namespace. Host i has address `10.232.<s>.i/24`, the bridge
 * `10.232.<s>.254`, so a client in the root namespace (the test itself) reaches every host
 * while hosts reach each other through the bridge. `cut(a, b)` drops every packet between two
 * hosts, both ways, and `heal(a, b)` undoes it; traffic to and from the root namespace is never
 * cut. Names carry this process's PID (`arbt<pid>-<i>`, `arbtbr<pid>`, `arbt<pid>v<i>`) and
 * the subnet is chosen free of the machine's routes, so runs in parallel do not collide.
 *
 * `netnsPlacement` places a member of an `ArborCluster` in a host (so the cluster's helpers,
 * `WriteLoad`, `readValues` and `v2Request` work with it): its process runs
 * `ip netns exec <ns> node --import <tsx> src/cli/main.ts ...` and listens on its host's
 * address (client port 2379, peer port 2380). `ip netns exec` execs into node, so the
 * spawned PID is node's: signals by PID reach the member itself.
 *
 * `remove()` ends every process started in the lab (by PID: SIGTERM, SIGKILL after 5 s), then
 * deletes the namespaces (which takes their veth ends and the rules along) and the bridge. If
 * the test process exits without calling it, an exit handler SIGKILLs those PIDs and deletes
 * the namespaces and the bridge synchronously. A process ended by a signal (SIGKILL, or
 * SIGTERM from the test runner's timeout) runs no exit handler: what its lab left behind is
 * removed by the next `create` on the machine, which deletes every `arbt<pid>-*` namespace
 * (SIGKILLing any process still in it) and every `arbtbr<pid>` and `arbt<pid>v<i>`/`p<i>`
 * interface whose <pid> runs no more, or is this process's own (then it was a dead
 * process's that had the same PID).
 */
import assert from 'node:assert/strict'
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { sleep, type MemberPlacement } from './arbor-cluster.js'

const execFileAsync = promisify(execFile)

/** How a cut drops packets: iptables DROP rules (INPUT and OUTPUT) or blackhole routes. */
export type CutMethod = 'iptables' | 'blackhole'

/** One namespace of a lab. */
export interface NetnsHost {
  /** 1..N. */
  readonly index: number
  /** The network namespace, as `ip netns` names it. */
  readonly namespace: string
  /** Its IPv4 address on the bridge (on its `eth0`). */
  readonly address: string
}

/** Limits of a lab. */
const netnsLimits = {
  /** Hosts per lab: a single digit keeps interface names within Linux's 15 characters. */
  hostsMax: 9,
  /** Time one `ip`/`iptables` command may take before it counts as failed (ms). */
  commandTimeoutMs: 10_000,
  /** Time `remove()` waits after SIGTERM before SIGKILL (ms). */
  stopGraceMs: 5_000,
} as const

/** What a test that needs namespaces says when it cannot have them. */
const needs = 'this test needs root and iproute2 (`ip netns add` must work; CI runs it as root)'

/**
 * Runs `argv` in the root namespace; returns its stdout.
 * @throws with the command and its stderr when it fails or runs over `commandTimeoutMs`.
 */
async function runCommand(argv: readonly string[]): Promise<string> {
  const [command, ...args] = argv
  if (command === undefined) throw new Error('runCommand: empty command')
  try {
    const { stdout } = await execFileAsync(command, args, { timeout: netnsLimits.commandTimeoutMs, encoding: 'utf8' })
    return stdout
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? ''
    throw new Error(`\`${argv.join(' ')}\` failed: ${stderr || (error as Error).message}`)
  }
}

/** Like `runCommand`, but a failure is ignored (for removing what may not exist). */
async function tryCommand(argv: readonly string[]): Promise<void> {
  await runCommand(argv).catch(() => undefined)
}

/**
 * Throws `needs` (root and iproute2) unless this process can add and delete a namespace.
 * @param probe name of the namespace to try.
 */
async function assertNetnsWorks(probe: string): Promise<void> {
  const uid = process.getuid?.()
  if (uid !== 0) throw new Error(`${needs}; running as uid ${uid ?? 'unknown'}`)
  try {
    await tryCommand(['ip', 'netns', 'del', probe])
    await runCommand(['ip', 'netns', 'add', probe])
    await runCommand(['ip', 'netns', 'del', probe])
  } catch (error) {
    throw new Error(`${needs}: ${(error as Error).message}`)
  }
}

/** An IPv4 prefix as a 32-bit number and a length. */
interface Prefix {
  readonly base: number
  readonly length: number
}

/** `a.b.c.d` or `a.b.c.d/len` → Prefix; undefined for anything else (IPv6, `default`). */
function parsePrefix(text: string): Prefix | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text)
  if (match === null) return undefined
  const octets = match.slice(1, 5).map(Number)
  const base = octets.reduce((sum, octet) => sum * 256 + octet, 0)
  return { base, length: match[5] === undefined ? 32 : Number(match[5]) }
}

/** True when the two prefixes share an address: they agree on the shorter one's bits. */
function overlaps(a: Prefix, b: Prefix): boolean {
  const length = Math.min(a.length, b.length)
  const block = 2 ** (32 - length)
  return Math.floor(a.base / block) === Math.floor(b.base / block)
}

/** Destinations of every IPv4 route of the root namespace, every table (default routes left out). */
async function routedPrefixes(): Promise<Prefix[]> {
  const typed = new Set([
    'local', 'broadcast', 'unicast', 'unreachable', 'blackhole', 'prohibit', 'throw', 'multicast', 'anycast', 'nat',
  ])
  const prefixes: Prefix[] = []
  for (const line of (await runCommand(['ip', '-4', 'route', 'show', 'table', 'all'])).split('\n')) {
    const tokens = line.trim().split(/\s+/)
    const destination = typed.has(tokens[0] ?? '') ? tokens[1] : tokens[0]
    const prefix = parsePrefix(destination ?? '')
    if (prefix !== undefined) prefixes.push(prefix)
  }
  return prefixes
}

/**
 * A /24 in 10.232.0.0/16 that no route of the machine touches, as its first three octets
 * (`10.232.<s>`). Starts at `s = pid mod 250 + 1` so parallel runs start apart.
 * @throws when all 250 are taken.
 */
async function freeSubnet(pid: number): Promise<string> {
  const routed = await routedPrefixes()
  for (let step = 0; step < 250; step++) {
    const subnet = `10.232.${((pid + step) % 250) + 1}`
    const candidate = parsePrefix(`${subnet}.0/24`)
    if (candidate !== undefined && !routed.some((prefix) => overlaps(prefix, candidate))) return subnet
  }
  throw new Error('no free /24 in 10.232.0.0/16: every one clashes with a route of this machine')
}

/** A lab's namespace: `arbt<pid>-<i>`, or `arbt<pid>-probe` of `assertNetnsWorks`; group 1 is the PID. */
const labNamespacePattern = /^arbt([0-9]+)-(?:[0-9]+|probe)$/
/** A lab's interface in the root namespace: the bridge `arbtbr<pid>` or a veth end `arbt<pid>v<i>`/`p<i>`. */
const labLinkPattern = /^arbt(?:br([0-9]+)|([0-9]+)[vp][0-9]+)$/

/** True when no process has PID `pid` (signal 0 fails with ESRCH; EPERM means it runs). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * Removes what labs of processes that no longer run left behind, and any leftover with this
 * process's PID (`ownPid`) in its names: first SIGKILLs the processes still in each such
 * namespace (arbor members the dead test started), then deletes the namespaces and the
 * interfaces. A lab of a running process is never touched.
 */
async function removeLeftovers(ownPid: number): Promise<void> {
  const stale = (pid: string | undefined): boolean => pid !== undefined && (Number(pid) === ownPid || processGone(Number(pid)))
  const namespaces: string[] = []
  for (const line of (await runCommand(['ip', 'netns', 'list'])).split('\n')) {
    const name = line.trim().split(/\s+/)[0] ?? ''
    if (stale(labNamespacePattern.exec(name)?.[1])) namespaces.push(name)
  }
  const links: string[] = []
  for (const line of (await runCommand(['ip', '-o', 'link', 'show'])).split('\n')) {
    const name = /^[0-9]+:\s+([^:@\s]+)/.exec(line)?.[1] ?? ''
    const match = labLinkPattern.exec(name)
    if (stale(match?.[1] ?? match?.[2])) links.push(name)
  }
  for (const namespace of namespaces) await killProcessesIn(namespace)
  await removeNetwork(namespaces, links)
}

/** SIGKILLs every process in `namespace` (`ip netns pids`); one that just exited is skipped. */
async function killProcessesIn(namespace: string): Promise<void> {
  const pids = (await runCommand(['ip', 'netns', 'pids', namespace]).catch(() => '')).split(/\s+/).filter((pid) => pid !== '')
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
    }
  }
}

/** The two ends of a host's veth pair: on the bridge, and in its namespace (renamed eth0 there). */
interface VethNames {
  readonly outside: string
  readonly inside: string
}

/**
 * The names a lab of `size` hosts made by process `id` uses. Interface names stay within
 * Linux's 15 characters for any PID (at most 7 digits) and `size` up to `hostsMax`.
 */
function labNames(id: number, size: number): { namespaces: string[]; bridge: string; veths: VethNames[] } {
  const numbers = Array.from({ length: size }, (_, i) => i + 1)
  return {
    namespaces: numbers.map((n) => `arbt${id}-${n}`),
    bridge: `arbtbr${id}`,
    veths: numbers.map((n) => ({ outside: `arbt${id}v${n}`, inside: `arbt${id}p${n}` })),
  }
}

/** A lab of namespaces joined by a bridge; see the file header. */
export class NetnsLab {
  /** Child processes started in the lab's namespaces, ended by `remove()`. */
  private readonly children: ChildProcess[] = []
  private removed = false
  private readonly onExit = (): void => this.removeSync()

  private constructor(
    readonly hosts: readonly NetnsHost[],
    /** The bridge in the root namespace. */
    readonly bridge: string,
    /** First three octets of the lab's /24, e.g. `10.232.17`. */
    readonly subnet: string,
    /** How `cut` drops packets; chosen in `create`. */
    public cutMethod: CutMethod,
  ) {}

  /**
   * Builds `size` namespaces, their veth pairs and the bridge.
   * @param options.cutMethod force one way of cutting; default: iptables when it works inside
   *        a namespace, else blackhole routes.
   * @throws a message naming root and iproute2 when namespaces cannot be created here, or
   *         when `cutMethod` is 'iptables' and iptables does not work in a namespace.
   */
  static async create(size: number, options: { cutMethod?: CutMethod } = {}): Promise<NetnsLab> {
    if (!(size >= 1 && size <= netnsLimits.hostsMax)) throw new Error(`a lab has 1..${netnsLimits.hostsMax} hosts, not ${size}`)
    const id = process.pid
    await assertNetnsWorks(`arbt${id}-probe`)
    await removeLeftovers(id)
    const names = labNames(id, size)
    const subnet = await freeSubnet(id)
    const hosts = names.namespaces.map((namespace, i) => ({ index: i + 1, namespace, address: `${subnet}.${i + 1}` }))
    const built = new NetnsLab(hosts, names.bridge, subnet, 'blackhole')
    process.once('exit', built.onExit)
    try {
      await built.build(names.veths)
      const iptablesWorks = await built.iptablesWorks()
      if (options.cutMethod === 'iptables' && !iptablesWorks) {
        throw new Error('iptables does not work inside a network namespace here (install the iptables package)')
      }
      built.cutMethod = options.cutMethod ?? (iptablesWorks ? 'iptables' : 'blackhole')
    } catch (error) {
      await built.remove()
      throw error
    }
    return built
  }

  /** Creates the bridge, then each namespace with its veth pair (`veths[i]` for host i+1) and address. */
  private async build(veths: readonly VethNames[]): Promise<void> {
    await runCommand(['ip', 'link', 'add', this.bridge, 'type', 'bridge'])
    await runCommand(['ip', 'addr', 'add', `${this.subnet}.254/24`, 'dev', this.bridge])
    await runCommand(['ip', 'link', 'set', this.bridge, 'up'])
    for (const host of this.hosts) {
      const pair = veths[host.index - 1]
      assert(pair !== undefined)
      const { outside, inside } = pair
      await runCommand(['ip', 'netns', 'add', host.namespace])
      await runCommand(['ip', 'link', 'add', outside, 'type', 'veth', 'peer', 'name', inside])
      await runCommand(['ip', 'link', 'set', inside, 'netns', host.namespace])
      await runCommand(['ip', 'link', 'set', outside, 'master', this.bridge, 'up'])
      await this.exec(host, ['ip', 'link', 'set', 'lo', 'up'])
      await this.exec(host, ['ip', 'link', 'set', inside, 'name', 'eth0'])
      await this.exec(host, ['ip', 'addr', 'add', `${host.address}/24`, 'dev', 'eth0'])
      await this.exec(host, ['ip', 'link', 'set', 'eth0', 'up'])
    }
  }

  /** True when `iptables -L` answers inside the first namespace. */
  private async iptablesWorks(): Promise<boolean> {
    const first = this.hosts[0]
    if (first === undefined) return false
    return this.exec(first, ['iptables', '-w', '5', '-L', '-n']).then(
      () => true,
      () => false,
    )
  }

  /**
   * Runs `argv` inside `host`'s namespace (`ip netns exec`); returns its stdout.
   * @throws with stderr when it fails or runs over `commandTimeoutMs`.
   */
  exec(host: NetnsHost, argv: readonly string[]): Promise<string> {
    return runCommand(['ip', 'netns', 'exec', host.namespace, ...argv])
  }

  /**
   * Starts `argv` inside `host`'s namespace without waiting for it, stdout and stderr piped.
   * The lab keeps the child and ends it in `remove()` if it still runs then.
   */
  spawn(host: NetnsHost, argv: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
    if (this.removed) throw new Error('the lab was removed')
    const child = spawn('ip', ['netns', 'exec', host.namespace, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env })
    this.children.push(child)
    return child
  }

  /** Drops every packet between `a` and `b`, both ways (`cutMethod`). */
  async cut(a: NetnsHost, b: NetnsHost): Promise<void> {
    await this.link('add', a, b)
  }

  /** Undoes `cut(a, b)`. */
  async heal(a: NetnsHost, b: NetnsHost): Promise<void> {
    await this.link('del', a, b)
  }

  /** Adds or deletes the rules of one cut: in each of the two namespaces, against the other. */
  private async link(action: 'add' | 'del', a: NetnsHost, b: NetnsHost): Promise<void> {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      if (this.cutMethod === 'iptables') {
        const flag = action === 'add' ? '-A' : '-D'
        await this.exec(from, ['iptables', '-w', '5', flag, 'INPUT', '-s', to.address, '-j', 'DROP'])
        await this.exec(from, ['iptables', '-w', '5', flag, 'OUTPUT', '-d', to.address, '-j', 'DROP'])
      } else {
        await this.exec(from, ['ip', 'route', action, 'blackhole', `${to.address}/32`])
      }
    }
  }

  /**
   * Ends every process started with `spawn` that still runs (SIGTERM, SIGKILL after
   * `stopGraceMs`), then deletes the namespaces and the bridge. Idempotent; never throws for
   * what is already gone.
   */
  async remove(): Promise<void> {
    const running = this.children.filter(isRunning)
    for (const child of running) signalChild(child, 'SIGTERM')
    const deadline = Date.now() + netnsLimits.stopGraceMs
    while (running.some(isRunning) && Date.now() < deadline) await sleep(50)
    for (const child of running.filter(isRunning)) signalChild(child, 'SIGKILL')
    await Promise.all(running.filter(isRunning).map((child) => new Promise((r) => child.once('exit', r))))
    await removeNetwork(this.hosts.map((h) => h.namespace), [this.bridge])
    this.removed = true
    process.removeListener('exit', this.onExit)
  }

  /** The exit-handler path of `remove()`: SIGKILL by PID and synchronous `ip` commands. */
  private removeSync(): void {
    for (const child of this.children.filter(isRunning)) signalChild(child, 'SIGKILL')
    for (const host of this.hosts) spawnSync('ip', ['netns', 'del', host.namespace], { stdio: 'ignore' })
    spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' })
  }
}

/**
 * Deletes `namespaces` (with the veth ends inside, whose peers go along), then the interfaces
 * `links` of the root namespace; what does not exist is skipped.
 */
async function removeNetwork(namespaces: readonly string[], links: readonly string[]): Promise<void> {
  for (const namespace of namespaces) await tryCommand(['ip', 'netns', 'del', namespace])
  for (const link of links) await tryCommand(['ip', 'link', 'del', link])
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/** Sends `signal` to `child` by its PID; a process that just exited is not an error. */
function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !isRunning(child)) return
  try {
    process.kill(child.pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/** Ports every member placed in a namespace listens on, on its own address. */
const netnsMemberPorts = { client: 2379, peer: 2380 } as const

/**
 * Where an arbor member in `host`'s namespace runs (an `ArborCluster` placement): it listens
 * on the host's address (client port 2379, peer port 2380) and its process is
 * `ip netns exec <ns> node ...`, started through the lab, which ends it in `remove()` if it
 * still runs then.
 */
export function netnsPlacement(lab: NetnsLab, host: NetnsHost): MemberPlacement & { clientPort: number; peerPort: number } {
  return {
    host: host.address,
    clientPort: netnsMemberPorts.client,
    peerPort: netnsMemberPorts.peer,
    spawnProcess: (argv, env) => lab.spawn(host, argv, env),
  }
}
