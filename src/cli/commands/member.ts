/**
 * `arbor [flags]`: runs a member. Reads config (flags, ETCD_* variables, --config-file),
 * builds the member from its parts, serves clients, and stops cleanly on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import pino from 'pino'
import type { Server as TlsServer } from 'node:tls'
import { ConfigError, bindAddressOf, isHttpsUrl, loadConfig, versionText, type MemberConfig } from '../../config/index.js'
import { MemberMetrics, buildApp } from '../../http/index.js'
import { SeededRng, systemClock } from '../../lib/index.js'
import { RawNode } from '../../raft/index.js'
import { Member, type MemberInfo, type MemberStorage } from '../../server/index.js'
import { SqliteAuthBackend, SqliteStoreBackend, StateStager, openStateReader } from '../../storage/index.js'
import { AuthStore, Authenticator } from '../../auth/index.js'
import { PeerTransport, buildPeerApp, peerAppDefaults, raftBodyBytesFor, transportDefaults } from '../../transport/index.js'
import { Store } from '../../store/index.js'
import { openMember, type OpenedMember } from '../bootstrap.js'
import { arborVersion } from '../version.js'
import { lockDataDir } from '../data-dir-lock.js'
import { snapshotSourceOf } from '../snapshot-source.js'
import { ReloadingTls, clientTlsSide, peerTlsSide } from '../tls.js'

/** Runs a member with `argv` (the words after `arbor`); exits 2 on a bad flag, value or file. */
export function runMemberCommand(argv: readonly string[]): void {
  let loaded
  try {
    loaded = loadConfig([...argv], process.env, (path) => readFileSync(path, 'utf8'))
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`arbor: ${error.message}\n`)
    process.exit(2)
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text + '\n')
    process.exit(0)
  }
  if (loaded.kind === 'version') {
    process.stdout.write(
      versionText({ arborVersion, nodeVersion: process.version, platform: process.platform, arch: process.arch }),
    )
    process.exit(0)
  }
  void run(loaded.config, loaded.warnings)
}

