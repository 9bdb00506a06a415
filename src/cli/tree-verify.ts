/**
 * Checks a copy by reading both sides back, one directory listing of each at a time: every
 * node of the source's subtree must be on the target as the same kind, with the same value,
 * with a TTL on both sides or on neither, the remaining TTLs within the tolerance. Nodes about
 * to expire (remaining TTL within the tolerance) may be gone from one side already and are
 * counted apart. Nodes only on the target are counted, never a difference: a copy never
 * deletes.
 */
import { isV2Error, v2ErrorCodes, walkTree, type NodeView } from '../client/index.js'
import { problemLinesMax, ttlsMatch, type CopySides } from './tree-copy.js'

/** What a verification found. */
export interface VerifyCounts {
  /** Source nodes compared (the root `/` not counted). */
  compared: number
  /** Source nodes missing or different on the target (listed in `problems`). */
  differ: number
  /** Nodes on the target that the source does not have (a copy never deletes). */
  onlyOnTarget: number
  /** Nodes on one side only whose remaining TTL is within the tolerance: expiring, not wrong. */
  expiring: number
}

export function emptyVerifyCounts(): VerifyCounts {
  return { compared: 0, differ: 0, onlyOnTarget: 0, expiring: 0 }
}

/**
 * Compares the subtree at `rootKey` on both sides.
 * @param problems receives one line per difference (the first `problemLinesMax`).
 * @throws V2ClientError 100 when `rootKey` is not on the source; any other client error.
 */
export async function verifyTree(sides: CopySides, rootKey: string, ttlToleranceSeconds: number, counts: VerifyCounts, problems: string[]): Promise<void> {
  const differ = (key: string, why: string): void => {
    counts.differ += 1
    if (problems.length < problemLinesMax) problems.push(`differs: ${key}: ${why}`)
  }
  const compare = (source: NodeView, target: NodeView | undefined): void => {
    counts.compared += 1
    if (target === undefined) {
      if (expiresSoon(source, ttlToleranceSeconds)) counts.expiring += 1
      else differ(source.key, 'missing on the target')
      return
    }
    const why = difference(source, target, ttlToleranceSeconds)
    if (why !== undefined) differ(source.key, why)
  }
  for await (const step of walkTree(sides.source, rootKey)) {
    if (step.node.key === rootKey && rootKey !== '/') compare(step.node, await nodeOrUndefined(sides, rootKey))
    if (!step.node.dir) break
    const targetChildren = await childrenOrEmpty(sides, step.node.key)
    for (const child of step.children) {
      compare(child, targetChildren.get(child.key))
      targetChildren.delete(child.key)
    }
    for (const extra of targetChildren.values()) {
      if (expiresSoon(extra, ttlToleranceSeconds)) counts.expiring += 1
      else counts.onlyOnTarget += 1
    }
  }
}

/** Why `target` is not a copy of `source`, or undefined when it is. */
function difference(source: NodeView, target: NodeView, ttlToleranceSeconds: number): string | undefined {
  if (source.dir !== target.dir) return `a ${source.dir ? 'directory' : 'key'} on the source, a ${target.dir ? 'directory' : 'key'} on the target`
  if (source.value !== target.value) return `value ${JSON.stringify(source.value)} on the source, ${JSON.stringify(target.value)} on the target`
  if (!ttlsMatch(source.ttl, target.ttl, ttlToleranceSeconds)) return `TTL ${source.ttl ?? 'none'} on the source, ${target.ttl ?? 'none'} on the target`
  return undefined
}

function expiresSoon(node: NodeView, ttlToleranceSeconds: number): boolean {
  return node.ttl !== undefined && node.ttl <= ttlToleranceSeconds
}

async function nodeOrUndefined(sides: CopySides, key: string): Promise<NodeView | undefined> {
  try {
    return (await sides.target.get(key)).node
  } catch (error) {
    if (isV2Error(error, v2ErrorCodes.KeyNotFound)) return undefined
    throw error
  }
}

async function childrenOrEmpty(sides: CopySides, key: string): Promise<Map<string, NodeView>> {
  try {
    return new Map((await sides.target.list(key)).children.map((c) => [c.key, c]))
  } catch (error) {
    if (isV2Error(error, v2ErrorCodes.KeyNotFound) || isV2Error(error, v2ErrorCodes.NotDir)) return new Map()
    throw error
  }
}
