/**
 * Finds hidden nodes through the event history: listings never show a node whose name starts
 * with `_`, but answers from the history do (spec v2-api.md §7.3, Q18). A member keeps its
 * last 1000 events, so this finds the hidden nodes changed by the last 1000 changes, not the
 * others: it complements naming hidden nodes, it does not replace it.
 */
import type { ArborClient } from './client.js'
import { isV2Error, v2ErrorCodes, V2ClientError } from './errors.js'

/** Events a member keeps for `waitIndex` (etcd's window, watcher_hub.go). */
export const historyEventsMax = 1000

/**
 * The hidden roots below `prefix` that the event history names: for each event's key, every
 * ancestor-or-self whose last segment starts with `_` (`/a/_h/_x/k` gives `/a/_h` and
 * `/a/_h/_x`), in the order first seen. A root may no longer exist (the event was its delete).
 * At most `historyEventsMax` + 1 requests (each a GET with `wait=true`): the walk stops at the
 * etcd index it started from, or when no event comes within `quietMs`.
 */
export async function hiddenRootsInHistory(client: ArborClient, prefix: string, quietMs: number): Promise<string[]> {
  const head = await client.get('/')
  const lastIndex = head.etcdIndex ?? 0
  const roots = new Set<string>()
  let next = Math.max(1, lastIndex - historyEventsMax + 1)
  for (let round = 0; round <= historyEventsMax * 2 && next <= lastIndex; round++) {
    let event
    try {
      event = await client.watchOnce(prefix, next, { recursive: true, timeoutMs: quietMs })
    } catch (error) {
      if (!(error instanceof V2ClientError) || !isV2Error(error, v2ErrorCodes.EventIndexCleared)) throw error
      // The history moved on while we read it: start again from its new beginning.
      next = Math.max(next + 1, error.index - historyEventsMax + 1)
      continue
    }
    if (event === undefined) break
    for (const root of hiddenAncestors(prefix, event.node.key)) roots.add(root)
    next = Math.max(next + 1, event.node.modifiedIndex + 1)
  }
  return [...roots]
}

/** Every ancestor-or-self of `key` below `prefix` whose last segment starts with `_`. */
export function hiddenAncestors(prefix: string, key: string): string[] {
  const base = prefix === '/' ? '' : prefix
  if (!key.startsWith(base + '/')) return []
  const out: string[] = []
  let path = base
  for (const segment of key.slice(base.length + 1).split('/')) {
    path += '/' + segment
    if (segment.startsWith('_')) out.push(path)
  }
  return out
}
