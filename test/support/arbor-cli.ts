/**
 * Runs the `arbor` command from source (`node --import tsx src/cli/main.ts <args>`) as a child
 * process for end-to-end tests of the operational commands, and reads trees back with plain
 * HTTP (not through the client the commands use), so that a check does not share the code it
 * checks.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { resolve } from 'node:path'

/** How one run ended and what it printed. */
export interface CliRun {
  readonly code: number | null
  /** Empty when stdout went to a file. */
  readonly stdout: string
  readonly stderr: string
}

const mainTs = resolve(import.meta.dirname, '../../src/cli/main.ts')

/**
 * Runs `arbor <args>` to its end (SIGKILL after `timeoutMs`, by PID).
 * @param io.stdinFile  a file to give as stdin (none: stdin is closed at once).
 * @param io.stdoutFile a file to write stdout to (none: stdout is kept in `stdout`).
 * @param io.env        the child's environment (none: this process's).
 */
export async function runArbor(
  args: readonly string[],
  io: { stdinFile?: string; stdoutFile?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const stdin = io.stdinFile === undefined ? 'ignore' : openSync(io.stdinFile, 'r')
  const stdout = io.stdoutFile === undefined ? 'pipe' : openSync(io.stdoutFile, 'w')
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], { stdio: [stdin, stdout, 'pipe'], env: io.env ?? process.env })
  if (typeof stdin === 'number') closeSync(stdin)
  if (typeof stdout === 'number') closeSync(stdout)
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL')
  }, io.timeoutMs ?? 60_000)
  const code = await new Promise<number | null>((resolveExit) => child.once('close', resolveExit))
  clearTimeout(timer)
  return { code, stdout: out, stderr: err }
}

/** A node as a test compares it: no indexes, no expiration, the TTL apart. */
export interface ComparableNode {
  readonly key: string
  readonly dir: boolean
  readonly value: string | undefined
  readonly ttl: number | undefined
}

interface RawNode {
  key?: string
  dir?: boolean
  value?: string
  ttl?: number
  nodes?: RawNode[]
}

/**
 * Every visible node under `key` (itself included unless it is `/`), sorted by key, from one
 * recursive GET. Hidden nodes are not listed by the v2 API: read them with `readNode`.
 */
export async function readTree(clientUrl: string, key: string): Promise<ComparableNode[]> {
  const response = await fetch(`${clientUrl}/v2/keys${encodeKey(key)}?recursive=true&sorted=true`)
  const body = (await response.json()) as { node: RawNode }
  if (response.status !== 200) throw new Error(`GET ${key} answered ${response.status}: ${JSON.stringify(body)}`)
  const out: ComparableNode[] = []
  const stack: RawNode[] = [body.node]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.key !== undefined && node.key !== '/') out.push({ key: node.key, dir: node.dir === true, value: node.value, ttl: node.ttl })
    for (const child of node.nodes ?? []) stack.push(child)
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
}

/** The node at `key` (a hidden one too), or undefined when there is none. */
export async function readNode(clientUrl: string, key: string): Promise<ComparableNode | undefined> {
  const response = await fetch(`${clientUrl}/v2/keys${encodeKey(key)}`)
  const body = (await response.json()) as { node: RawNode }
  if (response.status === 404) return undefined
  return { key: body.node.key ?? '/', dir: body.node.dir === true, value: body.node.value, ttl: body.node.ttl }
}

/**
 * Asserts-by-return: the differences between two node lists, TTLs compared as present on
 * both or neither and within `ttlToleranceSeconds`. Empty when they are equal.
 */
export function treeDifferences(a: readonly ComparableNode[], b: readonly ComparableNode[], ttlToleranceSeconds: number): string[] {
  const problems: string[] = []
  const byKey = new Map(b.map((n) => [n.key, n]))
  for (const node of a) {
    const other = byKey.get(node.key)
    byKey.delete(node.key)
    if (other === undefined) problems.push(`${node.key}: only on the first side`)
    else if (other.dir !== node.dir || other.value !== node.value) problems.push(`${node.key}: ${JSON.stringify(node)} vs ${JSON.stringify(other)}`)
    else if ((node.ttl === undefined) !== (other.ttl === undefined)) problems.push(`${node.key}: TTL ${node.ttl} vs ${other.ttl}`)
    else if (node.ttl !== undefined && other.ttl !== undefined && Math.abs(node.ttl - other.ttl) > ttlToleranceSeconds) problems.push(`${node.key}: TTL ${node.ttl} vs ${other.ttl}`)
  }
  for (const key of byKey.keys()) problems.push(`${key}: only on the second side`)
  return problems
}

/** `key` with each segment percent-encoded. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/')
}

/**
 * Writes `writes` to a member with at most `concurrency` PUTs in flight.
 * @throws when a PUT answers other than 200/201.
 */
export async function putAll(clientUrl: string, writes: Iterable<{ key: string; form: Record<string, string> }>, concurrency: number): Promise<void> {
  const iterator = writes[Symbol.iterator]()
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
      const { key, form } = next.value
      const response = await fetch(`${clientUrl}/v2/keys${encodeKey(key)}`, {
        method: 'PUT',
        body: new URLSearchParams(form).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      const text = await response.text()
      if (response.status !== 200 && response.status !== 201) throw new Error(`PUT ${key} answered ${response.status}: ${text}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}
