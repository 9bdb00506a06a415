/**
 * @module transport
 * Raft messages between members over HTTP. Sending: `PeerTransport` (the server's
 * `PeerSender` port): a bounded queue per peer, one batch POST in flight per peer, undici
 * keep-alive pools, exponential backoff, snapshots in chunks, counters for
 * `/v2/stats/leader`. Receiving: `buildPeerApp`, the Fastify app of `--listen-peer-urls`
 * (POST /raft, POST /raft/snapshot, GET /members, GET /version), refusing other clusters
 * with 412 as etcd's rafthttp does. Modelled on etcd server/etcdserver/api/rafthttp.
 * Imports: lib, raft, undici, fastify, node:*. Never blocks the member loop: `send` only
 * queues, and the member's callbacks run later, never from inside `send`.
 */
export { PeerTransport, type PeerTransportOptions } from './peer-transport.js'
export { buildPeerApp, peerCertificateProblem, type AllowedPeer, type PeerAppOptions, type ReceivedSnapshot } from './peer-app.js'
export type { DialTls } from './dial.js'
export { bytesSource, type SnapshotSource } from './snapshot-sender.js'
export { memorySnapshotSink, type SnapshotSink } from './snapshot-receiver.js'
export { fetchPeerMembers, fetchPeerVersion, PeerRequestError, type PeerClientSettings, type RemoteCluster } from './peer-client.js'
export type { PeerStats, LatencyStats } from './peer-stats.js'
export { transportDefaults, peerAppDefaults, raftBodyBytesFor, type TransportSettings, type PeerAppSettings } from './settings.js'
export {
  encodeBatch,
  decodeBatch,
  peerHeaders,
  peerPaths,
  wireVersion,
  WireError,
  type MessageBatch,
  type PeerMemberInfo,
  type PeerVersion,
} from './wire.js'
