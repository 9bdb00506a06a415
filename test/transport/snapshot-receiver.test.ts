/**
 * Goal: chunks go to the sink as they arrive and become one snapshot, byte for byte, only
 * when the last one arrives; anything that does not continue the transfer exactly is refused
 * with the status the sender will see, and the staged data are discarded; a new transfer
 * from anyone replaces the one under way. Method: a SnapshotReceiver over an in-memory sink,
 * fed chunk by chunk (no I/O).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SeededRng } from '../../src/lib/index.js'
import { ChunkError, SnapshotReceiver, memorySnapshotSink, type SnapshotChunk, type SnapshotSink } from '../../src/transport/snapshot-receiver.js'
import { snapMessage } from './peer-fixture.js'

const limits = { snapshotBytesMax: 1000 }

/** A memory sink that counts what it was asked to do. */
function countingSink(): SnapshotSink & { discards: number; begins: number } {
  const inner = memorySnapshotSink()
  const sink = {
    discards: 0,
    begins: 0,
    begin: (id: string) => {
      sink.begins += 1
      inner.begin(id)
    },
    write: (id: string, data: Uint8Array) => inner.write(id, data),
    finish: (id: string) => inner.finish(id),
    discard: () => {
      sink.discards += 1
      inner.discard()
    },
  }
  return sink
}

const receiver = () => new SnapshotReceiver(memorySnapshotSink(), limits)

function bytes(count: number, seed = 1): Uint8Array {
  const rng = new SeededRng(seed)
  return Uint8Array.from({ length: count }, () => rng.int(0, 255))
}

/** The chunks of `data` cut every `size` bytes, as the sender cuts them. */
function chunksOf(data: Uint8Array, size: number, from = 'a', transferId = 't1'): SnapshotChunk[] {
  const header = snapMessage(from, 'b', new Uint8Array(0))
  const chunks: SnapshotChunk[] = []
  for (let offset = 0; offset === 0 || offset < data.byteLength; offset += size) {
    const piece = data.subarray(offset, offset + size)
    const done = offset + size >= data.byteLength
    chunks.push({ from, transferId, offset, done, data: piece, ...(offset === 0 ? { message: header } : {}) })
  }
  return chunks
}

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn()
    return undefined
  } catch (error) {
    assert.ok(error instanceof ChunkError)
    return error.statusCode
  }
}

test('chunks in order become one snap message with the exact bytes, only at the last chunk', () => {
  const assembler = receiver()
  const data = bytes(950)
  const chunks = chunksOf(data, 300)
  assert.equal(chunks.length, 4)
  const outcomes = chunks.map((chunk) => assembler.accept(chunk))
  assert.deepEqual(outcomes.slice(0, 3), [
    { kind: 'partial', receivedBytes: 300 },
    { kind: 'partial', receivedBytes: 600 },
    { kind: 'partial', receivedBytes: 900 },
  ])
  const last = outcomes[3]
  assert.equal(last?.kind, 'complete')
  assert.ok(last?.kind === 'complete')
  assert.deepEqual(last.message.snapshot?.data, data)
  assert.deepEqual(last.message.snapshot?.metadata, { index: 42, term: 3, confState: { voters: ['a', 'b'] } })
  assert.equal(assembler.receiving, false)
})

test('an empty snapshot is one empty chunk', () => {
  const outcome = receiver().accept(chunksOf(new Uint8Array(0), 300)[0] as SnapshotChunk)
  assert.ok(outcome.kind === 'complete')
  assert.equal(outcome.message.snapshot?.data.byteLength, 0)
})

/** `keeps`: the refused chunk is of no transfer under way, so the one under way (if any) goes on. */
const refusals: { name: string; chunks: (all: SnapshotChunk[]) => SnapshotChunk[]; status: number; keeps?: boolean }[] = [
  { name: 'a skipped chunk', chunks: (all) => [all[0], all[2]] as SnapshotChunk[], status: 409 },
  { name: 'a repeated chunk', chunks: (all) => [all[0], all[1], all[1]] as SnapshotChunk[], status: 409 },
  { name: 'a chunk of another transfer', chunks: (all) => [all[0], { ...all[1], transferId: 't2' }] as SnapshotChunk[], status: 409, keeps: true },
  { name: 'a continuation with no transfer under way', chunks: (all) => [all[1]] as SnapshotChunk[], status: 409, keeps: true },
  { name: 'data past snapshotBytesMax', chunks: (all) => [all[0], all[1], { ...all[2], data: bytes(401) }] as SnapshotChunk[], status: 413 },
  { name: 'an empty chunk before the end', chunks: (all) => [all[0], { ...all[1], data: new Uint8Array(0) }] as SnapshotChunk[], status: 400 },
]

for (const c of refusals) {
  test(`${c.name} is refused with ${c.status}${c.keeps === true ? '' : ' and ends the transfer'}`, () => {
    const sink = countingSink()
    const assembler = new SnapshotReceiver(sink, limits)
    const sequence = c.chunks(chunksOf(bytes(900), 300))
    const statuses = sequence.map((chunk) => statusOf(() => assembler.accept(chunk)))
    assert.equal(statuses[statuses.length - 1], c.status)
    if (c.keeps === true) {
      assert.equal(sink.discards, 0)
      return
    }
    assert.equal(assembler.receiving, false)
    assert.equal(sink.discards, 1, 'what was staged is discarded')
  })
}

test('a new transfer, from the same sender or another, replaces the one under way', () => {
  for (const newSender of ['a', 'c']) {
    const sink = countingSink()
    const assembler = new SnapshotReceiver(sink, limits)
    const first = chunksOf(bytes(900, 1), 300, 'a', 't1')
    const second = chunksOf(bytes(600, 2), 300, newSender, 't2')
    assembler.accept(first[0] as SnapshotChunk)
    assembler.accept(second[0] as SnapshotChunk)
    assert.equal(sink.begins, 2, 'the new transfer starts the staging over')
    // A late chunk of the replaced transfer does not disturb the new one.
    assert.equal(statusOf(() => assembler.accept(first[1] as SnapshotChunk)), 409)
    const done = assembler.accept(second[1] as SnapshotChunk)
    assert.ok(done.kind === 'complete')
    assert.deepEqual(done.message.snapshot?.data, bytes(600, 2))
  }
})

test('data the sink refuses end the transfer with 400', () => {
  const sink = { ...memorySnapshotSink(), write: () => { throw new Error('not a state snapshot') } }
  const assembler = new SnapshotReceiver(sink, limits)
  assert.equal(statusOf(() => assembler.accept(chunksOf(bytes(600), 300)[0] as SnapshotChunk)), 400)
  assert.equal(assembler.receiving, false)
})

test('a first chunk without the message is refused', () => {
  const chunk = chunksOf(bytes(600), 300)[0] as SnapshotChunk
  const { message: _message, ...withoutMessage } = chunk
  assert.equal(statusOf(() => receiver().accept(withoutMessage)), 400)
})
