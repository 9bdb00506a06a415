/**
 * The rows of the v2 auth state (spec/v2-auth-and-security.md §1): what the auth module
 * keeps in memory and writes through its `AuthBackend`, and what storage keeps in the
 * `auth_users` and `auth_roles` tables.
 */

/** Read and write key patterns of a role. `null` is a list never given (etcd shows `null`). */
export interface KvPermissions {
  readonly read: readonly string[] | null
  readonly write: readonly string[] | null
}

/** A role: a name and the key patterns it allows. Patterns are exact keys or end in `*`. */
export interface Role {
  readonly name: string
  readonly permissions: KvPermissions
}

/**
 * A user: a name, a bcrypt hash (never the password) and role names. `roles` is null until
 * a role is given (etcd answers `"roles":null` then); role names are not checked.
 */
export interface User {
  readonly name: string
  readonly passwordHash: string
  readonly roles: readonly string[] | null
}
