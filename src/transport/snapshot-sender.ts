/**
 * Sends a snapshot in chunks (Raft §7, InstallSnapshot: offset, data, done): the snapshot's
 * data are pulled from a `SnapshotSource` one piece at a time — the leader reads its state in
 * bounded chunks rather than building it whole — cut into POSTs of at most
 * `snapshotChunkBytesMax` bytes, posted one at a time in order, each after the previous one
 * was answered. The first chunk carries the message without its data; the last one says
 * `done`. At most two pieces are held at once (the one being sent and the next, read ahead to
 * know which chunk is the last). A failed chunk ends the transfer: the leader is told, and
 * sends a fresh snapshot later, so chunks are never retried one by one.
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
 * The data of one snapshot, in pieces (the server's `StateReader` has this shape). `next` is
 * synchronous and bounded; `close` releases what the source holds (a read transaction).
 */
export interface SnapshotSource {
  /** The next piece, or `undefined` after the last. */
  next(): Uint8Array | undefined
  /** Idempotent. */
  close(): void
}

/** A source over bytes already in memory, in pieces of `pieceBytes` (tests, small snapshots). */
export function bytesSource(data: Uint8Array, pieceBytes: number): SnapshotSource {
  assert(pieceBytes >= 1, 'bytesSource: pieceBytes must be at least 1')
  let offset = 0
  return {
    next: () => {
      if (offset >= data.byteLength) return undefined
      const piece = data.subarray(offset, Math.min(data.byteLength, offset + pieceBytes))
      offset += piece.byteLength
      return piece
    },
    close: () => {},
  }
}

/**
 * Sends the data of `source` as chunks through `post`, in order, one at a time, and closes
 * `source` whatever happens. An empty source still sends one (empty, done) chunk, so that
 * the receiver sees the message.
 *
 * @param message    a 'snap' message; its own data are not sent (the source's are).
 * @param transferId unique per transfer; the receiver refuses chunks that mix transfers.
 * @returns the number of data bytes delivered (the snapshot's size).
 * @throws whatever `post` or the source throws: the transfer is over and failed.
 */
export async function sendSnapshotChunks(
  message: Message,
  source: SnapshotSource,
  transferId: string,
  chunkBytesMax: number,
  post: PostRequest,
): Promise<number> {
  assert(message.type === 'snap', 'sendSnapshotChunks: not a snap message')
  assert(message.snapshot !== undefined, 'sendSnapshotChunks: the snap message has no snapshot')
  assert(chunkBytesMax >= 1, 'sendSnapshotChunks: chunkBytesMax must be at least 1')
  const messageHeader = encodeSnapshotHeader(message)
  let offset = 0
  try {
    let piece = source.next() ?? new Uint8Array(0)
    let following = source.next()
    for (;;) {
      if (piece.byteLength === 0 && following !== undefined) {
        piece = following
        following = source.next()
        continue
      }
      for (let at = 0; at < piece.byteLength || (at === 0 && piece.byteLength === 0); at += chunkBytesMax) {
        const body = piece.subarray(at, Math.min(piece.byteLength, at + chunkBytesMax))
        const done = following === undefined && at + chunkBytesMax >= piece.byteLength
        const headers: Record<string, string> = {
          'content-type': 'application/octet-stream',
          [peerHeaders.snapshotTransfer]: transferId,
          [peerHeaders.snapshotOffset]: String(offset),
        }
        if (offset === 0) headers[peerHeaders.snapshotMessage] = messageHeader
        if (done) headers[peerHeaders.snapshotDone] = '1'
        await post(peerPaths.snapshot, headers, body)
        offset += body.byteLength
        if (body.byteLength === 0) break
      }
      if (following === undefined) return offset
      piece = following
      following = source.next()
    }
  } finally {
    source.close()
  }
}
