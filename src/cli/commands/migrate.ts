/**
 * `arbor migrate --from URL --to URL [--prefix /x] [--hidden KEY]...`: copies a running etcd v2
 * cluster's tree (or any v2 keys API: another arbor) into a running arbor cluster through both
 * client APIs, then reads both back to check the copy. Keys, values, directories (empty ones
 * too), TTLs (as the time left), and the hidden keys named with `--hidden` (the v2 API lists
 * no hidden node, so they cannot be found by walking) or, with `--hidden-from-history`, named
 * by the source's last 1000 events. Safe to run again: nodes already equal
 * are left alone; nothing is ever deleted on the target (see tree-copy.ts). Progress and the
 * summary go to stderr. Exit 0 when the copy verified equal, 1 on a conflict, a difference, a
 * prefix not on the source or an error, 2 on bad usage. A `--hidden` key not on the source
 * is reported and skipped (it may have expired or been deleted since an earlier run).
 * Each side has its credentials and TLS files (`--from-user`, `--from-cacert`, `--from-cert`,
 * `--from-key`, the same with `--to-`), falling back to the shared `--user`, `--cacert`,
 * `--cert`, `--key` (client-access.ts); each side is read once before the copy starts, so a
 * refusal names its side.
 */
import { ArborClient, clientDefaults, hiddenRootsInHistory, isClientError, isV2Error, v2ErrorCodes } from '../../client/index.js'
import { addAccessOptions, addSideAccessOptions, clientAccessOf, describeAccessFailure, passwordVariable, readAccessOrUsage, type Access } from '../client-access.js'
import { collectKey, exitCodes, integerIn, newCommand, parseCommand, parseEndpoint, parseKey } from '../command-usage.js'
import { copyTree, emptyCopyCounts, problemLinesMax, type CopySettings } from '../tree-copy.js'
import { emptyVerifyCounts, verifyTree } from '../tree-verify.js'

/** The options of `arbor migrate`, as parsed. */
interface MigrateOptions {
  readonly from: string
  readonly to: string
  readonly prefix: string
  readonly hidden: readonly string[]
  readonly hiddenFromHistory: boolean
  readonly concurrency: number
  readonly ttlToleranceS: number
  readonly verify: boolean
  readonly timeoutMs: number
}

/** How long a history read waits for an event before the history counts as read (ms). */
const historyQuietMs = 1_000

/** Remaining TTLs within this many seconds of each other count as equal (reads are rounded up to whole seconds). */
const ttlToleranceSecondsDefault = 2

export async function runMigrateCommand(argv: readonly string[]): Promise<number> {
  const program = newCommand('migrate', 'Copy an etcd v2 tree into an arbor cluster through both client APIs, then verify it.')
    .requiredOption('--from <url>', 'client URL of the source (etcd with --enable-v2, or arbor)', parseEndpoint)
    .requiredOption('--to <url>', 'client URL of the arbor member to write to', parseEndpoint)
    .option('--prefix <key>', 'copy only this subtree (or key)', parseKey, '/')
    .option('--hidden <key>', 'also copy this hidden key or directory (repeatable; listings never show hidden nodes)', collectKey, [])
    .option('--hidden-from-history', "also copy the hidden nodes named by the source's last 1000 events")
    .option('--concurrency <n>', 'writes in flight at once', integerIn(1, 1024), clientDefaults.connections)
    .option('--ttl-tolerance-s <s>', 'remaining TTLs this close count as equal', integerIn(0, 3600), ttlToleranceSecondsDefault)
    .option('--timeout-ms <ms>', 'time allowed for each request', integerIn(1, 3_600_000), clientDefaults.requestTimeoutMs)
    .option('--no-verify', 'skip reading both sides back')
  addSideAccessOptions(program, 'from', 'the source')
  addSideAccessOptions(program, 'to', 'the target')
  addAccessOptions(program, 'both sides')
  const parsed = parseCommand<MigrateOptions>(program, argv)
  if (parsed.kind === 'exit') return parsed.code
  const options = parsed.options
  const fromRead = await readAccessOrUsage('arbor migrate', options, 'from', ['ARBOR_FROM_PASSWORD', passwordVariable], options.from)
  if (fromRead.kind === 'exit') return fromRead.code
  const toRead = await readAccessOrUsage('arbor migrate', options, 'to', ['ARBOR_TO_PASSWORD', passwordVariable], options.to)
  if (toRead.kind === 'exit') return toRead.code
  const connect = (endpoint: string, access: Access): ArborClient =>
    new ArborClient({ endpoint, connections: options.concurrency, requestTimeoutMs: options.timeoutMs, ...clientAccessOf(access) })
  const sides = { source: connect(options.from, fromRead.access), target: connect(options.to, toRead.access) }
  try {
    const reached =
      (await reach('source', sides.source, fromRead.access, options)) && (await reach('target', sides.target, toRead.access, options))
    if (!reached) return exitCodes.failed
    return await migrate(sides, options)
  } catch (error) {
    if (!isClientError(error)) throw error
    process.stderr.write(`arbor migrate: ${error.message}\n`)
    return exitCodes.failed
  } finally {
    await sides.source.close()
    await sides.target.close()
  }
}

