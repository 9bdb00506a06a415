/**
 * Scale run: a large state through a real cluster, and a member that receives it by snapshot.
 *
 * Builds arbor (dist/arbor.mjs, unless --no-build), starts 3 members from it (temporary data
 * directories, free loopback ports, etcd's default timings, logging at warn), writes `--keys`
 * keys of `--value-bytes` bytes with `--concurrency` clients, then adds a fourth member
 * (`POST /v2/members`, then started with `--initial-cluster-state existing`) which, behind the
 * compacted log, receives the whole state by a streamed snapshot. Throughout, every member's
 * RSS is sampled from /proc/<pid>/status (VmRSS) every `--sample-ms`. Prints the largest RSS
 * of each member, the time to load, the time the new member took to catch up, the size of
 * each data directory (database, WAL), and where the bytes of one member's database go
 * (tables and indexes from SQLite's dbstat, the log entries kept before compaction).
 * Every process it started is stopped by PID at the end, and the directories removed.
 *
 * Usage: npx tsx scripts/scale.ts [--keys 1000000] [--value-bytes 1024] [--concurrency 64]
 *          [--snapshot-count 10000] [--chunk-bytes 1048576] [--sample-ms 500] [--no-build]
 *          [--unsafe-no-fsync] [--rss-goal-mib 300]
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { request } from 'undici'
import { ArborCluster, v2Request, type ClusterMember } from '../test/support/arbor-cluster.js'

const repoRoot = resolve(import.meta.dirname, '..')

const { values: flags } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '64' },
    'snapshot-count': { type: 'string', default: '10000' },
    'chunk-bytes': { type: 'string', default: '1048576' },
    'sample-ms': { type: 'string', default: '500' },
    'rss-goal-mib': { type: 'string', default: '300' },
    'no-build': { type: 'boolean', default: false },
    'unsafe-no-fsync': { type: 'boolean', default: false },
  },
})
const keys = Number(flags.keys)
const valueBytes = Number(flags['value-bytes'])
const concurrency = Number(flags.concurrency)
const sampleMs = Number(flags['sample-ms'])
const rssGoalMiB = Number(flags['rss-goal-mib'])
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)

/** Largest VmRSS seen per member name (bytes), sampled by PID. */
class RssSampler {
  readonly maxBytes = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  constructor(private readonly members: () => readonly ClusterMember[]) {}
  start(): void {
    this.timer = setInterval(() => this.sample(), sampleMs)
  }
  stop(): void {
    clearInterval(this.timer)
    this.sample()
  }
  private sample(): void {
    for (const member of this.members()) {
      const pid = member.pid
      if (pid === undefined) continue
      let status: string
      try {
        status = readFileSync(`/proc/${pid}/status`, 'utf8')
      } catch {
        continue
      }
      const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN)
      if (Number.isFinite(kib)) this.maxBytes.set(member.name, Math.max(this.maxBytes.get(member.name) ?? 0, kib * 1024))
    }
  }
}

/** Bytes of every file under `dir`, by name. */
function filesOf(dir: string): Map<string, number> {
  const sizes = new Map<string, number>()
  for (const name of readdirSync(dir)) {
    const stat = statSync(join(dir, name))
    if (stat.isFile()) sizes.set(name, stat.size)
  }
  return sizes
}

/** Where the bytes of a member's database go: pages per table and index, the log kept. */
function breakdown(dataDir: string): string[] {
  const db = new Database(join(dataDir, 'arbor.db'), { readonly: true, fileMustExist: true })
  const lines: string[] = []
  try {
    try {
      const rows = db
        .prepare<[], { name: string; pages: number; bytes: number; payload: number }>(
          'SELECT name, COUNT(*) AS pages, SUM(pgsize) AS bytes, SUM(payload) AS payload FROM dbstat GROUP BY name ORDER BY bytes DESC',
        )
        .all()
      for (const r of rows) lines.push(`  ${r.name.padEnd(24)} ${mib(r.bytes).padStart(9)} MiB in ${r.pages} pages (payload ${mib(r.payload)} MiB)`)
    } catch (error) {
      lines.push(`  (dbstat not available: ${(error as Error).message})`)
    }
    const freelist = db.pragma('freelist_count', { simple: true }) as number
    const pageSize = db.pragma('page_size', { simple: true }) as number
    lines.push(`  free pages               ${mib(freelist * pageSize).padStart(9)} MiB (${freelist} pages of ${pageSize} bytes)`)
    const log = db.prepare<[], { n: number; bytes: number | null; lo: number | null; hi: number | null }>(
      'SELECT COUNT(*) AS n, SUM(length(data)) AS bytes, MIN(idx) AS lo, MAX(idx) AS hi FROM raft_log',
    ).get()
    lines.push(`  raft log kept            ${log?.n ?? 0} entries (${log?.lo ?? '-'}..${log?.hi ?? '-'}), ${mib(log?.bytes ?? 0)} MiB of entry data`)
  } finally {
    db.close()
  }
  return lines
}

