/**
 * @module v2error
 * etcd's v2 error codes, their exact messages and HTTP statuses: one table, one error class.
 * Source: etcd server/etcdserver/api/v2error/error.go (v3.4.23); spec v2-api.md §6.2.
 * Imports: lib (nothing else).
 */

/** etcd v2 error codes that arbor emits (codes etcd never sends are left out, Q35). */
export const ErrorCode = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootReadOnly: 107,
  DirNotEmpty: 108,
  Unauthorized: 110,
  PrevValueRequired: 201,
  TtlNaN: 202,
  IndexNaN: 203,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTtlRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  EventIndexCleared: 401,
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** Exact message text per code (etcd v2error/error.go). */
export const errorMessages: Readonly<Record<ErrorCode, string>> = {
  100: 'Key not found',
  101: 'Compare failed',
  102: 'Not a file',
  104: 'Not a directory',
  105: 'Key already exists',
  107: 'Root is read only',
  108: 'Directory not empty',
  110: 'The request requires user authentication',
  201: 'PrevValue is Required in POST form',
  202: 'The given TTL in POST form is not a number',
  203: 'The given index in POST form is not a number',
  209: 'Invalid field',
  210: 'Invalid POST form',
  211: 'Value provided on refresh',
  212: 'A TTL must be provided on refresh',
  300: 'Raft Internal Error',
  301: 'During Leader Election',
  401: 'The event in requested index is outdated and cleared',
}

/** HTTP status per code (etcd v2error.Error.StatusCode). Anything unlisted is 400. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 100:
      return 404
    case 101:
    case 105:
      return 412
    case 102:
    case 108:
      return 403
    case 110:
      return 401
    case 300:
    case 301:
      return 500
    default:
      return 400
  }
}

/**
 * An etcd v2 error. `detail` becomes the body's `cause` (omitted when empty; usually the key);
 * `index` is the store's etcd index at the time (0 for parse errors, 110 and 300).
 * Rendered only by the http module (`{"errorCode":..,"message":..,"cause":..,"index":..}`).
 */
export class V2Error extends Error {
  override readonly name = 'V2Error'
  constructor(
    readonly errorCode: ErrorCode,
    readonly detail: string,
    readonly index: number,
  ) {
    super(detail === '' ? errorMessages[errorCode] : `${errorMessages[errorCode]} (${detail})`)
  }

  /** HTTP status etcd answers this error with. */
  get httpStatus(): number {
    return httpStatusOf(this.errorCode)
  }
}
