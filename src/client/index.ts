/**
 * @module client
 * A small typed client of arbor's v2 HTTP API (also etcd's, the same wire): get, list, set,
 * mkdir, delete, and a walk of a tree directory by directory; v2 errors come back as typed
 * errors. It knows nothing of the server side: imports lib, v2error (etcd's code table) and
 * undici only, so it can be used on its own (the CLI's operational commands use it).
 */
export { ArborClient, clientDefaults, keysPath, type ClientOptions, type GetOptions, type Listing } from './client.js'
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
