/**
 * Receives snapshots that arrive in chunks (Raft §7, InstallSnapshot: "offset", "data",
 * "done"). A sender sends the chunks of one transfer in order, one at a time, each after the
 * previous one was answered; so the receiver only ever appends, and anything out of order
 * means the transfer broke: it is dropped, the sender reports the failure to Raft, and the
 * leader sends a fresh snapshot later. The data go to a `SnapshotSink` as they arrive (a
 * member stages them in its database, so memory stays bounded whatever the snapshot's size);
 * one transfer at a time: a first chunk from any sender starts over (a new leader, or the
 * same one restarted) and discards what was staged. No I/O and no clock here: the peer app
 * feeds the chunks in.
 */
import { assert } from '../lib/index.js'
import type { MemberId, Message } from '../raft/index.js'

/** One POST /raft/snapshot, decoded. */
export interface SnapshotChunk {
  readonly from: MemberId
  /** Same on every chunk of one transfer; a new transfer replaces the old. */
  readonly transferId: string
  /** Byte offset of `data` in the snapshot data. */
  readonly offset: number
  /** Whether this is the last chunk. */
  readonly done: boolean
  /** The 'snap' message without its data: on the first chunk (offset 0) only. */
  readonly message?: Message
  readonly data: Uint8Array
}

/**
 * Where the data of the transfer under way go. `begin` discards whatever was there; `write`
 * and `finish` throw when the data are not a snapshot the member can install (the transfer
 * is then dropped). `finish` returns what Raft hands back to the member to install: the
 * snapshot's data, or a token naming the staged copy.
 */
export interface SnapshotSink {
  begin(transferId: string): void
  write(transferId: string, data: Uint8Array): void
  finish(transferId: string): Uint8Array
  discard(): void
}

/** A sink that keeps the data in memory (tests; a member stages them on disk instead). */
export function memorySnapshotSink(): SnapshotSink {
  let pieces: Uint8Array[] = []
  let current: string | undefined
  return {
    begin: (transferId) => {
      pieces = []
      current = transferId
    },
    write: (transferId, data) => {
      assert(transferId === current, 'memorySnapshotSink: not the transfer under way')
      pieces.push(data.slice())
    },
    finish: (transferId) => {
      assert(transferId === current, 'memorySnapshotSink: not the transfer under way')
      const total = pieces.reduce((sum, piece) => sum + piece.byteLength, 0)
      const data = new Uint8Array(total)
      let offset = 0
      for (const piece of pieces) {
        data.set(piece, offset)
        offset += piece.byteLength
      }
      pieces = []
      current = undefined
      return data
    },
    discard: () => {
      pieces = []
      current = undefined
    },
  }
}

/** What one chunk achieved: more is expected, or here is the whole 'snap' message. */
export type ChunkOutcome =
  | { readonly kind: 'partial'; readonly receivedBytes: number }
  | { readonly kind: 'complete'; readonly message: Message; readonly receivedBytes: number }

/** A chunk that cannot be accepted; `statusCode` is the answer the sender gets. */
export class ChunkError extends Error {
  override readonly name = 'ChunkError'
  constructor(
    readonly statusCode: 400 | 409 | 413,
    message: string,
  ) {
    super(message)
  }
}

/** Limits of reception (settings.ts, PeerAppSettings). */
export interface ReceiverLimits {
  /** Largest snapshot received (bytes); a chunk beyond it is refused with 413. */
  readonly snapshotBytesMax: number
}

interface Transfer {
  readonly from: MemberId
  readonly transferId: string
  readonly message: Message
  receivedBytes: number
}

/** The transfer under way on this member, if any. */
export class SnapshotReceiver {
  private transfer: Transfer | undefined

  constructor(
    private readonly sink: SnapshotSink,
    private readonly limits: ReceiverLimits,
  ) {}

  /** Whether a transfer is under way. */
  get receiving(): boolean {
    return this.transfer !== undefined
  }

  /**
   * Takes one chunk. A chunk at offset 0 starts a transfer (replacing any under way); any
   * other continues the transfer exactly where it stands.
   * @throws ChunkError 413 when the data run past `snapshotBytesMax`; 409 when the chunk
   *         does not continue the transfer; 400 when a first chunk has no message, a chunk
   *         is empty but not the last, or the sink refuses the data. The transfer is dropped
   *         in every case.
   */
  accept(chunk: SnapshotChunk): ChunkOutcome {
    const transfer = chunk.offset === 0 ? this.start(chunk) : this.continuation(chunk)
    if (chunk.offset + chunk.data.byteLength > this.limits.snapshotBytesMax) {
      this.drop()
      throw new ChunkError(413, `snapshot of more than ${this.limits.snapshotBytesMax} bytes exceeds the limit`)
    }
    if (chunk.data.byteLength === 0 && !chunk.done) {
      this.drop()
      throw new ChunkError(400, 'empty snapshot chunk')
    }
    let data: Uint8Array | undefined
    try {
      if (chunk.data.byteLength > 0) this.sink.write(transfer.transferId, chunk.data)
      transfer.receivedBytes += chunk.data.byteLength
      if (chunk.done) data = this.sink.finish(transfer.transferId)
    } catch (error) {
      this.drop()
      throw new ChunkError(400, `snapshot refused: ${error instanceof Error ? error.message : String(error)}`)
    }
    if (data === undefined) return { kind: 'partial', receivedBytes: transfer.receivedBytes }
    this.transfer = undefined
    const snapshot = transfer.message.snapshot
    assert(snapshot !== undefined, 'a decoded snap message always has a snapshot (wire.ts)')
    const message = { ...transfer.message, snapshot: { metadata: snapshot.metadata, data } }
    return { kind: 'complete', message, receivedBytes: transfer.receivedBytes }
  }

  /** Drops the transfer under way, if any (the app is closing). */
  clear(): void {
    if (this.transfer !== undefined) this.drop()
  }

  private drop(): void {
    this.transfer = undefined
    this.sink.discard()
  }

  private start(chunk: SnapshotChunk): Transfer {
    if (chunk.message === undefined) {
      this.drop()
      throw new ChunkError(400, 'the first snapshot chunk carries no message')
    }
    this.sink.begin(chunk.transferId)
    const transfer: Transfer = { from: chunk.from, transferId: chunk.transferId, message: chunk.message, receivedBytes: 0 }
    this.transfer = transfer
    return transfer
  }

  private continuation(chunk: SnapshotChunk): Transfer {
    const transfer = this.transfer
    const continues =
      transfer !== undefined && transfer.from === chunk.from && transfer.transferId === chunk.transferId && transfer.receivedBytes === chunk.offset
    if (!continues) {
      // A late chunk of a transfer already replaced must not drop the one under way.
      if (transfer !== undefined && transfer.transferId !== chunk.transferId) {
        throw new ChunkError(409, `snapshot chunk at offset ${chunk.offset} is of a transfer no longer under way`)
      }
      this.clear()
      throw new ChunkError(409, `snapshot chunk at offset ${chunk.offset} does not continue a transfer from ${chunk.from}`)
    }
    return transfer
  }
}
