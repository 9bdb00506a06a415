/**
 * Opening a member's data directory: a new member records its identity, the cluster's
 * members and the initial configuration once; a restarted member reads them back and
 * refreshes its own attributes (name, client URLs) as etcd republishes them.
 */
import { join } from 'node:path'
import type { ConnectionOptions } from 'node:tls'
import type { MemberConfig } from '../config/index.js'
import type { ConfState } from '../raft/index.js'
import { clusterIdOf, forceNewCluster, memberIdOf, type ForcedRestart, type MemberInfo } from '../server/index.js'
import { MemberMeta, SqliteLogStore, openDatabase, type ArborDatabase } from '../storage/index.js'
import { fetchPeerMembers } from '../transport/index.js'

/** A member's opened storage and identity. */
export interface OpenedMember {
  readonly db: ArborDatabase
  readonly log: SqliteLogStore
  readonly meta: MemberMeta
  readonly memberId: string
  readonly clusterId: string
  /** True when this start created the data directory's database. */
  readonly created: boolean
  /** What `--force-new-cluster` did to the log (undefined without it, or on a new member). */
  readonly forced?: ForcedRestart
}

/** File holding the member's database inside `--data-dir`. */
export const databaseFileName = 'arbor.db'

/**
 * Opens (or creates) the member's database under `config.dataDir`. A new member of a new
 * cluster derives the member and cluster IDs from `--initial-cluster`; a new member joining
 * an existing cluster (`--initial-cluster-state existing`, after `member add`) asks the other
 * members for the cluster ID and the current members, and finds itself by its peer URLs,
 * over TLS with `peerDialTls` (this member's peer certificate) for https peer URLs.
 * @throws Error with a one-line reason (unreachable cluster, member not added first).
 */
export async function openMember(config: MemberConfig, peerDialTls?: ConnectionOptions): Promise<OpenedMember> {
  const db = openDatabase(join(config.dataDir, databaseFileName), {
    synchronous: config.unsafeNoFsync ? 'OFF' : 'FULL',
  })
  const log = new SqliteLogStore(db)
  const meta = new MemberMeta(db)
  const storedId = meta.memberId()
  if (storedId !== undefined) {
    const clusterId = meta.clusterId()
    if (clusterId === undefined) throw new Error('data directory has a member id but no cluster id')
    refreshOwnAttributes(db, meta, storedId, config)
    const forced = config.forceNewCluster
      ? db.transaction(() => forceNewCluster(log, meta.listMembers(), storedId, meta.appliedIndex()))
      : undefined
    return { db, log, meta, memberId: storedId, clusterId, created: false, forced }
  }
  const { members, self, clusterId } =
    config.initialClusterState === 'existing' ? await existingCluster(config, peerDialTls) : newCluster(config)
  const confState: ConfState = { voters: members.map((m) => m.id) }
  db.transaction(() => {
    meta.setMemberId(self.id)
    meta.setClusterId(clusterId)
    for (const member of members) meta.upsertMember(member)
    log.setConfState(confState)
  })
  refreshOwnAttributes(db, meta, self.id, config)
  return { db, log, meta, memberId: self.id, clusterId, created: true }
}

function newCluster(config: MemberConfig): { members: MemberInfo[]; self: MemberInfo; clusterId: string } {
  const members: MemberInfo[] = config.initialCluster.map((entry) => ({
    id: memberIdOf(entry.peerUrls, config.initialClusterToken),
    name: entry.name,
    peerUrls: entry.peerUrls,
    clientUrls: [],
  }))
  const self = members.find((m) => m.name === config.name)
  if (self === undefined) throw new Error(`--initial-cluster has no member named "${config.name}"`)
  return { members, self, clusterId: clusterIdOf(members.map((m) => m.id)) }
}

async function existingCluster(config: MemberConfig, tls: ConnectionOptions | undefined): Promise<{ members: MemberInfo[]; self: MemberInfo; clusterId: string }> {
  const others = config.initialCluster.filter((entry) => entry.name !== config.name).flatMap((entry) => entry.peerUrls)
  const remote = await fetchPeerMembers(others, { dialTimeoutMs: 1_000, requestTimeoutMs: 5_000, ...(tls === undefined ? {} : { tls }) })
  const mine = new Set(config.initialAdvertisePeerUrls)
  const self = remote.members.find((m) => m.peerUrls.some((url) => mine.has(url)))
  if (self === undefined) {
    throw new Error(`the cluster has no member with peer URLs ${[...mine].join(',')}: add it first (etcdctl member add)`)
  }
  const members = remote.members.map((m) => ({ ...m, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls] }))
  return { members, self: { ...self, name: config.name }, clusterId: remote.clusterId }
}

function refreshOwnAttributes(db: ArborDatabase, meta: MemberMeta, id: string, config: MemberConfig): void {
  const current = meta.listMembers().find((m) => m.id === id)
  if (current === undefined) return
  db.transaction(() => meta.upsertMember({ ...current, name: config.name, clientUrls: config.advertiseClientUrls }))
}
