/**
 * Copies a subtree from one v2 cluster to another through their client APIs, and checks the
 * copy by reading both back: the work of `arbor migrate`. Both sides are read one directory
 * listing at a time, so memory holds one directory's children (of each side), the keys of
 * the directories still to visit, and at most `concurrency` writes.
 *
 * A copy compares before it writes: a node already equal on the target (same kind, same
 * value, TTL present on both or absent on both, remaining TTLs within the tolerance) is left
 * alone, so a second run writes only what changed on the source since. Nothing is ever
 * deleted on the target: a node deleted on the source after a first run stays on the target
 * and the verification counts it as "only on the target".
 */
import { performance } from 'node:perf_hooks'
import { isV2Error, v2ErrorCodes, walkTree, type ArborClient, type NodeView } from '../client/index.js'
import { Inflight } from './inflight.js'

/** How a copy runs. */
export interface CopySettings {
  /** Writes in flight at once. */
  readonly concurrency: number
  /** Remaining TTLs that differ by at most this many seconds count as equal. */
  readonly ttlToleranceSeconds: number
}

/** What a copy saw and did; every node read on the source lands in exactly one of the last five. */
export interface CopyCounts {
  /** Keys (files) read on the source. */
  keys: number
  /** Directories read on the source (the prefix itself included, the root `/` not). */
  dirs: number
  /** Of those, nodes with a TTL. */
  withTtl: number
  /** Hidden roots (`--hidden`) found on the source. */
  hidden: number
  /** Written: absent on the target before. */
  created: number
  /** Written: on the target with another value or TTL before. */
  updated: number
  /** Already equal on the target; not written. */
  unchanged: number
  /** Not written: a key where the other side has a directory, or the reverse (listed in `problems`). */
  conflicts: number
  /** Not written: gone from the source (deleted or expired) between listing and copying. */
  vanished: number
}

export function emptyCopyCounts(): CopyCounts {
  return { keys: 0, dirs: 0, withTtl: 0, hidden: 0, created: 0, updated: 0, unchanged: 0, conflicts: 0, vanished: 0 }
}

/** Problem lines kept for the report (the counts stay exact beyond it). */
export const problemLinesMax = 20

/** The two sides of a copy. */
export interface CopySides {
  readonly source: ArborClient
  readonly target: ArborClient
}

/**
 * Copies the subtree at `rootKey` (a directory, a key, or `/`) from source to target.
 * @param problems receives one line per conflict (the first `problemLinesMax`).
 * @throws V2ClientError 100 when `rootKey` is not on the source; any other client error.
 */
export async function copyTree(sides: CopySides, rootKey: string, settings: CopySettings, counts: CopyCounts, problems: string[]): Promise<void> {
  const inflight = new Inflight(settings.concurrency)
  const note = (line: string): void => {
    if (problems.length < problemLinesMax) problems.push(line)
  }
  for await (const step of walkTree(sides.source, rootKey, () => (counts.vanished += 1))) {
    const readAtMs = performance.now()
    if (step.node.key === rootKey && rootKey !== '/') {
      const target = await targetNode(sides.target, rootKey)
      await copyNode(sides.target, step.node, target, readAtMs, settings, counts, note)
    }
    if (!step.node.dir) break
    const targetChildren = await targetChildrenOf(sides.target, step.node.key)
    // Directories first, awaited: the walk lists them next, and a key written below a
    // directory not yet created would create it without its TTL.
    const dirs = step.children.filter((c) => c.dir)
    for (let i = 0; i < dirs.length; i += settings.concurrency) {
      const batch = dirs.slice(i, i + settings.concurrency)
      await Promise.all(batch.map((c) => copyNode(sides.target, c, targetChildren.get(c.key), readAtMs, settings, counts, note)))
    }
    for (const child of step.children) {
      if (child.dir) continue
      await inflight.run(() => copyNode(sides.target, child, targetChildren.get(child.key), readAtMs, settings, counts, note))
    }
  }
  await inflight.drain()
}

/** The target's node at `key` (without children), or undefined when it has none. */
async function targetNode(target: ArborClient, key: string): Promise<NodeView | undefined> {
  try {
    return (await target.get(key)).node
  } catch (error) {
    if (isV2Error(error, v2ErrorCodes.KeyNotFound)) return undefined
    throw error
  }
}

/** The target's children of `key` by key; empty when it has no such directory. */
async function targetChildrenOf(target: ArborClient, key: string): Promise<Map<string, NodeView>> {
  try {
    const listing = await target.list(key)
    return new Map(listing.children.map((c) => [c.key, c]))
  } catch (error) {
    if (isV2Error(error, v2ErrorCodes.KeyNotFound) || isV2Error(error, v2ErrorCodes.NotDir)) return new Map()
    throw error
  }
}

/** True when remaining TTLs `a` and `b` (seconds, or none) count as the same. */
export function ttlsMatch(a: number | undefined, b: number | undefined, toleranceSeconds: number): boolean {
  if (a === undefined || b === undefined) return a === b
  return Math.abs(a - b) <= toleranceSeconds
}

/**
 * The TTL to write for `node` read at `readAtMs` (performance.now()), less the time gone
 * since, rounded up as etcd rounds: undefined for no TTL, 0 when it has run out.
 */
function ttlLeft(node: NodeView, readAtMs: number): number | undefined {
  if (node.ttl === undefined) return undefined
  return Math.max(0, Math.ceil(node.ttl - (performance.now() - readAtMs) / 1000))
}

/** Writes `source` to the target unless `target` (its node there) already equals it. */
async function copyNode(
  client: ArborClient,
  source: NodeView,
  target: NodeView | undefined,
  readAtMs: number,
  settings: CopySettings,
  counts: CopyCounts,
  note: (line: string) => void,
): Promise<void> {
  if (source.dir) counts.dirs += 1
  else counts.keys += 1
  if (source.ttl !== undefined) counts.withTtl += 1
  if (target !== undefined && target.dir !== source.dir) {
    counts.conflicts += 1
    note(`conflict: ${source.key} is a ${source.dir ? 'directory' : 'key'} on the source and a ${target.dir ? 'directory' : 'key'} on the target`)
    return
  }
  const sameValue = target !== undefined && (source.dir || target.value === source.value)
  if (sameValue && ttlsMatch(source.ttl, target.ttl, settings.ttlToleranceSeconds)) {
    counts.unchanged += 1
    return
  }
  const ttlSeconds = ttlLeft(source, readAtMs)
  if (ttlSeconds === 0) {
    counts.vanished += 1
    return
  }
  try {
    if (!source.dir) await client.set(source.key, source.value ?? '', { ttlSeconds })
    else if (target === undefined) await client.mkdir(source.key, { ttlSeconds })
    else await client.updateDirTtl(source.key, ttlSeconds)
  } catch (error) {
    if (!isV2Error(error, v2ErrorCodes.NotFile) && !isV2Error(error, v2ErrorCodes.NotDir) && !isV2Error(error, v2ErrorCodes.NodeExist)) throw error
    counts.conflicts += 1
    note(`conflict: ${source.key}: the target answered ${error.message}`)
    return
  }
  if (target === undefined) counts.created += 1
  else counts.updated += 1
}