/**
 * Reads the prefix on one side (absent is fine), so that refused credentials or a failed TLS
 * handshake are reported with the side's name before anything is written.
 * @returns false after one line on stderr when the side cannot be read.
 */
async function reach(name: 'source' | 'target', client: ArborClient, access: Access, options: MigrateOptions): Promise<boolean> {
  try {
    await client.get(options.prefix)
    return true
  } catch (error) {
    if (isV2Error(error, v2ErrorCodes.KeyNotFound)) return true
    if (!isClientError(error)) throw error
    process.stderr.write(`arbor migrate: ${name}: ${(await describeAccessFailure(error, access, client.endpoint)) ?? error.message}\n`)
    return false
  }
}

async function migrate(sides: { source: ArborClient; target: ArborClient }, options: MigrateOptions): Promise<number> {
  const say = (line: string): boolean => process.stderr.write(`arbor migrate: ${line}\n`)
  const settings: CopySettings = { concurrency: options.concurrency, ttlToleranceSeconds: options.ttlToleranceS }
  const roots = [options.prefix, ...options.hidden]
  if (options.hiddenFromHistory) {
    const found = (await hiddenRootsInHistory(sides.source, options.prefix, historyQuietMs)).filter((r) => !roots.includes(r))
    say(`found ${found.length} more hidden roots in the source's event history`)
    roots.push(...found)
  }
  say(`copying ${options.prefix} and ${roots.length - 1} hidden roots from ${options.from} to ${options.to}`)
  const counts = emptyCopyCounts()
  const problems: string[] = []
  const missing: string[] = []
  const startedMs = performance.now()
  for (const [i, root] of roots.entries()) {
    try {
      await copyTree(sides, root, settings, counts, problems)
      if (i > 0) counts.hidden += 1
    } catch (error) {
      if (!isV2Error(error, v2ErrorCodes.KeyNotFound) || error.detail !== root) throw error
      missing.push(root)
    }
  }
  const seconds = ((performance.now() - startedMs) / 1000).toFixed(1)
  say(`read ${counts.keys} keys and ${counts.dirs} directories (${counts.withTtl} with a TTL, ${counts.hidden} hidden roots) in ${seconds} s`)
  const skipped = counts.conflicts + counts.vanished + missing.length
  say(
    `created ${counts.created}, updated ${counts.updated}, unchanged ${counts.unchanged}, ` +
      `skipped ${skipped} (conflicts ${counts.conflicts}, gone from the source ${counts.vanished}, roots not on the source ${missing.length})`,
  )
  for (const root of missing.slice(0, problemLinesMax)) say(`not on the source: ${root}`)
  for (const line of problems) say(line)
  if (!options.verify) return counts.conflicts === 0 && !missing.includes(options.prefix) ? exitCodes.ok : exitCodes.failed
  const verified = emptyVerifyCounts()
  const differences: string[] = []
  for (const root of roots) {
    if (missing.includes(root)) continue
    await verifyTree(sides, root, options.ttlToleranceS, verified, differences)
  }
  say(`verified ${verified.compared} nodes: ${verified.differ} differ, ${verified.onlyOnTarget} only on the target, ${verified.expiring} expiring`)
  for (const line of differences) say(line)
  return counts.conflicts === 0 && !missing.includes(options.prefix) && verified.differ === 0 ? exitCodes.ok : exitCodes.failed
}
