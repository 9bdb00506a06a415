/**
 * A refused membership change, answered as etcd's members handler answers it:
 * `{"message": ...}` with `status` (404 unknown id, 409 URL in use, 410 removed, 500 not committed).
 */
export class MembershipError extends Error {
  override readonly name = 'MembershipError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}
