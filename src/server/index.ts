/**
 * @module server
 * The member loop: a deterministic core (core/: proposals, apply, linearizable reads, TTL
 * expiry, compaction, membership) and the shell that binds it to Node (member.ts).
 * Sees storage and transport only through the interfaces in ports.ts.
 * Imports: lib, v2error, store, auth, raft.
 */
export { Member, type MemberParts, type MemberSettings } from './member.js'
export { MemberCore } from './core/member-core.js'
export type { CoreParts } from './core/parts.js'
export type { Reply } from './core/pending.js'
export type { MemberApi, SelfStats, LeaderStats, LoopStats } from './api.js'
export type { MemberInfo, MemberStorage, PeerSender, PeerDeliveryStats, Scheduler, StateReader } from './ports.js'
export { memberIdOf, clusterIdOf } from './identity.js'
export { MembershipError } from './membership-error.js'
export { forceNewCluster, type ForceNewClusterLog, type ForcedRestart } from './force-new-cluster.js'
