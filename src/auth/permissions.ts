/**
 * Key patterns (spec/v2-auth-and-security.md §1 "Permissions", §3): a pattern is an exact
 * key, or a prefix ending in `*` that matches every path starting with the text before it.
 * Only allow rules exist. Paths are the request path after `/v2/keys`, trailing slash kept,
 * so `/pub/*` covers `/pub/` but not `/pub`, as in etcd.
 */
import type { KvPermissions, Role } from './types.js'

/** The built-in role names. */
export const rootRoleName = 'root'
export const guestRoleName = 'guest'
export const rootUserName = 'root'

/** The root role as etcd lists it: everything, never stored. */
export const rootRole: Role = { name: rootRoleName, permissions: { read: ['/*'], write: ['/*'] } }

/** Whether `pattern` allows a non-recursive request on `path`. Empty patterns allow nothing. */
export function patternMatches(pattern: string, path: string): boolean {
  if (pattern === '') return false
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1))
  return path === pattern
}

/** Whether `pattern` allows a recursive request on `path`: only `*` patterns do. */
export function patternMatchesRecursive(pattern: string, path: string): boolean {
  if (!pattern.endsWith('*')) return false
  return path.startsWith(pattern.slice(0, -1))
}

/**
 * Whether `permissions` allow `write` (PUT, POST, DELETE) or read (GET, HEAD) access to
 * `path`; `recursive` requests need a `*` pattern (applied to every role, guest included).
 */
export function permits(permissions: KvPermissions, path: string, write: boolean, recursive: boolean): boolean {
  const patterns = (write ? permissions.write : permissions.read) ?? []
  const match = recursive ? patternMatchesRecursive : patternMatches
  return patterns.some((pattern) => match(pattern, path))
}
