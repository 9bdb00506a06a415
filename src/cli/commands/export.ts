/**
 * `arbor export [--endpoints URL] [--user U[:P]] [--cacert F] [--cert F --key F] [--prefix /x]
 * [--hidden KEY]...`: writes a member's tree (or
 * a subtree) to stdout as JSON lines (node-lines.ts; README, "Moving from etcd"): a header,
 * then one node per line, parents before children. The tree is read one directory listing at
 * a time and each listing's lines are written before the next is asked for, waiting while
 * stdout is full, so memory holds one directory whatever the tree's size. Hidden nodes are
 * never listed by the v2 API: name them with `--hidden`, or let `--hidden-from-history` find
 * those the member's last 1000 events name. Credentials and TLS: client-access.ts.
 * Exit 0 done, 1 failed, 2 bad usage.
 */
import { ArborClient, clientDefaults, hiddenRootsInHistory, isClientError, isV2Error, v2ErrorCodes, walkTree } from '../../client/index.js'
import { addAccessOptions, clientAccessOf, describeAccessFailure, passwordVariable, readAccessOrUsage } from '../client-access.js'
import { collectKey, exitCodes, integerIn, newCommand, parseCommand, parseEndpoints, parseKey } from '../command-usage.js'
import { encodeHeaderLine, encodeNodeLine } from '../node-lines.js'

/** The options of `arbor export`, as parsed. */
interface ExportOptions {
  readonly endpoints: string
  readonly prefix: string
  readonly hidden: readonly string[]
  readonly hiddenFromHistory: boolean
  readonly timeoutMs: number
}

/** How long a history read waits for an event before the history counts as read (ms). */
const historyQuietMs = 1_000

/** Where arbor and etcd serve clients by default. */
export const endpointDefault = 'http://127.0.0.1:2379'

export async function runExportCommand(argv: readonly string[]): Promise<number> {
  const program = newCommand('export', 'Write the tree to stdout as JSON lines, one node per line.')
    .option('--endpoints <urls>', 'client URL of the member to read (of a comma-separated list, the first)', parseEndpoints, endpointDefault)
    .option('--prefix <key>', 'export only this subtree (or key)', parseKey, '/')
    .option('--hidden <key>', 'also export this hidden key or directory (repeatable; listings never show hidden nodes)', collectKey, [])
    .option('--hidden-from-history', "also export the hidden nodes named by the member's last 1000 events")
    .option('--timeout-ms <ms>', 'time allowed for each request', integerIn(1, 3_600_000), clientDefaults.requestTimeoutMs)
  addAccessOptions(program, 'the member')
  const parsed = parseCommand<ExportOptions>(program, argv)
  if (parsed.kind === 'exit') return parsed.code
  const options = parsed.options
  const read = await readAccessOrUsage('arbor export', options, undefined, [passwordVariable], options.endpoints)
  if (read.kind === 'exit') return read.code
  const access = read.access
  const client = new ArborClient({ endpoint: options.endpoints, connections: 1, requestTimeoutMs: options.timeoutMs, ...clientAccessOf(access) })
  // Write errors reach writeOut's callback; this listener keeps them from also being thrown as events.
  const ignore = (): void => {}
  process.stdout.on('error', ignore)
  try {
    const counts = await exportTree(client, options)
    process.stderr.write(`arbor export: wrote ${counts.keys} keys and ${counts.dirs} directories (${counts.withTtl} with a TTL) from ${options.endpoints}\n`)
    return exitCodes.ok
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
      process.stderr.write('arbor export: stdout was closed before the end (EPIPE); stopped\n')
      return exitCodes.failed
    }
    if (!isClientError(error)) throw error
    process.stderr.write(`arbor export: ${(await describeAccessFailure(error, access, options.endpoints)) ?? error.message}\n`)
    return exitCodes.failed
  } finally {
    process.stdout.off('error', ignore)
    await client.close()
  }
}

async function exportTree(client: ArborClient, options: ExportOptions): Promise<{ keys: number; dirs: number; withTtl: number }> {
  const counts = { keys: 0, dirs: 0, withTtl: 0 }
  const first = await client.get('/')
  await writeOut(
    encodeHeaderLine({ endpoint: options.endpoints, prefix: options.prefix, etcdIndex: first.etcdIndex, exportedAt: new Date().toISOString() }) + '\n',
  )
  const roots = [options.prefix, ...options.hidden]
  if (options.hiddenFromHistory) {
    for (const root of await hiddenRootsInHistory(client, options.prefix, historyQuietMs)) if (!roots.includes(root)) roots.push(root)
  }
  for (const root of roots) {
    if (root !== options.prefix && !(await exists(client, root))) {
      process.stderr.write(`arbor export: not on the source, skipped: ${root}\n`)
      continue
    }
    for await (const step of walkTree(client, root)) {
      const nodes = step.node.key === root && root !== '/' ? [step.node, ...step.children] : step.children
      for (const node of nodes) {
        if (node.dir) counts.dirs += 1
        else counts.keys += 1
        if (node.ttl !== undefined) counts.withTtl += 1
      }
      if (nodes.length > 0) await writeOut(nodes.map((n) => encodeNodeLine({ ...n, nodes: undefined }) + '\n').join(''))
    }
  }
  return counts
}

/** True when `key` exists on the member. */
async function exists(client: ArborClient, key: string): Promise<boolean> {
  try {
    await client.get(key)
    return true
  } catch (error) {
    if (isV2Error(error, v2ErrorCodes.KeyNotFound)) return false
    throw error
  }
}

/**
 * Writes `text` to stdout and waits until it has been handed to the OS, so that at most one
 * listing's lines wait in memory.
 * @throws the stream's error (EPIPE when the reader went away).
 */
async function writeOut(text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(text, (error) => (error === undefined || error === null ? resolve() : reject(error)))
  })
}
