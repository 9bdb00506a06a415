/**
 * Walks a subtree one directory listing at a time, so that the memory a walk needs is one
 * directory's children plus the keys of the directories still to visit, whatever the
 * subtree's size (a recursive GET would be one answer holding all of it).
 */
import type { ArborClient } from './client.js'
import { isV2Error, v2ErrorCodes } from './errors.js'
import type { NodeView } from './types.js'

/** One directory (or the root file) and its direct children, sorted by key. */
export interface WalkStep {
  readonly node: NodeView
  /** Direct, non-hidden children; empty for a file or an empty directory. */
  readonly children: readonly NodeView[]
}

/**
 * The subtree at `rootKey`, depth-first in key order, parents before children: one step per
 * directory (the root first); a root that is a file is one step with no children. A
 * directory removed (or turned into a file) between its parent's listing and its own is
 * left out and reported through `onVanished`.
 * @throws V2ClientError 100 when `rootKey` does not exist, and any client error.
 */
export async function* walkTree(client: ArborClient, rootKey: string, onVanished: (key: string) => void = () => {}): AsyncGenerator<WalkStep> {
  const rootListing = await client.list(rootKey)
  yield { node: rootListing.node, children: rootListing.children }
  const stack: string[] = []
  pushSubdirs(stack, rootListing.children)
  for (let key = stack.pop(); key !== undefined; key = stack.pop()) {
    let listing
    try {
      listing = await client.list(key)
    } catch (error) {
      if (!isV2Error(error, v2ErrorCodes.KeyNotFound)) throw error
      onVanished(key)
      continue
    }
    if (!listing.node.dir) {
      onVanished(key)
      continue
    }
    yield { node: listing.node, children: listing.children }
    pushSubdirs(stack, listing.children)
  }
}

/** Pushes the directories among `children` so that the first in key order pops first. */
function pushSubdirs(stack: string[], children: readonly NodeView[]): void {
  for (let i = children.length - 1; i >= 0; i--) {
    const child = children[i]
    if (child !== undefined && child.dir) stack.push(child.key)
  }
}
