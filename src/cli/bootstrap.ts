/**
 * Opening a member's data directory: a new member records its identity, the cluster's
 * members and the initial configuration once; a restarted member reads them back and
 * refreshes its own attributes (name, client URLs) as etcd republishes them.
 */
import { join } from 'node:path'
import type { MemberConfig } from '../config/index.js'
import type { ConfState } from '../raft/index.js'
import { clusterIdOf, memberIdOf, type MemberInfo } from '../server/index.js'
import { MemberMeta, SqliteLogStore, openDatabase, type ArborDatabase } from '../storage/index.js'

/** A member's opened storage and identity. */
export interface OpenedMember {
  readonly db: ArborDatabase
  readonly log: SqliteLogStore
  readonly meta: MemberMeta
  readonly memberId: string
  readonly clusterId: string
  /** True when this start created the data directory's database. */
  readonly created: boolean
}

/** File holding the member's database inside `--data-dir`. */
export const databaseFileName = 'arbor.db'

/** Opens (or creates) the member's database under `config.dataDir`. */
export function openMember(config: MemberConfig): OpenedMember {
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
    return { db, log, meta, memberId: storedId, clusterId, created: false }
  }
  const members: MemberInfo[] = config.initialCluster.map((entry) => ({
    id: memberIdOf(entry.peerUrls, config.initialClusterToken),
    name: entry.name,
    peerUrls: entry.peerUrls,
    clientUrls: [],
  }))
  const self = members.find((m) => m.name === config.name)
  if (self === undefined) throw new Error(`--initial-cluster has no member named "${config.name}"`)
  const clusterId = clusterIdOf(members.map((m) => m.id))
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

function refreshOwnAttributes(db: ArborDatabase, meta: MemberMeta, id: string, config: MemberConfig): void {
  const current = meta.listMembers().find((m) => m.id === id)
  if (current === undefined) return
  db.transaction(() => meta.upsertMember({ ...current, name: config.name, clientUrls: config.advertiseClientUrls }))
}
