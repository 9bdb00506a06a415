/**
 * Starts and stops the servers the benchmark measures: arbor (built to dist/) and etcd 3.4
 * (`/usr/bin/etcd`, v2 API on), as clusters of `members` processes on loopback, each member on
 * free ports and a fresh data directory under one temporary directory. Every process is
 * ended by its PID and every temporary directory removed by `cleanupAll`, which `bench.ts`
 * also calls on SIGINT/SIGTERM. Both servers get the same etcd member flags (TLS ones
 * included, with https URLs, when `tlsFlags` is given); only the log flags differ (arbor:
 * `--log-level warn`; etcd: `--logger zap --log-level warn`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Client } from 'undici'
import { freePort } from '../../test/support/arbor-process.js'
import type { Access } from './load.js'

export type ServerKind = 'arbor' | 'etcd'

/** Where etcd is expected; the etcd half of the benchmark is skipped when it is missing. */
export const etcdPath = '/usr/bin/etcd'

/** The repository root (scripts/bench/ is two levels below it). */
export const repoRoot = resolve(import.meta.dirname, '../..')

/** arbor's entry point: the bundle `npm run build` makes (scripts/build.mjs). */
export const arborMainJs = join(repoRoot, 'dist/arbor.mjs')

/** Bytes of a member's stdout+stderr kept for error messages (the tail). */
const outputBytesMax = 64 * 1024
/** How long a cluster may take to answer /health and a first write. */
const startTimeoutMs = 30_000
/** How long a member may take to exit after SIGTERM before it gets SIGKILL. */
const stopTimeoutMs = 10_000

/** One running member process. */
export interface MemberProcess {
  readonly name: string
  readonly clientUrl: string
  readonly child: ChildProcess
  readonly pid: number
  /** Resolves with the exit code (or null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>
  /** The tail of stdout+stderr, at most `outputBytesMax` bytes. */
  output(): string
}

/** A running cluster of one kind. */
export interface Cluster {
  readonly kind: ServerKind
  readonly members: readonly MemberProcess[]
  /** Client URLs, one per member, in member order. */
  readonly clientUrls: readonly string[]
  /** The temporary directory holding every member's data directory. */
  readonly tempDir: string
}

export interface ClusterOptions {
  readonly kind: ServerKind
  readonly members: number
  /** Extra arguments for `node` before the script (arbor only), e.g. ['--cpu-prof']. */
  readonly nodeArgs?: readonly string[]
  /** TLS flags of every member (security.ts `memberTlsFlags`); client and peer URLs are
   *  https when given, http otherwise. */
  readonly tlsFlags?: readonly string[]
  /** How the readiness checks reach the members (the CA to trust over https). */
  readonly access: Access
  /** Runs once the cluster is ready, before `startCluster` returns (e.g. enabling auth);
   *  a throw fails the start like a member that does not come up. */
  readonly prepare?: (cluster: Cluster) => Promise<void>
}

const liveMembers = new Set<MemberProcess>()
const liveTempDirs = new Set<string>()

/**
 * Starts `members` processes of `kind` forming one cluster, waits until member 0 answers
 * /health with 200 and a first PUT succeeds (a leader exists and the log is writable), then
 * runs `prepare`.
 * @throws Error when a member exits, the cluster is not ready within `startTimeoutMs`, or
 *         `prepare` throws; the cluster is stopped and its directory removed before the throw.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const tempDir = makeTempDir(options.kind)
  const scheme = options.tlsFlags === undefined ? 'http' : 'https'
  const names = Array.from({ length: options.members }, (_, i) => `m${i}`)
  const clientPorts: number[] = []
  const peerPorts: number[] = []
  for (const _ of names) {
    clientPorts.push(await freePort())
    peerPorts.push(await freePort())
  }
  const initialCluster = names.map((name, i) => `${name}=${scheme}://127.0.0.1:${peerPorts[i]}`).join(',')
  const members = names.map((name, i) =>
    spawnMember(options, {
      name,
      dataDir: join(tempDir, name),
      clientUrl: `${scheme}://127.0.0.1:${clientPorts[i]}`,
      peerUrl: `${scheme}://127.0.0.1:${peerPorts[i]}`,
      initialCluster,
    }),
  )
  const cluster: Cluster = { kind: options.kind, members, clientUrls: members.map((m) => m.clientUrl), tempDir }
  try {
    await waitReady(cluster, options.access)
    await options.prepare?.(cluster)
  } catch (error) {
    await stopCluster(cluster)
    throw error
  }
  return cluster
}

interface MemberFlags {
  readonly name: string
  readonly dataDir: string
  readonly clientUrl: string
  readonly peerUrl: string
  readonly initialCluster: string
}

/** Spawns one member with etcd's member flags; the process is tracked for `cleanupAll`. */
function spawnMember(options: ClusterOptions, flags: MemberFlags): MemberProcess {
  const memberFlags = [
    '--name', flags.name,
    '--data-dir', flags.dataDir,
    '--listen-client-urls', flags.clientUrl,
    '--advertise-client-urls', flags.clientUrl,
    '--listen-peer-urls', flags.peerUrl,
    '--initial-advertise-peer-urls', flags.peerUrl,
    '--initial-cluster', flags.initialCluster,
    '--initial-cluster-state', 'new',
    ...(options.tlsFlags ?? []),
  ]
  const [command, args] =
    options.kind === 'arbor'
      ? [process.execPath, [...(options.nodeArgs ?? []), arborMainJs, ...memberFlags, '--log-level', 'warn']]
      : [etcdPath, [...memberFlags, '--enable-v2=true', '--logger', 'zap', '--log-level', 'warn']]
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output += chunk.toString()
    if (output.length > outputBytesMax) output = output.slice(output.length - outputBytesMax)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  if (child.pid === undefined) throw new Error(`cannot start ${command}`)
  const member: MemberProcess = { name: flags.name, clientUrl: flags.clientUrl, child, pid: child.pid, exited, output: () => output }
  liveMembers.add(member)
  void exited.then(() => liveMembers.delete(member))
  return member
}