async function run(config: MemberConfig, warnings: readonly string[]): Promise<void> {
  const logger = pino({
    level: config.logLevel === 'panic' || config.logLevel === 'fatal' ? 'fatal' : config.logLevel,
    // No secret reaches a log line: credentials and passwords are replaced wherever they appear.
    redact: { paths: logRedactPaths, censor: '[redacted]' },
  })
  for (const warning of warnings) logger.warn(warning)
  let opened: OpenedMember
  let unlock: () => void
  let tls: MemberTls
  try {
    unlock = lockDataDir(config.dataDir)
  } catch (error) {
    process.stderr.write(`arbor: cannot open data directory ${config.dataDir}: ${(error as Error).message}\n`)
    process.exit(2)
  }
  try {
    tls = memberTlsOf(config)
  } catch (error) {
    process.stderr.write(`arbor: ${(error as Error).message}\n`)
    unlock()
    process.exit(2)
  }
  try {
    opened = await openMember(config, tls.peer?.current().dial)
  } catch (error) {
    process.stderr.write(`arbor: cannot open data directory ${config.dataDir}: ${(error as Error).message}\n`)
    unlock()
    process.exit(2)
  }
  if (opened.forced !== undefined) logger.warn({ ...opened.forced }, 'forced a new one-member cluster (--force-new-cluster)')
  const stager = new StateStager(opened.db)
  const { member, transport, metrics } = buildMember(config, opened, stager, logger, tls)
  const peerApp = buildPeerApp({
    clusterId: opened.clusterId,
    memberId: opened.memberId,
    onMessages: (messages) => member.receive(messages),
    onReceived: (from, bytes) => metrics.countPeerReceived(from, bytes),
    members: () => opened.meta.listMembers(),
    isRemoved: (id) => opened.meta.isRemoved(id),
    version: { etcdserver: '3.4.23', etcdcluster: '3.4.0' },
    snapshotSink: stager,
    settings: { ...peerAppDefaults, raftBodyBytesMax: peerBodyBytesMax(config), snapshotChunkBytesMax: config.snapshotChunkBytesMax },
    logger: logger.child({ module: 'transport' }),
    ...(tls.peer !== undefined && config.listenPeerUrls.some(isHttpsUrl)
      ? { https: tls.peer.current().server, allowedPeer: { commonName: config.peerCertAllowedCn, hostname: config.peerCertAllowedHostname } }
      : {}),
  })
  const snapshots = snapshotSourceOf(opened.db, config.dataDir)
  // One credential checker per member, shared by all its client listeners as the metrics
  // are: a credential verified on one is trusted on the others, within one cache's limits.
  const authenticator = new Authenticator(
    member.auth,
    { cacheTtlMs: config.authCacheTtlMs, cacheEntriesMax: config.authCacheEntriesMax },
    () => member.nowMs(),
  )
  const apps = config.listenClientUrls.map((url) => {
    const https = isHttpsUrl(url) ? tls.client?.current().server : undefined
    return { address: bindAddressOf(url), app: buildApp(member, { ...httpSettingsOf(config), ...(https === undefined ? {} : { tls: https }) }, logger, metrics, { snapshots, authenticator }), https: https !== undefined }
  })
  // A changed certificate is installed on each TLS listener; connections already open keep
  // theirs, the next handshake uses the new one.
  tls.client?.onReload((options) => {
    for (const { app, https } of apps) if (https) (app.server as unknown as TlsServer).setSecureContext(options.server)
  })
  tls.peer?.onReload((options) => {
    if (config.listenPeerUrls.some(isHttpsUrl)) (peerApp.server as unknown as TlsServer).setSecureContext(options.server)
  })
  tls.client?.start(logger.child({ module: 'tls' }))
  tls.peer?.start(logger.child({ module: 'tls' }))
  const peerApps = config.listenPeerUrls.map((url, i) => ({ address: bindAddressOf(url), app: i === 0 ? peerApp : undefined }))
  try {
    const first = peerApps[0]
    if (first !== undefined) await peerApp.listen({ host: first.address.host, port: first.address.port })
    member.start()
    for (const { address, app } of apps) {
      await app.listen({ host: address.host, port: address.port })
    }
  } catch (error) {
    process.stderr.write(`arbor: cannot listen: ${(error as Error).message}\n`)
    member.stop()
    tls.client?.stop()
    tls.peer?.stop()
    opened.db.close()
    unlock()
    process.exit(2)
  }
  logger.info(
    {
      name: config.name,
      memberId: opened.memberId,
      clusterId: opened.clusterId,
      clientUrls: config.listenClientUrls,
      peerUrls: config.listenPeerUrls,
      dataDir: config.dataDir,
      startupMs: Math.round(performance.now()),
    },
    'serving clients',
  )
  let stopping = false
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    await member.stopGracefully(config.electionTimeoutMs)
    // The last turn's messages (a commit index, a vote answer) still go out, but a peer that
    // is down cannot hold the exit longer than one heartbeat interval.
    await Promise.race([transport.flushed(), delay(config.heartbeatIntervalMs)])
    tls.client?.stop()
    tls.peer?.stop()
    void Promise.all([...apps.map(({ app }) => app.close()), peerApp.close(), transport.stop()]).finally(() => {
      opened.db.close()
      unlock()
      process.exit(0)
    })
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
  process.once('SIGINT', () => void shutdown('SIGINT'))
  member.onRemoved(() => void shutdown('removed from the cluster'))
}

/** The TLS of the client listeners and of the peer side, each reloaded when its files change. */
interface MemberTls {
  readonly client: ReloadingTls | undefined
  readonly peer: ReloadingTls | undefined
}

/** @throws TlsSetupError when a certificate file cannot be read, used or generated. */
function memberTlsOf(config: MemberConfig): MemberTls {
  const clientSide = clientTlsSide(config)
  const peerSide = peerTlsSide(config)
  return {
    client: clientSide === undefined ? undefined : new ReloadingTls(clientSide),
    peer: peerSide === undefined ? undefined : new ReloadingTls(peerSide),
  }
}

