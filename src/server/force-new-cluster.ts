/**
 * `--force-new-cluster` (etcd's restartAsStandaloneNode, server/etcdserver/raft.go): a member
 * whose cluster lost its quorum for good restarts as the only member, with its data. As etcd
 * does, the entries after the commit index known to this member are discarded (they may never
 * have been committed), then one `removeNode` entry per other member is appended at the
 * current term and committed at once, and the configuration becomes this member alone. The
 * removals are applied like any membership change, so the removed ids are remembered (a lost
 * member that comes back is told it was removed) and `/v2/members` lists this member only.
 * Run before the Raft node is built, on the durable log, in the caller's transaction.
 */
import type { ConfChange, Entry, LogStore, RaftIndex } from '../raft/index.js'
import type { MemberInfo } from './ports.js'

/** The log a forced restart rewrites: a `LogStore` that can also drop its tail. */
export interface ForceNewClusterLog extends LogStore {
  /** Discards every entry after `index`. */
  truncateAfter(index: RaftIndex): void
}

/** What a forced restart did, for the log line. */
export interface ForcedRestart {
  /** Entries after the commit index that were discarded. */
  readonly discarded: number
  /** Members removed through the appended entries. */
  readonly removed: readonly string[]
  /** The commit index now: the last appended removal. */
  readonly commit: RaftIndex
}

/**
 * Rewrites `log` so that the member `selfId` restarts as a one-member cluster.
 * @param members      the members as applied (the `members` table).
 * @param appliedIndex the last applied entry: the committed entries after it are replayed.
 */
export function forceNewCluster(log: ForceNewClusterLog, members: readonly MemberInfo[], selfId: string, appliedIndex: RaftIndex): ForcedRestart {
  const { hardState, confState } = log.initialState()
  const lastBefore = log.lastIndex()
  log.truncateAfter(hardState.commit)
  const ids = new Set<string>([...confState.voters, ...members.map((m) => m.id)])
  // Membership changes committed but not applied yet still count (etcd's getIDs).
  if (hardState.commit > appliedIndex) {
    for (const entry of log.entries(appliedIndex + 1, hardState.commit + 1, Number.MAX_SAFE_INTEGER)) {
      if (entry.type !== 'confChange') continue
      const change = JSON.parse(entry.data) as ConfChange
      if (change.type === 'addNode') ids.add(change.memberId)
      if (change.type === 'removeNode') ids.delete(change.memberId)
    }
  }
  ids.delete(selfId)
  const removed = [...ids].sort()
  const entries: Entry[] = removed.map((id, i) => {
    const member = members.find((m) => m.id === id) ?? { id, name: '', peerUrls: [], clientUrls: [] }
    const change: ConfChange = { type: 'removeNode', memberId: id, context: JSON.stringify({ requestId: '', member }) }
    return { index: hardState.commit + 1 + i, term: hardState.term, type: 'confChange', data: JSON.stringify(change) }
  })
  log.append(entries)
  const commit = hardState.commit + entries.length
  log.setHardState({ ...hardState, commit })
  log.setConfState({ voters: [selfId] })
  return { discarded: lastBefore - hardState.commit, removed, commit }
}
