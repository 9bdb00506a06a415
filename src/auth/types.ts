/**
 * The shapes of v2 auth (spec/v2-auth-and-security.md §1): the commands that change users
 * and roles (carried by Raft entries), what applying one answers, and the backend the state
 * is written through.
 */

import type { KvPermissions, Role, User } from '../records/index.js'

/**
 * Users and roles (`User`, `Role`, `KvPermissions`) live in the records module, which storage
 * imports too; they are re-exported here for auth's users.
 */
export type { KvPermissions, Role, User } from '../records/index.js'

/** What `--auth-guest-access` gives the `guest` role created when auth is enabled. */
export type GuestAccess = 'none' | 'readwrite'

/**
 * A change to the auth state, proposed through the Raft log and applied on every member.
 * Checks that need the state (exists, duplicate, root rules) happen at apply, so every
 * member decides alike; passwords are hashed before the command is proposed.
 *
 * `putUser.mode` is etcd's choice of path (v2http auth handler): `create` when roles are
 * given, `update` when grant or revoke is, `createOrUpdate` otherwise.
 */
export type AuthCommand =
  | { readonly op: 'enable'; readonly guestAccess: GuestAccess }
  | { readonly op: 'disable' }
  | {
      readonly op: 'putUser'
      readonly mode: 'create' | 'update' | 'createOrUpdate'
      readonly name: string
      readonly passwordHash: string | null
      readonly roles: readonly string[] | null
      readonly grant: readonly string[]
      readonly revoke: readonly string[]
    }
  | { readonly op: 'deleteUser'; readonly name: string }
  | { readonly op: 'createRole'; readonly role: Role }
  | { readonly op: 'updateRole'; readonly name: string; readonly grant: KvPermissions; readonly revoke: KvPermissions }
  | { readonly op: 'deleteRole'; readonly name: string }

/** What applying a command answers (rendered by http as etcd does). */
export type AuthResult =
  | { readonly kind: 'empty' }
  | { readonly kind: 'user'; readonly status: 200 | 201; readonly name: string; readonly roles: readonly string[] | null }
  | { readonly kind: 'role'; readonly status: 200 | 201; readonly role: Role }

/** A refused auth request: etcd's status and `message` (`{"message":...}`). */
export class AuthError extends Error {
  override readonly name = 'AuthError'
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409,
    message: string,
  ) {
    super(message)
  }
}

/** The durable copy of the auth state (SQLite in production, memory in tests). */
export interface AuthBackend {
  /** Everything stored, read once at start and after the tables changed underneath. */
  load(): { users: User[]; roles: Role[]; enabled: boolean }
  putUser(user: User): void
  deleteUser(name: string): void
  putRole(role: Role): void
  deleteRole(name: string): void
  setEnabled(enabled: boolean): void
}
