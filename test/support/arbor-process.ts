/**
 * Starts arbor members as child processes on loopback for end-to-end tests and scripts:
 * free ports, a temporary data directory, waiting for /health, and ending the process by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Agent, request } from 'undici'

/** A running member. */
export interface ArborProcess {
  readonly clientUrl: string
  readonly peerUrl: string
  readonly dataDir: string
  readonly child: ChildProcess
  /** Everything the member wrote to stdout and stderr so far. */
  output(): string
  /**
   * SIGTERM (or `signal`, e.g. SIGINT) by PID and wait for the exit; SIGKILL when the process
   * still runs `stopGraceMs` later. Returns the exit code: null when it had to be killed.
   */
  stop(signal?: 'SIGTERM' | 'SIGINT'): Promise<number | null>
  /** SIGKILL by PID and wait for the exit. */
  kill(): Promise<void>
}

/** Time `stop()` waits after its signal before SIGKILL (ms); the same as `ArborCluster.stop`. */
const stopGraceMs = 5_000

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

/** A new empty temporary directory; remove it with `removeDir`. */
export function tempDir(prefix = 'arbor-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Removes `dir` and everything in it; a missing `dir` is not an error. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

const mainTs = resolve(import.meta.dirname, '../../src/cli/main.ts')

/** How a test reaches an https client URL: the CA to trust (or `insecure`: none, for a
 *  self-signed certificate), and a client certificate when the member demands one (PEM file paths). */
export interface ClientTls {
  readonly caFile?: string
  readonly insecure?: boolean
  readonly certFile?: string
  readonly keyFile?: string
}

/** An undici dispatcher for `tls` (one connection at a time is plenty for a health check). */
export function tlsAgent(tls: ClientTls): Agent {
  return new Agent({
    connect: {
      ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile) }),
      ...(tls.insecure === true ? { rejectUnauthorized: false } : {}),
      ...(tls.certFile === undefined ? {} : { cert: readFileSync(tls.certFile) }),
      ...(tls.keyFile === undefined ? {} : { key: readFileSync(tls.keyFile) }),
    },
  })
}

/**
 * Starts a one-member arbor (or restarts one on `options.dataDir` and ports).
 * @param extraArgs more flags, e.g. ['--snapshot-count', '100'].
 * @param clientTls when given, the client URL is https and /health is asked over TLS with it
 *                  (the TLS flags themselves go in `extraArgs`).
 */
export async function startArbor(
  options: { dataDir?: string; clientPort?: number; peerPort?: number; extraArgs?: string[]; name?: string; clientTls?: ClientTls } = {},
): Promise<ArborProcess> {
  const clientPort = options.clientPort ?? (await freePort())
  const peerPort = options.peerPort ?? (await freePort())
  const dataDir = options.dataDir ?? join(tempDir(), 'data')
  const name = options.name ?? 'default'
  const clientUrl = `${options.clientTls === undefined ? 'http' : 'https'}://127.0.0.1:${clientPort}`
  const peerUrl = `http://127.0.0.1:${peerPort}`
  const args = [
    '--import', 'tsx', mainTs,
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `${name}=${peerUrl}`,
    '--log-level', 'warn',
    ...(options.extraArgs ?? []),
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  await waitForHealth(clientUrl, child, () => output, options.clientTls)
  return {
    clientUrl,
    peerUrl,
    dataDir,
    child,
    output: () => output,
    stop: async (signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM') => {
      signalChild(child, signal)
      const timer = setTimeout(() => signalChild(child, 'SIGKILL'), stopGraceMs)
      const code = await exited
      clearTimeout(timer)
      return code
    },
    kill: async () => {
      signalChild(child, 'SIGKILL')
      await exited
    },
  }
}

/** True until `child` has exited, by an exit code or by a signal. */
function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/** Sends `signal` to `child` by its PID; a process that already exited is skipped. */
function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !isRunning(child)) return
  try {
    process.kill(child.pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/**
 * Polls `GET /health` until it answers 200 (at most 20 s; each poll 1 s at most).
 * @throws at once when the process has exited (by an exit code or a signal), and after 20 s,
 *         having SIGKILLed it, when it still is not healthy.
 */
async function waitForHealth(clientUrl: string, child: ChildProcess, output: () => string, tls?: ClientTls): Promise<void> {
  const deadline = Date.now() + 20_000
  const dispatcher = tls === undefined ? undefined : tlsAgent(tls)
  try {
    while (Date.now() < deadline) {
      if (!isRunning(child)) throw new Error(`arbor exited (code ${child.exitCode}, signal ${child.signalCode}): ${output()}`)
      try {
        const response = await request(`${clientUrl}/health`, { signal: AbortSignal.timeout(1_000), ...(dispatcher === undefined ? {} : { dispatcher }) })
        await response.body.text()
        if (response.statusCode === 200) return
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    await dispatcher?.close()
  }
  signalChild(child, 'SIGKILL')
  throw new Error(`arbor did not become healthy: ${output()}`)
}
