/**
 * v2 key paths: '/a/b' names a node, '/' is the root. Keys arrive cleaned by the HTTP layer
 * (leading '/', no trailing '/', no empty segment; spec v2-api.md §7.1); the store asserts it.
 */
import { assert } from '../lib/index.js'

/** The key of the key-space root, which always exists and is never stored. */
export const ROOT_KEY = '/'

/** Fails (a bug, not a client mistake) unless `key` is a cleaned key. */
export function assertKey(key: string): void {
  assert(key.startsWith('/'), `key must start with '/': ${JSON.stringify(key)}`)
  if (key === ROOT_KEY) return
  assert(!key.endsWith('/'), `key must not end with '/': ${JSON.stringify(key)}`)
  assert(!key.includes('//'), `key must not hold an empty segment: ${JSON.stringify(key)}`)
}

/**
 * The keys of the nodes on the way to `key`, shortest first, `key` itself last:
 * '/a/b/c' → ['/a', '/a/b', '/a/b/c']; the root gives [].
 */
export function keyPrefixes(key: string): string[] {
  const prefixes: string[] = []
  if (key === ROOT_KEY) return prefixes
  for (let i = key.indexOf('/', 1); i !== -1; i = key.indexOf('/', i + 1)) {
    prefixes.push(key.slice(0, i))
  }
  prefixes.push(key)
  return prefixes
}

/** The directory holding `key` ('/a/b' → '/a', '/a' → '/'). Not defined for the root. */
export function parentKey(key: string): string {
  assert(key !== ROOT_KEY, 'the root has no parent')
  const slash = key.lastIndexOf('/')
  return slash === 0 ? ROOT_KEY : key.slice(0, slash)
}

/** The key of child `name` of directory `dirKey`. */
export function childKey(dirKey: string, name: string): string {
  return dirKey === ROOT_KEY ? `/${name}` : `${dirKey}/${name}`
}

/** True when `key` is strictly below `dirKey` (at any depth). */
export function isKeyBelow(key: string, dirKey: string): boolean {
  if (dirKey === ROOT_KEY) return key !== ROOT_KEY
  return key.startsWith(`${dirKey}/`)
}

/** A hidden node: its last segment starts with '_' (spec §7.3; `_` alone is hidden too). */
export function isHiddenKey(key: string): boolean {
  return key.charCodeAt(key.lastIndexOf('/') + 1) === 0x5f
}

/**
 * True when `key`, seen from `watchKey` (an ancestor or `key` itself), lies in or below a hidden
 * node: some segment after `watchKey` starts with '_' (etcd watcher_hub.go isHidden).
 * '/_a' watching '/_a/b' sees it; '/' watching '/x/_y/z' does not.
 */
export function isHiddenBelow(watchKey: string, key: string): boolean {
  assert(key === watchKey || isKeyBelow(key, watchKey), 'watchKey must be key or an ancestor')
  const rest = watchKey === ROOT_KEY ? key : key.slice(watchKey.length)
  return rest.includes('/_')
}
