/**
 * @module http
 * etcd's v2 client API over Fastify: parse and validate (etcd's rules and error codes),
 * call the member, render byte-for-byte as etcd does. Imports: lib, v2error, types of store
 * and server.
 */
export { buildApp, type HttpSettings, type SharedParts } from './app.js'
export type { KeyLimits } from './key-request.js'
export { MemberMetrics, etcdBuckets, type KeyMethod, type MetricSources, type PeerTraffic } from './metrics.js'
export { snapshotRoutePath, type SnapshotSource, type SnapshotFile } from './snapshot-route.js'
