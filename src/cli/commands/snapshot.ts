/**
 * `arbor snapshot save|status|restore` (etcd's `etcdctl snapshot save` and `etcdutl snapshot
 * status|restore`). `save` asks a running member for a copy through its client API
 * (`GET /arbor/v1/snapshot`); `status` and `restore` work on the file alone, offline, through
 * storage (ARCHITECTURE.md, "Where new capabilities go"). `save` takes etcdctl's credential
 * and TLS flags (`--user`, `--cacert`, `--cert`, `--key`: client-access.ts); while auth is on,
 * only root may save.
 * Exit codes: 0 done, 1 failed (unreachable member, damaged file, existing data directory),
 * 2 bad usage (one line on stderr).
 */
import { createHash } from 'node:crypto'
import { closeSync, createWriteStream, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { finished } from 'node:stream/promises'
import { Command, CommanderError } from 'commander'
import { ArborClient, isClientError } from '../../client/index.js'
import { parseInitialCluster, splitUrlList } from '../../config/index.js'
import { clusterIdOf, memberIdOf } from '../../server/index.js'
import { BackupFileError, backupChecksumBytes, readBackupStatus, restoreBackupFile, type BackupStatus } from '../../storage/index.js'
import { databaseFileName } from '../bootstrap.js'
import { maskPasswords } from '../command-usage.js'
import { AccessError, accessFlagsOf, addAccessOptions, clientAccessOf, describeAccessFailure, passwordVariable, readAccess, type Access } from '../client-access.js'

/** A failure the user can act on: printed as one line, exit 1. */
class CommandFailed extends Error {}

/** Time allowed to connect and for each chunk of a snapshot to arrive (ms). */
const saveTimeoutMs = 60_000

/** Runs `arbor snapshot <argv>`; resolves with the exit code. */
export async function runSnapshotCommand(argv: readonly string[]): Promise<number> {
  let outcome: Promise<void> = Promise.resolve()
  const program = new Command('arbor snapshot')
    .description('Save, inspect and restore snapshots of a member')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: (text) => process.stdout.write(text) })
    .showSuggestionAfterError(true)
  const saveCommand = program
    .command('save <file>')
    .description("Saves a running member's state to <file> (while auth is on, only root may)")
    .option('--endpoints <urls>', 'client URLs of members, comma-separated (the first that answers is used)', 'http://127.0.0.1:2379')
  addAccessOptions(saveCommand, 'the member').action((file: string, options: { endpoints: string }) => {
    outcome = save(file, splitUrlList(options.endpoints).filter((url) => url !== ''), options)
  })
  program
    .command('status <file>')
    .description('Shows the index, term, key count, size and checksum of a snapshot file')
    .option('-w, --write-out <format>', 'table or json', 'table')
    .action((file: string, options: { writeOut: string }) => {
      if (options.writeOut !== 'table' && options.writeOut !== 'json') throw usage(`--write-out must be table or json, not "${options.writeOut}"`)
      outcome = status(file, options.writeOut)
    })
  program
    .command('restore <file>')
    .description('Creates the data directory of a member of a new cluster from a snapshot file')
    .option('--data-dir <dir>', 'the data directory to create (default: <name>.arbor)')
    .option('--name <name>', 'this member’s name', 'default')
    .option('--initial-cluster <list>', 'every member of the new cluster: name=url,... (default: <name>=<initial-advertise-peer-urls>)')
    .option('--initial-advertise-peer-urls <urls>', 'this member’s peer URLs', 'http://localhost:2380')
    .option('--initial-cluster-token <token>', 'token of the new cluster', 'etcd-cluster')
    .action((file: string, options: RestoreOptions) => {
      outcome = restore(file, options)
    })
  try {
    if (argv.length === 0) throw usage('missing command: save, status or restore')
    program.parse([...argv], { from: 'user' })
    await outcome
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0
      process.stderr.write(`arbor snapshot: ${maskPasswords(error.message.replace(/^error: /, '').split('\n')[0] ?? '')}\n`)
      return 2
    }
    if (error instanceof CommandFailed || error instanceof BackupFileError) {
      process.stderr.write(`arbor snapshot: ${error.message}\n`)
      return 1
    }
    throw error
  }
}

function usage(message: string): CommanderError {
  return new CommanderError(2, 'arbor.usage', message)
}

/**
 * Fetches a snapshot from the first endpoint that serves one, into `<file>.part`, then renames it.
 * @param flags the save command's parsed options (its access flags among them).
 */
async function save(file: string, endpoints: readonly string[], flags: object): Promise<void> {
  if (endpoints.length === 0) throw usage('--endpoints is empty')
  for (const endpoint of endpoints) {
    if (URL.canParse(endpoint) && (new URL(endpoint).username !== '' || new URL(endpoint).password !== '')) {
      throw usage(`${new URL(endpoint).origin}: give the user and password with --user, not in the URL`)
    }
  }
  let access: Access
  try {
    access = await readAccess(accessFlagsOf(flags), [passwordVariable], endpoints.join(','))
  } catch (error) {
    if (error instanceof AccessError) throw usage(error.message)
    throw error
  }
  const reasons: string[] = []
  for (const endpoint of endpoints) {
    try {
      const saved = await saveFrom(endpoint, file, access)
      process.stdout.write(`Snapshot saved at ${file} (index ${saved.index}, ${saved.bytes} bytes, sha256 ${saved.sha256})\n`)
      return
    } catch (error) {
      const why = isClientError(error) ? await describeAccessFailure(error, access, endpoint) : undefined
      reasons.push(why ?? `${endpoint}: ${(error as Error).message}`)
    }
  }
  throw new CommandFailed(`no snapshot saved: ${reasons.join('; ')}`)
}

