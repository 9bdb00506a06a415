/**
 * The auth state of a member: users, roles and the enabled flag, held in memory for the
 * per-request check and written through to the backend (the member's SQLite database)
 * when a committed command is applied. Deterministic: the same commands in the same order
 * give the same state and answers on every member (no clock, no randomness: passwords
 * arrive hashed). Answers and messages are etcd 3.4.23's (spec/v2-auth-and-security.md §2).
 */
import { assert, unreachable } from '../lib/index.js'
import { guestRoleName, permits, rootRole, rootRoleName, rootUserName } from './permissions.js'
import { AuthError, type AuthBackend, type AuthCommand, type AuthResult, type GuestAccess, type KvPermissions, type Role, type User } from './types.js'

/** Who a request comes from, once its credentials were checked. */
export type Principal =
  | { readonly kind: 'guest' }
  | { readonly kind: 'user'; readonly name: string }
  /** Credentials were sent but are wrong: never falls back to guest. */
  | { readonly kind: 'invalid' }

export class AuthStore {
  private users = new Map<string, User>()
  private roles = new Map<string, Role>()
  private enabled = false
  /** Bumped whenever a user changes: cached credentials of an older generation are void. */
  private userGeneration = 0

  constructor(private readonly backend: AuthBackend) {
    this.reload()
  }

  /** Reads everything from the backend again (after a snapshot import or a rollback). */
  reload(): void {
    const loaded = this.backend.load()
    this.users = new Map(loaded.users.map((u) => [u.name, u]))
    this.roles = new Map(loaded.roles.map((r) => [r.name, r]))
    this.enabled = loaded.enabled
    this.userGeneration += 1
  }

  /** Whether auth is enabled (`GET /v2/auth/enable`). */
  isEnabled(): boolean {
    return this.enabled
  }

  /** Changes whenever a user is created, changed or deleted, or the state is reloaded. */
  generation(): number {
    return this.userGeneration
  }

  /** The stored bcrypt hash of `name`, or undefined for an unknown user. */
  passwordHashOf(name: string): string | undefined {
    return this.users.get(name)?.passwordHash
  }

  /** A user, with the root role attached to `root` (etcd re-attaches it on every read). */
  user(name: string): User | undefined {
    const user = this.users.get(name)
    if (user === undefined || name !== rootUserName) return user
    const roles = user.roles ?? []
    return roles.includes(rootRoleName) ? user : { ...user, roles: [...roles, rootRoleName].sort() }
  }

  /** Every user, sorted by name, root role attached to root. */
  allUsers(): User[] {
    return [...this.users.keys()].sort(compareText).map((name) => this.user(name) as User)
  }

  /** A role; `root` is built in. */
  role(name: string): Role | undefined {
    return name === rootRoleName ? rootRole : this.roles.get(name)
  }

  /** Every role, root included, sorted by name. */
  allRoles(): Role[] {
    return [...this.roles.values(), rootRole].sort((a, b) => compareText(a.name, b.name))
  }

  /** Whether `principal` holds the root role (always true while auth is off). */
  isRoot(principal: Principal): boolean {
    if (!this.enabled) return true
    if (principal.kind !== 'user') return false
    return (this.user(principal.name)?.roles ?? []).includes(rootRoleName)
  }

  /**
   * May `principal` read (`write` false) or write `path` (the request path after
   * `/v2/keys`, trailing slash kept)? Recursive requests need a `*` pattern, for guest too
   * (etcd skips that check for guest: spec §5.4). Roles that do not exist are skipped.
   */
  allows(principal: Principal, path: string, write: boolean, recursive: boolean): boolean {
    if (!this.enabled) return true
    if (principal.kind === 'invalid') return false
    if (principal.kind === 'guest') {
      const guest = this.roles.get(guestRoleName)
      return guest !== undefined && permits(guest.permissions, path, write, recursive)
    }
    const user = this.user(principal.name)
    if (user === undefined) return false
    for (const name of user.roles ?? []) {
      if (name === rootRoleName) return true
      const role = this.roles.get(name)
      if (role !== undefined && permits(role.permissions, path, write, recursive)) return true
    }
    return false
  }

  /**
   * Applies a committed command: checks it against the state, changes memory and backend.
   * @throws AuthError with etcd's status and message; nothing changed then.
   */
  apply(command: AuthCommand): AuthResult {
    switch (command.op) {
      case 'enable':
        return this.enable(command.guestAccess)
      case 'disable':
        if (!this.enabled) throw new AuthError(409, 'auth: already disabled')
        this.setEnabled(false)
        return { kind: 'empty' }
      case 'putUser':
        return this.putUser(command)
      case 'deleteUser':
        return this.deleteUser(command.name)
      case 'createRole':
        return this.createRole(command.role)
      case 'updateRole':
        return this.updateRole(command.name, command.grant, command.revoke)
      case 'deleteRole':
        return this.deleteRole(command.name)
      default:
        return unreachable(command)
    }
  }

  private enable(guestAccess: GuestAccess): AuthResult {
    if (this.enabled) throw new AuthError(409, 'auth: already enabled')
    if (!this.users.has(rootUserName)) throw new AuthError(409, 'auth: No root user available, please create one')
    if (!this.roles.has(guestRoleName)) {
      // etcd gives guest read and write on /*; arbor's default gives nothing (docs/differences.md).
      const all = guestAccess === 'readwrite' ? ['/*'] : []
      this.storeRole({ name: guestRoleName, permissions: { read: all, write: [...all] } })
    }
    this.setEnabled(true)
    return { kind: 'empty' }
  }

