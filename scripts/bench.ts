/**
 * Benchmark: arbor against etcd 3.4 (v2 API) on the same machine, same flags, same load.
 *
 * Builds arbor (dist/arbor.mjs), then for each server in turn — never both at once, so they do
 * not compete for the cores — starts a fresh cluster (temporary data directories, free
 * loopback ports, logging at warn), runs the workloads against it, and stops it by PID:
 *   put-1/16/64/256  PUT value=<64 bytes> to a new key each time, at 1, 16, 64, 256 clients
 *   get-64           GET of one of `--get-keys` prepopulated keys, 64 clients
 *   qget-64          the same with ?quorum=true (linearizable read), 64 clients
 *   watch            `--watchers` long-poll watches on one key, then one PUT; time until all
 *                    have the event, over `--fanout-rounds` rounds (after one warm-up round)
 * Each closed-loop workload warms up (`--warmup-s`), then measures for `--duration-s` or
 * `--ops-max` operations, whichever ends first. Prints markdown tables (arbor, etcd,
 * arbor/etcd) and writes the same data as JSON to .tmp/bench-<timestamp>.json.
 *
 * Usage: npx tsx scripts/bench.ts [--duration-s 10] [--warmup-s 2] [--only arbor|etcd]
 *          [--members 1] [--workloads put-64,get-64] [--watchers 1000] [--fanout-rounds 5]
 *          [--ops-max 1000000] [--get-keys 1000] [--cpu-prof] [--no-build] [--wait-idle-s 60]
 *          [--interleave] [--tls [--client-cert-auth]] [--auth]
 * Security (bench/security.ts; both servers get the same, and the report's first line and
 * the JSON `settings.security` say which, e.g. `security: tls+auth`):
 *   --tls               https client and peer URLs; one throwaway CA per run (openssl, in the
 *                       run's temporary directory) signs the certificate every member serves
 *                       and presents to its peers (peer certificates checked); the driver
 *                       trusts the CA and keeps one connection (one handshake) per client
 *   --client-cert-auth  with --tls: client URLs demand a certificate too; the driver has one
 *   --auth              after start-up, root, a role with read+write on /* and a user `bench`
 *                       holding it are created and auth enabled (v2 auth API); every request
 *                       then carries Basic credentials of `bench`, so each is checked. A 401
 *                       or 403 counts as an error like any non-2xx answer. The keys the
 *                       reads need are written before auth is enabled (not measured). etcd
 *                       3.4 runs bcrypt on every authenticated request (~80 ms of CPU here),
 *                       so under --auth its figures are bound by that: at 64 clients a request
 *                       takes ~2 s on two idle cores (keep --warmup-s above that, or nothing
 *                       is measured), and registering 1000 watchers would need ~80 s of CPU,
 *                       past the fan-out's 30 s bound (use fewer --watchers).
 * --cpu-prof runs arbor under `node --cpu-prof` and prints the top self-time functions; the
 * profiles stay in .tmp/bench-prof-<timestamp>/ (open them in Chrome DevTools).
 * Before each server it waits up to --wait-idle-s for other processes to leave the cores
 * alone, and it reports per workload how much CPU the server, the driver (this process) and
 * everything else used. On a shared machine, --interleave starts a fresh server per workload,
 * arbor then etcd, so that both meet about the same noise (still never both at once).
 * Ctrl-C stops every started process by PID and removes the temporary directories.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { profilesIn, topSelfTime } from './bench/cpu-profile.js'
import { CpuMeter, machineBusyCpuSeconds, type CpuUse } from './bench/cpu.js'
import { runFanout } from './bench/fanout.js'
import { requestOnce, runClosedLoop, runEach, type Access, type RequestSpec } from './bench/load.js'
import { markdown, ratiosOf, type BenchReport, type Measurement, type Row } from './bench/report.js'
import {
  driverAccess, enableAuth, makeBenchCerts, memberTlsFlags, newCredentials, securityDescription, securityLabel,
  type BenchCredentials,
} from './bench/security.js'
import {
  arborMainJs, cleanupAll, etcdAvailable, etcdPath, makeTempDir, repoRoot, startCluster, stopAll, stopCluster,
  type Cluster, type ServerKind,
} from './bench/servers.js'

interface Settings {
  readonly durationMs: number
  readonly warmupMs: number
  readonly opsMax: number
  readonly only: ServerKind | undefined
  readonly members: number
  /** Workload ids to run; all when undefined. */
  readonly workloads: ReadonlySet<string> | undefined
  readonly watchers: number
  readonly fanoutRounds: number
  readonly getKeys: number
  readonly cpuProf: boolean
  readonly build: boolean
  /** How long to wait for other processes to go quiet before starting each server, in ms. */
  readonly waitIdleMs: number
  /** One fresh server per workload, arbor and etcd alternating, so both meet similar noise. */
  readonly interleave: boolean
  /** https client and peer URLs with the run's certificates (`--tls`). */
  readonly tls: boolean
  /** Client URLs demand a client certificate, which the driver presents (`--client-cert-auth`). */
  readonly clientCertAuth: boolean
  /** Auth on, every request as user `bench` (`--auth`). */
  readonly auth: boolean
}

