/**
 * @module client
 * A small typed client of arbor's v2 HTTP API (also etcd's, the same wire): get, list, set,
 * mkdir, delete, a walk of a tree directory by directory, and arbor's snapshot download; v2
 * errors come back as typed errors. It speaks http:// and https:// (a CA to trust, a client
 * certificate) and sends etcd v2 auth credentials (HTTP Basic) with every request. It knows nothing of the server side: imports lib, v2error (etcd's code table) and
 * undici only, so it can be used on its own (the CLI's operational commands use it).
 */
export {
  ArborClient,
  basicAuthorization,
  clientDefaults,
  keysPath,
  snapshotPath,
  type ClientOptions,
  type ClientTls,
  type Credentials,
  type GetOptions,
  type Listing,
  type SnapshotDownload,
} from './client.js'
export { decodeKeysResult, decodeNode } from './decode.js'
export {
  HttpStatusError,
  RequestFailedError,
  ResponseFormatError,
  V2ClientError,
  errorFromResponse,
  isClientError,
  isV2Error,
  v2ErrorCodes,
} from './errors.js'
export type { KeysResult, NodeView } from './types.js'
export { walkTree, type WalkStep } from './walk.js'
export { hiddenAncestors, hiddenRootsInHistory, historyEventsMax } from './history.js'
