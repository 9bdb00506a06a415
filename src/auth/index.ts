/**
 * @module auth
 * etcd v2 auth (spec/v2-auth-and-security.md §1–5): users, roles, key permissions and the
 * enabled flag as state changed only by applied Raft entries (`AuthStore.apply`), kept in
 * memory for the per-request check and written through an `AuthBackend` (the member's
 * SQLite database); Basic credentials checked with bcrypt and cached (`Authenticator`).
 * The only module that hashes or compares passwords. Imports: lib, records (users and
 * roles, re-exported here), @node-rs/bcrypt. Never imports http, server or storage.
 */
export { AuthStore, compareText, type Principal } from './auth-store.js'
export { Authenticator, parseBasic, authorizationBytesMax, type AuthAttempt, type CredentialCacheSettings } from './authenticator.js'
export { hashPassword, verifyPassword, bcryptCost } from './password.js'
export { MemoryAuthBackend } from './memory-backend.js'
export { patternMatches, patternMatchesRecursive, permits, rootRole, rootRoleName, guestRoleName, rootUserName } from './permissions.js'
export {
  AuthError,
  type AuthBackend,
  type AuthCommand,
  type AuthResult,
  type GuestAccess,
  type KvPermissions,
  type Role,
  type User,
} from './types.js'
