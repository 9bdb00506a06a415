/**
 * @module server
 * The member loop: proposals, apply, linearizable reads, TTL expiry, compaction and
 * membership. Sees storage and transport only through the interfaces in ports.ts.
 * Imports: lib, v2error, store, raft.
 */
export { Member, type MemberParts, type MemberSettings } from './member.js'
export type { MemberApi, SelfStats, LeaderStats, LoopStats } from './api.js'
export type { MemberInfo, MemberStorage, PeerSender, PeerDeliveryStats, StateReader } from './ports.js'
export { memberIdOf, clusterIdOf } from './identity.js'
export { MembershipError } from './membership-error.js'
export { forceNewCluster, type ForceNewClusterLog, type ForcedRestart } from './force-new-cluster.js'
