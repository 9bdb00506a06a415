/**
 * The auth state's rows (tables `auth_users`, `auth_roles`, `meta.auth_enabled`): the
 * durable side of the auth module's in-memory state, written inside the member loop's
 * transaction when an auth entry is applied: the auth module's `AuthBackend` (storage never
 * imports auth; the rows' types come from the records module, which auth imports too).
 */
import { assert } from '../lib/index.js'
import type { Role, User } from '../records/index.js'
import type { ArborDatabase } from './database.js'
import { metaKey } from './schema.js'
import type { Statements } from './statements.js'

export class SqliteAuthBackend {
  private readonly auth: Statements['auth']
  private readonly meta: Statements['meta']

  constructor(db: ArborDatabase) {
    this.auth = db.statements.auth
    this.meta = db.statements.meta
  }

  load(): { users: User[]; roles: Role[]; enabled: boolean } {
    const users = this.auth.users.all().map((r) => ({ name: r.name, passwordHash: r.password_hash, roles: stringListOf(r.roles) }))
    const roles = this.auth.roles.all().map((r) => ({ name: r.name, permissions: { read: stringListOf(r.read), write: stringListOf(r.write) } }))
    const enabled = this.meta.get.get(metaKey.authEnabled)?.value ?? 0
    assert(enabled === 0 || enabled === 1, 'meta auth_enabled is not 0 or 1')
    return { users, roles, enabled: enabled === 1 }
  }

  putUser(user: User): void {
    this.auth.putUser.run(user.name, user.passwordHash, JSON.stringify(user.roles))
  }

  deleteUser(name: string): void {
    this.auth.deleteUser.run(name)
  }

  putRole(role: Role): void {
    this.auth.putRole.run(role.name, JSON.stringify(role.permissions.read), JSON.stringify(role.permissions.write))
  }

  deleteRole(name: string): void {
    this.auth.deleteRole.run(name)
  }

  setEnabled(enabled: boolean): void {
    this.meta.put.run(metaKey.authEnabled, enabled ? 1 : 0)
  }
}

/** A JSON column holding an array of strings or null. */
export function stringListOf(json: string): string[] | null {
  const value: unknown = JSON.parse(json)
  if (value === null) return null
  assert(Array.isArray(value) && value.every((x) => typeof x === 'string'), 'auth column is not a list of strings')
  return value as string[]
}
