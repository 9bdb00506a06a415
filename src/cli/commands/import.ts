/**
 * `arbor import [--endpoints URL] [--user U[:P]] [--cacert F] [--cert F --key F] [FILE]`: writes the nodes of an export (node-lines.ts; FILE,
 * or stdin without one) into a member. Lines are read as a stream and written with at most
 * `--concurrency` requests in flight, so any size passes through bounded memory. A directory
 * line is written (and waited for) before the lines after it, so that its children never
 * create it without its TTL. Keys are plain sets, so importing the same file twice gives the
 * same tree; a directory already there keeps its children and takes the line's TTL. TTLs
 * count from the import: a line's `ttl` is the time that was left at export. Credentials and
 * TLS: client-access.ts.
 * Exit 0 done, 1 on a line out of format (the lines before it are written), a conflict or an
 * error, 2 on bad usage.
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { ArborClient, clientDefaults, isClientError, isV2Error, v2ErrorCodes } from '../../client/index.js'
import { addAccessOptions, clientAccessOf, describeAccessFailure, passwordVariable, readAccessOrUsage } from '../client-access.js'
import { exitCodes, integerIn, newCommand, parseCommand, parseEndpoints, usageError } from '../command-usage.js'
import { Inflight } from '../inflight.js'
import { NodeLineError, parseExportLines, type ExportedNode } from '../node-lines.js'
import { endpointDefault } from './export.js'

/** The options of `arbor import`, as parsed. */
interface ImportOptions {
  readonly endpoints: string
  readonly concurrency: number
  readonly timeoutMs: number
}

/** What an import did. */
interface ImportCounts {
  keys: number
  dirs: number
  withTtl: number
  /** Directories that were on the member already (their TTL set to the line's). */
  dirsExisting: number
  /** Lines not written: a key where the member has a directory, or the reverse. */
  conflicts: number
}

export async function runImportCommand(argv: readonly string[]): Promise<number> {
  const program = newCommand('import', 'Write the nodes of an export (JSON lines) into a member.')
    .argument('[file]', 'the export to read (stdin without one)')
    .option('--endpoints <urls>', 'client URL of the member to write (of a comma-separated list, the first)', parseEndpoints, endpointDefault)
    .option('--concurrency <n>', 'writes in flight at once', integerIn(1, 1024), clientDefaults.connections)
    .option('--timeout-ms <ms>', 'time allowed for each request', integerIn(1, 3_600_000), clientDefaults.requestTimeoutMs)
  addAccessOptions(program, 'the member')
  const parsed = parseCommand<ImportOptions>(program, argv)
  if (parsed.kind === 'exit') return parsed.code
  const options = parsed.options
  const read = await readAccessOrUsage('arbor import', options, undefined, [passwordVariable], options.endpoints)
  if (read.kind === 'exit') return read.code
  const access = read.access
  const file = parsed.args[0]
  const input = file === undefined ? process.stdin : createReadStream(file)
  const opened = await new Promise<Error | undefined>((resolve) => {
    if (file === undefined) return resolve(undefined)
    input.once('error', resolve)
    input.once('readable', () => resolve(undefined))
  })
  if (opened !== undefined) return usageError('arbor import', `cannot read ${file}: ${opened.message}`).code
  const client = new ArborClient({ endpoint: options.endpoints, connections: options.concurrency, requestTimeoutMs: options.timeoutMs, ...clientAccessOf(access) })
  const counts: ImportCounts = { keys: 0, dirs: 0, withTtl: 0, dirsExisting: 0, conflicts: 0 }
  const problems: string[] = []
  let code: number = exitCodes.ok
  try {
    await importLines(client, createInterface({ input, crlfDelay: Infinity }), options.concurrency, counts, problems)
  } catch (error) {
    if (!(error instanceof NodeLineError) && !isClientError(error)) throw error
    process.stderr.write(`arbor import: ${(await describeAccessFailure(error, access, options.endpoints)) ?? error.message}\n`)
    code = exitCodes.failed
  } finally {
    input.destroy()
    await client.close()
  }
  process.stderr.write(
    `arbor import: wrote ${counts.keys} keys and ${counts.dirs} directories (${counts.withTtl} with a TTL) to ${options.endpoints}; ` +
      `${counts.dirsExisting} directories were there already, ${counts.conflicts} conflicts\n`,
  )
  for (const line of problems) process.stderr.write(`arbor import: ${line}\n`)
  return counts.conflicts === 0 ? code : exitCodes.failed
}

/** Problem lines kept for the report. */
const problemLinesMax = 20

async function importLines(client: ArborClient, lines: AsyncIterable<string>, concurrency: number, counts: ImportCounts, problems: string[]): Promise<void> {
  const inflight = new Inflight(concurrency)
  const conflict = (node: ExportedNode, why: string): void => {
    counts.conflicts += 1
    if (problems.length < problemLinesMax) problems.push(`conflict: ${node.key}: ${why}`)
  }
  try {
    for await (const node of parseExportLines(lines, () => {})) {
      if (node.ttl !== undefined) counts.withTtl += 1
      if (node.dir) {
        counts.dirs += 1
        await writeDir(client, node, counts, (why) => conflict(node, why))
      } else {
        counts.keys += 1
        await inflight.run(() => writeKey(client, node, (why) => conflict(node, why)))
      }
    }
  } finally {
    await inflight.drain()
  }
}

async function writeKey(client: ArborClient, node: ExportedNode, conflict: (why: string) => void): Promise<void> {
  try {
    await client.set(node.key, node.value ?? '', { ttlSeconds: node.ttl })
  } catch (error) {
    if (!isV2Error(error, v2ErrorCodes.NotFile) && !isV2Error(error, v2ErrorCodes.NotDir)) throw error
    conflict(error.message)
  }
}

async function writeDir(client: ArborClient, node: ExportedNode, counts: ImportCounts, conflict: (why: string) => void): Promise<void> {
  try {
    await client.mkdir(node.key, { ttlSeconds: node.ttl })
    return
  } catch (error) {
    if (isV2Error(error, v2ErrorCodes.NotDir)) return conflict(error.message)
    if (!isV2Error(error, v2ErrorCodes.NodeExist)) throw error
  }
  // 105 for a key as well: an update with dir=true would empty the key's value, so look first.
  const existing = await client.get(node.key)
  if (!existing.node.dir) return conflict('a directory in the export, a key on the member')
  counts.dirsExisting += 1
  await client.updateDirTtl(node.key, node.ttl)
}
