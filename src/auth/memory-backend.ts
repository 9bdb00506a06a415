/** An in-memory auth backend, for unit tests and the simulator. */
import type { AuthBackend, Role, User } from './types.js'

export class MemoryAuthBackend implements AuthBackend {
  readonly users = new Map<string, User>()
  readonly roles = new Map<string, Role>()
  enabled = false

  load(): { users: User[]; roles: Role[]; enabled: boolean } {
    return { users: [...this.users.values()], roles: [...this.roles.values()], enabled: this.enabled }
  }
  putUser(user: User): void {
    this.users.set(user.name, user)
  }
  deleteUser(name: string): void {
    this.users.delete(name)
  }
  putRole(role: Role): void {
    this.roles.set(role.name, role)
  }
  deleteRole(name: string): void {
    this.roles.delete(name)
  }
  setEnabled(enabled: boolean): void {
    this.enabled = enabled
  }
}