async function saveFrom(endpoint: string, file: string, access: Access): Promise<{ index: string; bytes: number; sha256: string }> {
  const client = new ArborClient({ endpoint, connections: 1, requestTimeoutMs: saveTimeoutMs, ...clientAccessOf(access) })
  try {
    return await download(client, file)
  } finally {
    await client.close()
  }
}

async function download(client: ArborClient, file: string): Promise<{ index: string; bytes: number; sha256: string }> {
  const response = await client.snapshot()
  const bytes = response.bytes ?? -1
  const announced = response.sha256
  const part = `${file}.part`
  const hash = createHash('sha256')
  const out = createWriteStream(part, { flags: 'w' })
  let received = 0
  let tail = Buffer.alloc(0)
  try {
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer
      received += buffer.length
      // Every byte but the last 32 is hashed; the last 32 are the checksum the member recorded.
      const joined = Buffer.concat([tail, buffer])
      const keep = Math.min(backupChecksumBytes, joined.length)
      hash.update(joined.subarray(0, joined.length - keep))
      tail = joined.subarray(joined.length - keep)
      if (!out.write(buffer)) await new Promise<void>((r) => out.once('drain', () => r()))
    }
    out.end()
    await finished(out)
    const actual = hash.digest('hex')
    if (received !== bytes) throw new CommandFailed(`snapshot truncated in transit: ${received} of ${bytes} bytes`)
    if (tail.toString('hex') !== actual || announced !== actual) {
      throw new CommandFailed(`snapshot damaged in transit: contents hash to ${actual}, member announced ${announced}`)
    }
    fsyncPath(part)
    renameSync(part, file)
    fsyncPath(dirname(file) || '.')
  } catch (error) {
    response.body.destroy() // an unread body would keep the connection, and close(), waiting
    out.destroy()
    rmSync(part, { force: true })
    throw error
  }
  return { index: response.appliedIndex, bytes, sha256: announced }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

async function status(file: string, format: 'table' | 'json'): Promise<void> {
  const s = await readBackupStatus(file)
  if (format === 'json') {
    process.stdout.write(JSON.stringify({ hash: s.sha256, index: s.appliedIndex, term: s.term, etcdIndex: s.etcdIndex, totalKeys: s.keys, totalDirs: s.dirs, totalSize: s.fileBytes, clusterId: s.clusterId, memberId: s.memberId }) + '\n')
    return
  }
  process.stdout.write(table(['HASH', 'INDEX', 'TERM', 'ETCD INDEX', 'TOTAL KEYS', 'TOTAL SIZE'], [rowOf(s)]))
}

function rowOf(s: BackupStatus): string[] {
  return [s.sha256.slice(0, 16), String(s.appliedIndex), String(s.term), String(s.etcdIndex), String(s.keys), sizeText(s.fileBytes)]
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** etcdctl's table: `+---+` rules, centred headers, left-aligned cells. */
function table(headers: readonly string[], rows: readonly string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)) + 2)
  const rule = '+' + widths.map((w) => '-'.repeat(w)).join('+') + '+\n'
  const centred = (text: string, width: number) => {
    const left = Math.floor((width - text.length) / 2)
    return ' '.repeat(left) + text + ' '.repeat(width - text.length - left)
  }
  const line = (cells: readonly string[], align: (t: string, w: number) => string) =>
    '|' + cells.map((c, i) => align(c, widths[i] ?? 0)).join('|') + '|\n'
  return rule + line(headers, centred) + rule + rows.map((r) => line(r, (t, w) => ' ' + t.padEnd(w - 1))).join('') + rule
}

interface RestoreOptions {
  dataDir?: string
  name: string
  initialCluster?: string
  initialAdvertisePeerUrls: string
  initialClusterToken: string
}

async function restore(file: string, options: RestoreOptions): Promise<void> {
  const ownUrls = splitUrlList(options.initialAdvertisePeerUrls)
  const parsed = parseInitialCluster(options.initialCluster ?? `${options.name}=${ownUrls.join(`,${options.name}=`)}`)
  if (typeof parsed === 'string') throw usage(`invalid --initial-cluster: ${parsed}`)
  const self = parsed.find((m) => m.name === options.name)
  if (self === undefined) throw usage(`--initial-cluster has no member named "${options.name}"`)
  if ([...self.peerUrls].sort().join(',') !== [...ownUrls].sort().join(',')) {
    throw usage(`--initial-cluster lists ${self.peerUrls.join(',')} for "${options.name}", --initial-advertise-peer-urls says ${ownUrls.join(',')}`)
  }
  const dataDir = options.dataDir ?? `${options.name}.arbor`
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) throw new CommandFailed(`data directory ${dataDir} exists and is not empty`)
  const members = parsed.map((m) => ({ id: memberIdOf(m.peerUrls, options.initialClusterToken), name: m.name, peerUrls: m.peerUrls, clientUrls: [] }))
  const memberId = memberIdOf(self.peerUrls, options.initialClusterToken)
  const clusterId = clusterIdOf(members.map((m) => m.id))
  const s = await restoreBackupFile(file, join(dataDir, databaseFileName), { memberId, clusterId, members })
  process.stdout.write(
    `Restored ${basename(file)} (index ${s.appliedIndex}, term ${s.term}, ${s.keys} keys) into ${dataDir}: member ${memberId} of new cluster ${clusterId}\n`,
  )
}