/** How one run reaches its servers, made once per run from the security settings. */
interface Security {
  /** `securityLabel` of the settings, e.g. `tls+auth`. */
  readonly label: string
  /** TLS flags of every member; undefined for plain http. */
  readonly tlsFlags: readonly string[] | undefined
  /** TLS of the driver without credentials: readiness and auth set-up. */
  readonly setupAccess: Access
  /** TLS and credentials of every workload request. */
  readonly access: Access
  /** The run's passwords when `--auth`. */
  readonly credentials: BenchCredentials | undefined
}

/** The value every PUT writes: exactly 64 bytes, all unreserved in form encoding. */
const value64 = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'
/** Clients used to create the keys the read workloads need (not measured). */
const populateConcurrency = 64
/** Bound on each fan-out round's registration and delivery, in ms. */
const fanoutRoundTimeoutMs = 30_000
/** CPU of other processes during a workload, in % of one core, above which it is flagged. */
const noisePercent = 20
/** Window over which `waitIdle` measures other processes' CPU, in ms. */
const idleSampleMs = 2_000
/** Self-time functions listed per profile. */
const profileTop = 15

interface Workload {
  readonly id: string
  readonly title: string
  readonly type: 'load' | 'fanout'
  /** Whether it reads the `--get-keys` keys, which `populateKeys` writes first. */
  readonly readsKeys: boolean
  /** Runs the workload; `meter` measures CPU over the measured part only. */
  run(cluster: Cluster, meter: CpuMeter, access: Access): Promise<Measurement>
}

