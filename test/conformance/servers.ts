/**
 * Fresh single members for the conformance suite: a private etcd 3.4.23 (the reference) or
 * arbor (the server under test), each on 127.0.0.1 with free ports and a temporary data
 * directory, named `default` as etcd's defaults would name it. Stopped by PID; the data
 * directory is removed.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, openSync, closeSync, rmSync, readFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** A running member. */
export interface ServerHandle {
  /** Client URL, `http://127.0.0.1:<port>`. */
  readonly url: string
  /** Peer URL, `http://127.0.0.1:<port>`. */
  readonly peerUrl: string
  /** Kills the process by PID and removes its data directory. */
  stop(): Promise<void>
}

/** Starts a fresh server and resolves once it serves requests. */
export type StartServer = () => Promise<ServerHandle>

/** The installed reference binary. */
export const etcdBinary = '/usr/bin/etcd'

/** A TCP port that was free a moment ago (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** Flags shared by etcd and arbor: one member `default` on the given ports. */
function memberFlags(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  return [
    '--data-dir', dataDir,
    '--listen-client-urls', client,
    '--advertise-client-urls', client,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`,
  ]
}

/** Options of `startEtcd`. */
export interface EtcdOptions {
  /** Writes this many times to the hidden key `/_conformance_shift` before resolving, so
   *  the next client write is index 4 + indexShift: a check that the comparer relates
   *  indexes by offset rather than by value. Hidden keys appear in no listing. */
  readonly indexShift?: number
}

/**
 * Starts a private etcd with `--enable-v2=true`. Short election timings only make the
 * single member elect itself sooner; they change no v2 answer. Resolves when the member is
 * healthy and its three internal writes (membership, attributes, cluster version) are done,
 * so the next client write is index 4 (plus `indexShift`).
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<ServerHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'arbor-conf-etcd-'))
  const [clientPort, peerPort] = await twoPorts()
  const args = [
    '--name', 'default', ...memberFlags(path.join(dir, 'data'), clientPort, peerPort),
    '--enable-v2=true', '--heartbeat-interval', '10', '--election-timeout', '100',
    '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'error',
  ]
  const handle = spawnMember(etcdBinary, args, dir, clientPort, peerPort)
  try {
    await waitReady(handle.url, handle.child, 15_000, path.join(dir, 'log'))
    await waitFor(async () => {
      const v = await fetchText(`${handle.url}/version`)
      const k = await fetchHead(`${handle.url}/v2/keys/`)
      return !v.includes('not_decided') && k === '3'
    }, 10_000, 'etcd internal writes')
    for (let i = 0; i < (options.indexShift ?? 0); i++) {
      const r = await fetch(`${handle.url}/v2/keys/_conformance_shift`, { method: 'PUT', body: 'value=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      await r.arrayBuffer()
    }
  } catch (e) {
    await handle.stop()
    throw e
  }
  return handle
}

/**
 * Starts arbor from source: `node --import tsx src/cli/main.ts` with etcd's member flags,
 * in `repoRoot`, plus `extraArgs`. Resolves when `/health` answers 200.
 */
export async function startArbor(repoRoot: string, extraArgs: readonly string[] = []): Promise<ServerHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'arbor-conf-arbor-'))
  const [clientPort, peerPort] = await twoPorts()
  const args = ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), ...memberFlags(path.join(dir, 'data'), clientPort, peerPort), ...extraArgs]
  const handle = spawnMember(process.execPath, args, dir, clientPort, peerPort, repoRoot)
  try {
    await waitReady(handle.url, handle.child, 30_000, path.join(dir, 'log'))
  } catch (e) {
    await handle.stop()
    throw e
  }
  return handle
}

async function twoPorts(): Promise<[number, number]> {
  const a = await freePort()
  let b = await freePort()
  while (b === a) b = await freePort()
  return [a, b]
}

interface SpawnedMember extends ServerHandle {
  readonly child: ChildProcess
}

function spawnMember(cmd: string, args: string[], dir: string, clientPort: number, peerPort: number, cwd?: string): SpawnedMember {
  const log = openSync(path.join(dir, 'log'), 'w')
  const child = spawn(cmd, args, { stdio: ['ignore', log, log], cwd: cwd ?? dir })
  closeSync(log)
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGTERM')
        const timer = setTimeout(() => {
          if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL')
        }, 3_000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    })()
    return stopping
  }
  return { url: `http://127.0.0.1:${clientPort}`, peerUrl: `http://127.0.0.1:${peerPort}`, child, stop }
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, logPath: string): Promise<void> {
  await waitFor(async () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`member exited (${child.exitCode ?? child.signalCode}): ${readLog(logPath)}`)
    }
    const r = await fetch(`${url}/health`)
    await r.arrayBuffer()
    return r.status === 200
  }, timeoutMs, `${url}/health`)
}

function readLog(logPath: string): string {
  try {
    return readFileSync(logPath, 'utf8').slice(-2000)
  } catch {
    return '(no log)'
  }
}

/** Polls `probe` every 50 ms; connection errors count as "not yet". */
async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await probe()) return
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('member exited')) throw e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url)
  return r.text()
}

async function fetchHead(url: string): Promise<string | null> {
  const r = await fetch(url)
  await r.arrayBuffer()
  return r.headers.get('x-etcd-index')
}
