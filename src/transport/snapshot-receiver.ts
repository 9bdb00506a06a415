/**
 * Reassembles snapshots that arrive in chunks (Raft §7, InstallSnapshot: "offset", "data",
 * "done"). A sender sends the chunks of one transfer in order, one at a time, each after
 * the previous one was answered; so the receiver only ever appends, and anything out of
 * order means the transfer broke: it is dropped, the sender reports the failure to Raft,
 * and the leader sends a fresh snapshot later. No I/O and no clock here: the peer app
 * feeds the chunks in.
 */
import { assert } from '../lib/index.js'
import type { MemberId, Message } from '../raft/index.js'

/** One POST /raft/snapshot, decoded. */
export interface SnapshotChunk {
  readonly from: MemberId
  /** Same on every chunk of one transfer; a new transfer from the same sender replaces the old. */
  readonly transferId: string
  /** Byte offset of `data` in the snapshot data. */
  readonly offset: number
  /** Size of the whole snapshot data (bytes). */
  readonly total: number
  /** The 'snap' message without its data: on the first chunk (offset 0) only. */
  readonly message?: Message
  readonly data: Uint8Array
}

/** What one chunk achieved: more is expected, or here is the whole 'snap' message. */
export type ChunkOutcome =
  | { readonly kind: 'partial'; readonly receivedBytes: number }
  | { readonly kind: 'complete'; readonly message: Message }

/** A chunk that cannot be accepted; `statusCode` is the answer the sender gets. */
export class ChunkError extends Error {
  override readonly name = 'ChunkError'
  constructor(
    readonly statusCode: 400 | 409 | 413 | 503,
    message: string,
  ) {
    super(message)
  }
}

/** Limits of reassembly (settings.ts, PeerAppSettings). */
export interface AssemblerLimits {
  readonly snapshotBytesMax: number
  readonly snapshotsReceivingMax: number
}

interface Assembly {
  readonly transferId: string
  readonly total: number
  readonly message: Message
  readonly pieces: Uint8Array[]
  receivedBytes: number
}

/** The transfers under way on this member, at most one per sender. */
export class SnapshotAssembler {
  private readonly assemblies = new Map<MemberId, Assembly>()

  constructor(private readonly limits: AssemblerLimits) {}

  /** Transfers under way. */
  get size(): number {
    return this.assemblies.size
  }

  /**
   * Adds one chunk. A chunk at offset 0 starts a transfer (replacing any from that sender);
   * any other continues the sender's transfer exactly where it stands.
   * @throws ChunkError 413 when `total` exceeds `snapshotBytesMax`; 503 when too many
   *         senders are under way; 409 when the chunk does not continue the transfer;
   *         400 when it overruns `total` or a first chunk has no message. The sender's
   *         transfer is dropped in every case but 503.
   */
  accept(chunk: SnapshotChunk): ChunkOutcome {
    if (chunk.total > this.limits.snapshotBytesMax) {
      this.assemblies.delete(chunk.from)
      throw new ChunkError(413, `snapshot of ${chunk.total} bytes exceeds the limit of ${this.limits.snapshotBytesMax} bytes`)
    }
    const assembly = chunk.offset === 0 ? this.start(chunk) : this.continuation(chunk)
    if (chunk.offset + chunk.data.byteLength > chunk.total) {
      this.assemblies.delete(chunk.from)
      throw new ChunkError(400, 'snapshot chunk runs past the announced total')
    }
    if (chunk.data.byteLength === 0 && chunk.total > 0) {
      this.assemblies.delete(chunk.from)
      throw new ChunkError(400, 'empty snapshot chunk')
    }
    assembly.pieces.push(chunk.data)
    assembly.receivedBytes += chunk.data.byteLength
    if (assembly.receivedBytes < assembly.total) return { kind: 'partial', receivedBytes: assembly.receivedBytes }
    this.assemblies.delete(chunk.from)
    return { kind: 'complete', message: completed(assembly) }
  }

  /** Forgets every transfer (the app is closing). */
  clear(): void {
    this.assemblies.clear()
  }

  private start(chunk: SnapshotChunk): Assembly {
    if (chunk.message === undefined) {
      this.assemblies.delete(chunk.from)
      throw new ChunkError(400, 'the first snapshot chunk carries no message')
    }
    if (!this.assemblies.has(chunk.from) && this.assemblies.size >= this.limits.snapshotsReceivingMax) {
      throw new ChunkError(503, `already receiving ${this.assemblies.size} snapshots`)
    }
    const assembly: Assembly = { transferId: chunk.transferId, total: chunk.total, message: chunk.message, pieces: [], receivedBytes: 0 }
    this.assemblies.set(chunk.from, assembly)
    return assembly
  }

  private continuation(chunk: SnapshotChunk): Assembly {
    const assembly = this.assemblies.get(chunk.from)
    const continues =
      assembly !== undefined &&
      assembly.transferId === chunk.transferId &&
      assembly.total === chunk.total &&
      assembly.receivedBytes === chunk.offset
    if (!continues) {
      this.assemblies.delete(chunk.from)
      throw new ChunkError(409, `snapshot chunk at offset ${chunk.offset} does not continue a transfer from ${chunk.from}`)
    }
    return assembly
  }
}

/** The 'snap' message with its data joined from the pieces, byte for byte. */
function completed(assembly: Assembly): Message {
  const data = new Uint8Array(assembly.total)
  let offset = 0
  for (const piece of assembly.pieces) {
    data.set(piece, offset)
    offset += piece.byteLength
  }
  const snapshot = assembly.message.snapshot
  assert(snapshot !== undefined, 'a decoded snap message always has a snapshot (wire.ts)')
  assert(offset === assembly.total, 'the pieces add up to the announced total')
  return { ...assembly.message, snapshot: { metadata: snapshot.metadata, data } }
}