function parseSettings(argv: string[]): Settings {
  try {
    return settingsOf(argv)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError((error as Error).message)
    if ((error as { code?: unknown }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError((error as Error).message)
    throw error
  }
}

function settingsOf(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      'duration-s': { type: 'string', default: '10' },
      'warmup-s': { type: 'string', default: '2' },
      'ops-max': { type: 'string', default: '1000000' },
      only: { type: 'string' },
      members: { type: 'string', default: '1' },
      workloads: { type: 'string' },
      watchers: { type: 'string', default: '1000' },
      'fanout-rounds': { type: 'string', default: '5' },
      'get-keys': { type: 'string', default: '1000' },
      'cpu-prof': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'wait-idle-s': { type: 'string', default: '60' },
      interleave: { type: 'boolean', default: false },
      tls: { type: 'boolean', default: false },
      'client-cert-auth': { type: 'boolean', default: false },
      auth: { type: 'boolean', default: false },
    },
    strict: true,
  })
  const only = values.only
  if (only !== undefined && only !== 'arbor' && only !== 'etcd') throw new UsageError(`--only must be arbor or etcd, not ${only}`)
  if (values['client-cert-auth'] && !values.tls) throw new UsageError('--client-cert-auth needs --tls')
  return {
    durationMs: positive(values['duration-s'], '--duration-s') * 1000,
    warmupMs: nonNegative(values['warmup-s'], '--warmup-s') * 1000,
    opsMax: positiveInteger(values['ops-max'], '--ops-max'),
    only,
    members: positiveInteger(values.members, '--members'),
    workloads: values.workloads === undefined ? undefined : new Set(values.workloads.split(',').map((s) => s.trim())),
    watchers: positiveInteger(values.watchers, '--watchers'),
    fanoutRounds: positiveInteger(values['fanout-rounds'], '--fanout-rounds'),
    getKeys: positiveInteger(values['get-keys'], '--get-keys'),
    cpuProf: values['cpu-prof'],
    build: !values['no-build'],
    waitIdleMs: nonNegative(values['wait-idle-s'], '--wait-idle-s') * 1000,
    interleave: values.interleave,
    tls: values.tls,
    clientCertAuth: values['client-cert-auth'],
    auth: values.auth,
  }
}

/** A mistake in the command line: printed without a stack. */
class UsageError extends Error {}

function positive(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, not ${text}`)
  return n
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, not ${text}`)
  return n
}