/** Polls member 0 until /health is 200 and a PUT of `/v2/keys/bench-ready` answers 2xx. */
async function waitReady(cluster: Cluster, access: Access): Promise<void> {
  const deadline = Date.now() + startTimeoutMs
  const client = new Client(cluster.clientUrls[0] ?? '', { headersTimeout: 2_000, bodyTimeout: 2_000, connect: { timeout: 1_000, ...(access.tls ?? {}) } })
  try {
    while (Date.now() < deadline) {
      const dead = cluster.members.find((m) => m.child.exitCode !== null || m.child.signalCode !== null)
      if (dead !== undefined) throw new Error(`${cluster.kind} ${dead.name} exited: ${dead.output()}`)
      if (await answers2xx(client, 'GET', '/health', undefined)) {
        if (await answers2xx(client, 'PUT', '/v2/keys/bench-ready', 'value=1')) return
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    await client.close()
  }
  const outputs = cluster.members.map((m) => `${m.name}: ${m.output()}`).join('\n')
  throw new Error(`${cluster.kind} was not ready within ${startTimeoutMs} ms\n${outputs}`)
}

async function answers2xx(client: Client, method: 'GET' | 'PUT', path: string, body: string | undefined): Promise<boolean> {
  try {
    const headers = body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }
    const response = await client.request({ method, path, headers, body })
    await response.body.text()
    return response.statusCode >= 200 && response.statusCode < 300
  } catch {
    return false // not listening yet, or no leader yet
  }
}

/**
 * A new directory `arbor-bench-<label>-XXXXXX` under the system's temporary directory,
 * removed by `removeTempDir`, `stopAll` or `cleanupAll`, e.g. for a run's certificates.
 */
export function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `arbor-bench-${label}-`))
  liveTempDirs.add(dir)
  return dir
}

/** Removes a directory made by `makeTempDir`. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  liveTempDirs.delete(dir)
}

/** SIGTERM every member (SIGKILL after `stopTimeoutMs`), wait for all exits, remove the directory. */
export async function stopCluster(cluster: Cluster): Promise<void> {
  await Promise.all(cluster.members.map((m) => stopMember(m)))
  removeTempDir(cluster.tempDir)
}

async function stopMember(member: MemberProcess): Promise<void> {
  if (member.child.exitCode !== null || member.child.signalCode !== null) return
  process.kill(member.pid, 'SIGTERM')
  const timer = setTimeout(() => {
    if (member.child.exitCode === null && member.child.signalCode === null) process.kill(member.pid, 'SIGKILL')
  }, stopTimeoutMs)
  await member.exited
  clearTimeout(timer)
}

/** Stops every member still running, as `stopCluster` does, and removes every temporary directory. */
export async function stopAll(): Promise<void> {
  await Promise.all([...liveMembers].map((m) => stopMember(m)))
  for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true })
  liveTempDirs.clear()
}

/**
 * Synchronous last-resort cleanup for signals and `exit`: SIGKILL every member still running
 * (by PID) and remove every temporary directory still present.
 */
export function cleanupAll(): void {
  for (const member of liveMembers) {
    if (member.child.exitCode === null && member.child.signalCode === null) {
      try {
        process.kill(member.pid, 'SIGKILL')
      } catch {
        // already gone between the check and the kill
      }
    }
  }
  liveMembers.clear()
  for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true })
  liveTempDirs.clear()
}

/** Whether etcd is installed where the benchmark expects it. */
export function etcdAvailable(): boolean {
  return existsSync(etcdPath)
}