  private putUser(c: Extract<AuthCommand, { op: 'putUser' }>): AuthResult {
    const existing = this.users.get(c.name)
    if (c.mode === 'create' || (c.mode === 'createOrUpdate' && existing === undefined)) {
      if (c.passwordHash === null) throw new AuthError(400, `auth: Cannot create user ${c.name} with an empty password`)
      if (existing !== undefined) throw new AuthError(409, `auth: User ${c.name} already exists.`)
      let roles = c.roles
      if (c.name === rootUserName && !(roles ?? []).includes(rootRoleName)) roles = [...(roles ?? []), rootRoleName]
      this.storeUser({ name: c.name, passwordHash: c.passwordHash, roles })
      return { kind: 'user', status: c.mode === 'create' ? 200 : 201, name: c.name, roles }
    }
    if (existing === undefined) throw new AuthError(404, `auth: User ${c.name} does not exist.`)
    if (c.passwordHash === null && c.grant.length === 0 && c.revoke.length === 0) {
      throw new AuthError(400, 'auth: User not updated. Use grant/revoke/password to update the user.')
    }
    const roles = new Set(existing.roles ?? [])
    for (const role of c.grant) {
      if (roles.has(role)) throw new AuthError(409, `auth: Granting duplicate role ${role} for user ${c.name}`)
      roles.add(role)
    }
    for (const role of c.revoke) {
      if (!roles.has(role)) throw new AuthError(409, `auth: Revoking ungranted role ${role} for user ${c.name}`)
      roles.delete(role)
    }
    const sorted = [...roles].sort(compareText)
    this.storeUser({ name: c.name, passwordHash: c.passwordHash ?? existing.passwordHash, roles: sorted })
    return { kind: 'user', status: 200, name: c.name, roles: sorted }
  }

  private deleteUser(name: string): AuthResult {
    if (this.enabled && name === rootUserName) throw new AuthError(403, 'auth: Cannot delete root user while auth is enabled.')
    if (!this.users.has(name)) throw new AuthError(404, `auth: User ${name} does not exist`)
    this.users.delete(name)
    this.backend.deleteUser(name)
    this.userGeneration += 1
    return { kind: 'empty' }
  }

  private createRole(role: Role): AuthResult {
    if (role.name === rootRoleName) throw new AuthError(403, `auth: Cannot modify role ${rootRoleName}: is root role.`)
    if (this.roles.has(role.name)) throw new AuthError(409, `auth: Role ${role.name} already exists.`)
    this.storeRole(role)
    return { kind: 'role', status: 201, role }
  }

  private updateRole(name: string, grant: KvPermissions, revoke: KvPermissions): AuthResult {
    if (name === rootRoleName) throw new AuthError(403, `auth: Cannot modify role ${rootRoleName}: is root role.`)
    const old = this.roles.get(name)
    if (old === undefined) throw new AuthError(404, `auth: Role ${name} does not exist.`)
    const read = mergePatterns(old.permissions.read, grant.read, revoke.read, 'read')
    const write = mergePatterns(old.permissions.write, grant.write, revoke.write, 'write')
    if (samePatterns(read, old.permissions.read) && samePatterns(write, old.permissions.write)) {
      throw new AuthError(400, 'auth: Role not updated. Use grant/revoke to update the role.')
    }
    const role: Role = { name, permissions: { read, write } }
    this.storeRole(role)
    return { kind: 'role', status: 200, role }
  }

  private deleteRole(name: string): AuthResult {
    if (name === rootRoleName) throw new AuthError(403, `auth: Cannot modify role ${rootRoleName}: is root role.`)
    if (!this.roles.has(name)) throw new AuthError(404, `auth: Role ${name} doesn't exist.`)
    this.roles.delete(name)
    this.backend.deleteRole(name)
    return { kind: 'empty' }
  }

  private storeUser(user: User): void {
    this.users.set(user.name, user)
    this.backend.putUser(user)
    this.userGeneration += 1
  }

  private storeRole(role: Role): void {
    assert(role.name !== rootRoleName, 'the root role is never stored')
    this.roles.set(role.name, role)
    this.backend.putRole(role)
  }

  private setEnabled(enabled: boolean): void {
    this.enabled = enabled
    this.backend.setEnabled(enabled)
  }
}

/**
 * `current` with `grant` added and `revoke` removed, sorted (etcd's RWPermission merge).
 * Revoking a pattern not held is ignored. @throws AuthError 409 on a duplicate grant.
 */
function mergePatterns(
  current: readonly string[] | null,
  grant: readonly string[] | null,
  revoke: readonly string[] | null,
  kind: 'read' | 'write',
): string[] {
  const patterns = new Set(current ?? [])
  for (const pattern of grant ?? []) {
    if (patterns.has(pattern)) throw new AuthError(409, `auth: Granting duplicate ${kind} permission ${pattern}`)
    patterns.add(pattern)
  }
  for (const pattern of revoke ?? []) patterns.delete(pattern)
  return [...patterns].sort(compareText)
}

function samePatterns(a: readonly string[], b: readonly string[] | null): boolean {
  const set = new Set(b ?? [])
  return a.length === set.size && a.every((p) => set.has(p))
}

/** Go's string order (UTF-8 bytes, which is code point order), as etcd's sort.Strings. */
export function compareText(a: string, b: string): number {
  const x = [...a]
  const y = [...b]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0)
    if (d !== 0) return d
  }
  return x.length - y.length
}