function nonNegative(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number ≥ 0, not ${text}`)
  return n
}

/** The client URL of the cluster's leader, asked of its first member (etcd's /v2/members/leader). */
async function leaderClientUrl(cluster: Cluster, access: Access): Promise<string> {
  const answer = await requestOnce(cluster.clientUrls[0] ?? '', access, { method: 'GET', path: '/v2/members/leader' })
  if (answer.status !== 200) throw new Error(`/v2/members/leader answered ${answer.status} ${answer.body.slice(0, 300)}`)
  const leader = JSON.parse(answer.body) as { clientURLs?: string[] }
  const url = leader.clientURLs?.[0]
  if (url === undefined) throw new Error('the cluster names no leader')
  return url
}

/** Clusters whose `--get-keys` keys exist. */
const populated = new Set<Cluster>()

/**
 * Writes the keys the read workloads read (`bench-get/k<i>`), once per cluster; not measured.
 * Under `--auth` it runs before auth is enabled (`benchServer`): etcd 3.4 runs bcrypt on
 * every authenticated request, and 1000 such writes at once starve its Raft loop into
 * "request timed out" on two cores.
 */
async function populateKeys(cluster: Cluster, access: Access, settings: Settings): Promise<void> {
  if (populated.has(cluster)) return
  await runEach(cluster.clientUrls, access, populateConcurrency, settings.getKeys, (i) => ({
    method: 'PUT', path: `/v2/keys/bench-get/k${i}`, body: `value=${value64}`,
  }))
  populated.add(cluster)
}

/** Every workload, in the order they run on each server. */
function allWorkloads(settings: Settings): Workload[] {
  type Run = (cluster: Cluster, meter: CpuMeter, access: Access) => Promise<Measurement>
  const closedLoop = (
    concurrency: number,
    request: (client: number, seq: number) => RequestSpec,
    through: 'all' | 'leader' = 'all',
  ): Run => async (cluster, meter, access) =>
    runClosedLoop({
      origins: through === 'leader' ? [await leaderClientUrl(cluster, access)] : cluster.clientUrls,
      concurrency,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
      opsMax: settings.opsMax,
      request,
      meter,
      access,
    }).then((result): Measurement => ({ kind: 'load', result }))
  const puts = [1, 16, 64, 256].map((c): Workload => ({
    id: `put-${c}`,
    readsKeys: false,
    title: `PUT, ${c} client${c === 1 ? '' : 's'}`,
    type: 'load',
    run: closedLoop(c, (client, seq) => ({ method: 'PUT', path: `/v2/keys/bench-put-${c}/k${client}-${seq}`, body: `value=${value64}` })),
  }))
  // With several members: the same writes, every client talking to the leader.
  const leaderPuts = settings.members > 1 ? [16, 64, 256].map((c): Workload => ({
    id: `lput-${c}`,
    readsKeys: false,
    title: `PUT through the leader, ${c} clients`,
    type: 'load',
    run: closedLoop(c, (client, seq) => ({ method: 'PUT', path: `/v2/keys/bench-lput-${c}/k${client}-${seq}`, body: `value=${value64}` }), 'leader'),
  })) : []
  const getPath = (client: number, seq: number): string => `/v2/keys/bench-get/k${(client * 7919 + seq) % settings.getKeys}`
  const withKeys = (run: Run): Run => async (cluster, meter, access) => {
    await populateKeys(cluster, access, settings)
    return run(cluster, meter, access)
  }
  return [
    ...puts,
    ...leaderPuts,
    { id: 'get-64', title: 'GET, 64 clients', type: 'load', readsKeys: true, run: withKeys(closedLoop(64, (c, s) => ({ method: 'GET', path: getPath(c, s) }))) },
    {
      id: 'qget-64', title: 'GET ?quorum=true, 64 clients', type: 'load', readsKeys: true,
      run: withKeys(closedLoop(64, (c, s) => ({ method: 'GET', path: `${getPath(c, s)}?quorum=true` }))),
    },
    {
      id: 'watch', title: `${settings.watchers} long-poll watchers, 1 PUT (${settings.fanoutRounds} rounds)`, type: 'fanout', readsKeys: false,
      run: async (cluster, meter, access) => ({
        kind: 'fanout',
        result: await runFanout({
          origins: cluster.clientUrls, watchers: settings.watchers, rounds: settings.fanoutRounds,
          warmupRounds: 1, roundTimeoutMs: fanoutRoundTimeoutMs, key: 'fan', meter, access,
        }),
      }),
    },
  ]
}

/**
 * The run's certificates (in a temporary directory removed at exit) when `--tls`, its
 * passwords when `--auth`, and the driver's access from both.
 */
function prepareSecurity(settings: Settings): Security {
  const certs = settings.tls ? makeBenchCerts(makeTempDir('certs')) : undefined
  const credentials = settings.auth ? newCredentials() : undefined
  return {
    label: securityLabel(settings),
    tlsFlags: certs === undefined ? undefined : memberTlsFlags(certs, settings.clientCertAuth),
    setupAccess: driverAccess(certs, settings.clientCertAuth, undefined),
    access: driverAccess(certs, settings.clientCertAuth, credentials),
    credentials,
  }
}

/** Builds dist/arbor.mjs as `npm install` does (`npm run build`), so the bench runs the current sources. */
function build(): void {
  process.stderr.write('bench: building arbor (npm run build)\n')
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.mjs')], { cwd: repoRoot, encoding: 'utf8' })
  if (result.status === 0) return
  throw new Error(`bench: the build exited with ${result.status}:\n${(result.stdout + result.stderr).slice(0, 4000)}`)
}

/**
 * Starts one server, runs every workload on it in turn, stops it; fills `rows[i].results[kind]`.
 * Returns the CPU other processes used just before (% of one core) and the 1-minute load
 * average before and after, to show whether something else ran.
 */
async function benchServer(
  kind: ServerKind,
  workloads: readonly Workload[],
  rows: Row[],
  settings: Settings,
  security: Security,
  profileDir: string | undefined,
): Promise<{ otherBefore: number; loadBefore: number; loadAfter: number }> {
  const otherBefore = await waitIdle(settings.waitIdleMs)
  const loadBefore = loadavg()[0] ?? 0
  process.stderr.write(`bench: starting ${kind} (${settings.members} member${settings.members === 1 ? '' : 's'}, security ${security.label})\n`)
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]
  const credentials = security.credentials
  let cluster: Cluster
  try {
    cluster = await startCluster({
      kind,
      members: settings.members,
      nodeArgs,
      ...(security.tlsFlags === undefined ? {} : { tlsFlags: security.tlsFlags }),
      access: security.setupAccess,
      ...(credentials === undefined
        ? {}
        : {
            prepare: async (c: Cluster) => {
              if (workloads.some((w) => w.readsKeys)) await populateKeys(c, security.setupAccess, settings)
              await enableAuth(c.clientUrls, security.setupAccess, credentials)
            },
          }),
    })
  } catch (error) {
    process.stderr.write(`bench: ${kind} did not start: ${String(error)}\n`)
    for (const row of rows) (row.results as Record<string, Measurement>)[kind] = { kind: 'failed', error: `did not start: ${String(error)}` }
    return { otherBefore, loadBefore, loadAfter: loadavg()[0] ?? 0 }
  }
  try {
    for (const [i, workload] of workloads.entries()) {
      const row = rows[i]
      if (row === undefined) continue
      const meter = new CpuMeter(() => cluster.members.map((m) => m.pid))
      const measurement = await workload.run(cluster, meter, security.access).catch((error: unknown): Measurement => ({ kind: 'failed', error: String(error) }))
      ;(row.results as Record<string, Measurement>)[kind] = measurement
      process.stderr.write(`bench: ${kind} ${workload.id}: ${oneLine(measurement)}\n`)
    }
  } finally {
    await stopCluster(cluster)
  }
  return { otherBefore, loadBefore, loadAfter: loadavg()[0] ?? 0 }
}

/**
 * Samples the machine's busy CPU over `idleSampleMs` until it is below `noisePercent` of one
 * core or `waitMs` has passed; returns the last sample, in % of one core.
 */
async function waitIdle(waitMs: number): Promise<number> {
  const deadline = performance.now() + waitMs
  for (;;) {
    const before = machineBusyCpuSeconds()
    await new Promise((r) => setTimeout(r, idleSampleMs))
    const busyPercent = (100 * (machineBusyCpuSeconds() - before) * 1000) / idleSampleMs
    if (busyPercent < noisePercent) return busyPercent
    if (performance.now() >= deadline) {
      process.stderr.write(`bench: warning: other processes use ${busyPercent.toFixed(0)}% of a core; the numbers will be noisy\n`)
      return busyPercent
    }
    process.stderr.write(`bench: other processes use ${busyPercent.toFixed(0)}% of a core; waiting for quiet\n`)
  }
}

function oneLine(m: Measurement): string {
  if (m.kind === 'failed') return `failed: ${m.error}`
  const cpu = cpuText(m.result.cpu)
  if (m.kind === 'fanout') {
    const r = m.result
    return `median ${r.medianMs?.toFixed(1)} ms, max ${r.maxMs?.toFixed(1)} ms, errors ${r.errors}${cpu}${r.firstError === undefined ? '' : ` (${r.firstError})`}`
  }
  const r = m.result
  const first = r.firstError === undefined ? '' : ` (first: ${r.firstError})`
  if (r.ops === 0 && r.errors === 0) return `no request started in the measured window: every client still waited for a warm-up answer (latency above --warmup-s + --duration-s)${cpu}`
  return `${r.ops} ops, ${r.opsPerSecond.toFixed(0)} ops/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, errors ${r.errors}, connections ${r.connections}${cpu}${first}`
}

function cpuText(c: CpuUse | undefined): string {
  if (c === undefined) return ''
  const perOp = c.serverUsPerOp === undefined ? '' : ` (${c.serverUsPerOp.toFixed(0)} µs/op)`
  const noisy = c.otherPercent > noisePercent ? ' — noisy: other processes ran' : ''
  return `; CPU % of a core: server ${c.serverPercent.toFixed(0)}${perOp}, driver ${c.driverPercent.toFixed(0)}, other ${c.otherPercent.toFixed(0)}${noisy}`
}

/** Summaries of the arbor CPU profiles in `dir`, also printed. */
function summarizeProfiles(dir: string): unknown {
  const files = profilesIn(dir).map((file) => ({ file, ...topSelfTime(file, profileTop, repoRoot) }))
  for (const f of files) {
    process.stdout.write(`\nTop ${profileTop} self time in ${f.file} (total sampled ${f.total.toFixed(0)} ms):\n`)
    for (const fn of f.functions) process.stdout.write(`  ${fn.selfMs.toFixed(0).padStart(7)} ms ${fn.percent.toFixed(1).padStart(5)}%  ${fn.where}\n`)
  }
  return { dir, files }
}

function environment(): Record<string, unknown> {
  const etcdVersion = etcdAvailable() ? spawnSync(etcdPath, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] : undefined
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim()
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, etcd: etcdVersion, arborCommit: commit }
}

function installSignalHandlers(): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      cleanupAll()
      process.exit(130)
    }
    stopping = true
    process.stderr.write(`bench: ${signal}, stopping the servers\n`)
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', cleanupAll)
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2))
  installSignalHandlers()
  const startedAt = new Date().toISOString()
  const stamp = startedAt.replace(/[:.]/g, '-')
  if (settings.build) build()
  const kinds = (['arbor', 'etcd'] as const).filter((k) => settings.only === undefined || settings.only === k)
  if (kinds.includes('etcd') && !etcdAvailable()) process.stderr.write(`bench: no ${etcdPath}, measuring arbor only\n`)
  const known = allWorkloads(settings)
  const unknown = [...(settings.workloads ?? [])].filter((id) => !known.some((w) => w.id === id))
  if (unknown.length > 0) throw new UsageError(`unknown workload ${unknown.join(', ')}; ids: ${known.map((w) => w.id).join(',')}`)
  const workloads = known.filter((w) => settings.workloads === undefined || settings.workloads.has(w.id))
  const security = prepareSecurity(settings)
  const rows: Row[] = workloads.map((w) => ({ id: w.id, title: w.title, type: w.type, results: {} }))
  const outDir = join(repoRoot, '.tmp')
  mkdirSync(outDir, { recursive: true })
  const profileDir = settings.cpuProf ? join(outDir, `bench-prof-${stamp}`) : undefined
  const available = kinds.filter((k) => k !== 'etcd' || etcdAvailable())
  const loadAverages: Record<string, unknown> = {}
  if (settings.interleave) {
    for (const [i, workload] of workloads.entries()) {
      for (const kind of available) {
        const dir = kind === 'arbor' ? profileDir : undefined
        loadAverages[`${kind} ${workload.id}`] = await benchServer(kind, [workload], rows.slice(i, i + 1), settings, security, dir)
      }
    }
  } else {
    for (const kind of available) {
      loadAverages[kind] = await benchServer(kind, workloads, rows, settings, security, kind === 'arbor' ? profileDir : undefined)
    }
  }
  const table = `security: ${security.label} (${securityDescription(settings)})\n\n${markdown(rows)}`
  process.stdout.write(`\n${table}\n`)
  const profile = profileDir === undefined ? undefined : summarizeProfiles(profileDir)
  const report: BenchReport = {
    startedAt,
    settings: { ...settings, workloads: workloads.map((w) => w.id), security: security.label },
    environment: { ...environment(), loadAverages },
    rows,
    ratios: ratiosOf(rows),
    markdown: table,
    ...(profile === undefined ? {} : { profile }),
  }
  const file = join(outDir, `bench-${stamp}.json`)
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n')
  process.stdout.write(`\nbench: wrote ${file}\n`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const text = error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)
    process.stderr.write(`bench: ${text}\n`)
    process.exitCode = 1
    void stopAll().finally(() => process.exit(1))
  },
)