function buildMember(
  config: MemberConfig,
  opened: OpenedMember,
  stager: StateStager,
  logger: pino.Logger,
  tls: MemberTls,
): { member: Member; transport: PeerTransport; metrics: MemberMetrics } {
  const { db, log, meta, memberId, clusterId } = opened
  const storage: MemberStorage = {
    log,
    transaction: (fn, durable) => db.transaction(fn, durable),
    appliedIndex: () => meta.appliedIndex(),
    setAppliedIndex: (index) => meta.setAppliedIndex(index),
    members: () => meta.listMembers(),
    upsertMember: (m) => meta.upsertMember(m),
    removeMember: (id) => meta.removeMember(id),
    isRemoved: (id) => meta.isRemoved(id),
    openStateReader: () => openStateReader(db, config.snapshotChunkBytesMax),
    importState: (data) => stager.install(data),
  }
  const raft = new RawNode(
    {
      id: memberId,
      electionTicks: Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs)),
      heartbeatTicks: 1,
      preVote: true,
      checkQuorum: true,
      messageBytesMax: 1024 * 1024,
      inflightMessagesMax: 256,
      appliedIndex: meta.appliedIndex(),
    },
    log,
    new SeededRng(Date.now() ^ process.pid),
    logger.child({ module: 'raft' }),
  )
  const auth = new AuthStore(new SqliteAuthBackend(db))
  // A rollback or an imported snapshot changes the auth rows underneath the cached state.
  db.onReload(() => auth.reload())
  const store = new Store(new SqliteStoreBackend(db), {
    historyEventsMax: config.historyEventsMax,
    watchersMax: config.watchersMax,
  })
  let member: Member | undefined
  let metrics: MemberMetrics | undefined
  const peerTls = tls.peer as ReloadingTls
  const transport = new PeerTransport({
    clusterId,
    memberId,
    settings: { ...transportDefaults, snapshotChunkBytesMax: config.snapshotChunkBytesMax },
    logger: logger.child({ module: 'transport' }),
    reportUnreachable: (id) => member?.reportUnreachable(id),
    reportSnapshot: (id, ok) => member?.reportSnapshot(id, ok),
    reportRemoved: () => member?.noteRemoved(),
    reportRoundTrip: (id, roundTripMs) => metrics?.observePeerRoundTrip(id, roundTripMs / 1000),
    ...(tls.peer === undefined ? {} : { dialTls: () => peerTls.current().dial }),
  })
  const setPeers = (members: readonly MemberInfo[]): void => {
    const wanted = new Set(members.filter((m) => m.id !== memberId).map((m) => m.id))
    for (const peer of transport.peerList()) if (!wanted.has(peer.memberId)) void transport.removePeer(peer.memberId)
    for (const m of members) if (m.id !== memberId) transport.updatePeer(m.id, m.peerUrls)
  }
  setPeers(meta.listMembers())
  member = new Member({
    raft,
    store,
    auth,
    storage,
    peers: {
      send: (messages) => transport.send(messages),
      sendSnapshot: (message, state) => transport.sendSnapshot(message, state),
      setPeers,
      stats: () => transport.stats(),
    },
    clock: systemClock,
    logger: logger.child({ module: 'server' }),
    settings: {
      memberId,
      clusterId,
      name: config.name,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      requestTimeoutMs: config.requestTimeoutMs,
      pendingProposalsMax: config.pendingProposalsMax,
      snapshotCount: config.snapshotCount,
      syncIntervalMs: config.syncIntervalMs,
      expireKeysPerEntry: config.expireKeysPerEntry,
      clientUrls: config.advertiseClientUrls,
    },
  })
  // One set of metrics per member, shared by all its client listeners (http/metrics.ts).
  metrics = new MemberMetrics(member, { peerTraffic: () => transport.stats() })
  const memberMetrics = metrics
  db.onCommit((seconds, synced) => memberMetrics.observeCommit(seconds, synced))
  return { member, transport, metrics }
}

function httpSettingsOf(config: MemberConfig) {
  return {
    corsOrigins: config.cors === '*' ? [] : config.cors,
    requestBodyBytesMax: config.requestBodyBytesMax,
    watcherEventsMax: config.watcherEventsMax,
    limits: { keyBytesMax: config.keyBytesMax, keyDepthMax: config.keyDepthMax, valueBytesMax: config.valueBytesMax },
    headersTimeoutMs: config.headersTimeoutMs,
    requestReceiveTimeoutMs: config.requestReceiveTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    headerBytesMax: config.headerBytesMax,
    hostWhitelist: config.hostWhitelist,
    auth: { guestAccess: config.authGuestAccess },
  }
}

/** Log fields that may hold a secret (pino redact paths). */
const logRedactPaths = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
]


/** POST /raft bodies this member accepts: room for any write its client limits let in (bytes). */
function peerBodyBytesMax(config: MemberConfig): number {
  const requestBytesMax = config.requestBodyBytesMax + config.headerBytesMax
  return Math.max(peerAppDefaults.raftBodyBytesMax, raftBodyBytesFor(requestBytesMax, transportDefaults.batchBytesMax))
}
