/**
 * Sends a snapshot in chunks (Raft §7, InstallSnapshot): the data of a 'snap' message, cut
 * into pieces of at most `snapshotChunkBytesMax` bytes, posted one at a time in order, each
 * after the previous one was answered. The first chunk carries the message without its
 * data; the receiver hands the whole message to Raft only once the last byte arrived
 * (snapshot-receiver.ts). A failed chunk ends the transfer: the leader is told, and sends a
 * fresh snapshot later, so chunks are never retried one by one.
 */
import { assert } from '../lib/index.js'
import type { Message } from '../raft/index.js'
import { encodeSnapshotHeader, peerHeaders, peerPaths } from './wire.js'

/**
 * Posts one request to the peer and resolves when it answered 204.
 * @throws on a network error, a timeout, or any other status (the transfer fails).
 */
export type PostRequest = (path: string, headers: Record<string, string>, body: Uint8Array) => Promise<void>

/**
 * Byte offsets at which the chunks of `totalBytes` start: [0, max, 2·max, ...]. An empty
 * snapshot is still one (empty) chunk, so that the receiver sees the message.
 */
export function chunkOffsets(totalBytes: number, chunkBytesMax: number): number[] {
  assert(Number.isSafeInteger(totalBytes), 'chunkOffsets: totalBytes must be an integer')
  assert(totalBytes >= 0, 'chunkOffsets: totalBytes must not be negative')
  assert(chunkBytesMax >= 1, 'chunkOffsets: chunkBytesMax must be at least 1')
  const offsets: number[] = [0]
  for (let offset = chunkBytesMax; offset < totalBytes; offset += chunkBytesMax) offsets.push(offset)
  return offsets
}

/**
 * Sends `message.snapshot.data` as chunks through `post`, in order, one at a time.
 *
 * @param message    a 'snap' message whose snapshot data are filled (the server fills them).
 * @param transferId unique per transfer; the receiver refuses chunks that mix transfers.
 * @returns the number of data bytes delivered (the snapshot's size).
 * @throws whatever `post` throws: the transfer is over and failed.
 */
export async function sendSnapshotChunks(
  message: Message,
  transferId: string,
  chunkBytesMax: number,
  post: PostRequest,
): Promise<number> {
  const snapshot = message.snapshot
  assert(message.type === 'snap', 'sendSnapshotChunks: not a snap message')
  assert(snapshot !== undefined, 'sendSnapshotChunks: the snap message has no snapshot')
  const data = snapshot.data
  const totalBytes = data.byteLength
  const messageHeader = encodeSnapshotHeader(message)
  for (const offset of chunkOffsets(totalBytes, chunkBytesMax)) {
    const body = data.subarray(offset, Math.min(totalBytes, offset + chunkBytesMax))
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      [peerHeaders.snapshotTransfer]: transferId,
      [peerHeaders.snapshotOffset]: String(offset),
      [peerHeaders.snapshotTotal]: String(totalBytes),
    }
    if (offset === 0) headers[peerHeaders.snapshotMessage] = messageHeader
    await post(peerPaths.snapshot, headers, body)
  }
  return totalBytes
}