async function put(member: ClusterMember, key: string, value: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const response = await request(`${member.clientUrl}/v2/keys${key}`, {
      method: 'PUT',
      body: `value=${value}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    })
    await response.body.dump()
    if (response.statusCode === 200 || response.statusCode === 201) return
    if (attempt >= 5) throw new Error(`PUT ${key}: ${response.statusCode}`)
  }
}

async function main(): Promise<void> {
  if (!flags['no-build']) {
    const built = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.mjs')], { cwd: repoRoot, encoding: 'utf8' })
    if (built.status !== 0) throw new Error(`build failed:\n${built.stderr}`)
  }
  const extraArgs = ['--snapshot-count', String(flags['snapshot-count']), '--snapshot-chunk-bytes-max', String(flags['chunk-bytes'])]
  if (flags['unsafe-no-fsync']) extraArgs.push('--unsafe-no-fsync')
  const cluster = await ArborCluster.start({ size: 3, entry: 'built', heartbeatIntervalMs: 100, electionTimeoutMs: 1000, logLevel: 'warn', extraArgs })
  const sampler = new RssSampler(() => cluster.members)
  sampler.start()
  const stopAll = async (): Promise<void> => {
    sampler.stop()
    await cluster.stop()
  }
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)))
  try {
    const leader = await cluster.waitForLeader()
    const value = 'x'.repeat(valueBytes)
    console.log(`loading ${keys} keys of ${valueBytes} bytes (${mib(keys * valueBytes)} MiB of values), ${concurrency} clients`)
    const loadStartedAt = Date.now()
    let next = 0
    let lastReport = Date.now()
    const client = async (): Promise<void> => {
      for (let i = next++; i < keys; i = next++) {
        await put(leader, `/scale/${String(i).padStart(7, '0')}`, value)
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now()
          const rss = [...sampler.maxBytes].map(([name, bytes]) => `${name} ${mib(bytes)}`).join(', ')
          console.log(`  ${i} keys after ${((Date.now() - loadStartedAt) / 1000).toFixed(0)} s; max RSS MiB: ${rss}`)
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, client))
    const loadMs = Date.now() - loadStartedAt
    console.log(`loaded in ${(loadMs / 1000).toFixed(1)} s (${((keys / loadMs) * 1000).toFixed(0)} writes/s)`)

    const added = await cluster.prepareMember('n4')
    const addedReply = await v2Request(leader.clientUrl, 'POST', '/v2/members', { jsonBody: { peerURLs: [added.peerUrl] }, timeoutMs: 30_000 })
    if (addedReply.status !== 201) throw new Error(`POST /v2/members: ${addedReply.status} ${addedReply.text}`)
    const joinStartedAt = Date.now()
    await cluster.join(added, cluster.initialCluster(cluster.members))
    const index = await cluster.etcdIndex(leader)
    await cluster.waitForIndex(added, index, 3_600_000)
    const catchUpMs = Date.now() - joinStartedAt
    console.log(`n4 caught up to etcd index ${index} in ${(catchUpMs / 1000).toFixed(1)} s`)
    const snapshotLines = added.output().split('\n').filter((line) => /snapshot/.test(line))
    if (snapshotLines.length > 0) console.log(`n4 said: ${snapshotLines.slice(0, 3).join('\n')}`)
    sampler.stop()

    console.log('\nmax RSS per member (VmRSS):')
    for (const member of cluster.members) {
      const bytes = sampler.maxBytes.get(member.name) ?? 0
      console.log(`  ${member.name}  ${mib(bytes).padStart(8)} MiB${bytes > rssGoalMiB * 1024 * 1024 ? `  ABOVE the ${rssGoalMiB} MiB goal` : ''}`)
    }
    console.log('\ndata directories:')
    for (const member of cluster.members) {
      const files = filesOf(member.dataDir)
      const total = [...files.values()].reduce((a, b) => a + b, 0)
      const parts = [...files].map(([name, size]) => `${name} ${mib(size)}`).join(', ')
      console.log(`  ${member.name}  ${mib(total).padStart(9)} MiB  (${parts})`)
    }
    console.log(`\nwhere the bytes of ${leader.name}'s database go:`)
    for (const line of breakdown(leader.dataDir)) console.log(line)
    console.log(`\nsummary: keys ${keys}, value ${valueBytes} B, load ${(loadMs / 1000).toFixed(1)} s, catch-up ${(catchUpMs / 1000).toFixed(1)} s`)
  } finally {
    await stopAll()
  }
}

await main()
