/**
 * Member and cluster IDs, derived the way etcd derives them (membership/member.go,
 * cluster.go): a member's ID is the first 8 bytes of SHA-1 over its sorted peer URLs and the
 * cluster token; the cluster ID is the first 8 bytes of SHA-1 over the members' IDs (sorted,
 * 8 bytes big-endian each). Both are written lower-case hex without padding.
 */
import { createHash } from 'node:crypto'

/** ID of a member with `peerUrls` in the cluster named by `clusterToken`. */
export function memberIdOf(peerUrls: readonly string[], clusterToken: string): string {
  const hash = createHash('sha1')
  hash.update([...peerUrls].sort().join(''))
  hash.update(clusterToken)
  return hexOfFirst8(hash.digest())
}

/** ID of the cluster made of `memberIds` (hex). */
export function clusterIdOf(memberIds: readonly string[]): string {
  const hash = createHash('sha1')
  for (const id of memberIds.map((hex) => BigInt('0x' + hex)).sort(compareBigInt)) {
    const bytes = Buffer.alloc(8)
    bytes.writeBigUInt64BE(id)
    hash.update(bytes)
  }
  return hexOfFirst8(hash.digest())
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function hexOfFirst8(digest: Buffer): string {
  return digest.readBigUInt64BE(0).toString(16)
}
