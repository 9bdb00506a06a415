/**
 * Goal: chunks become one snapshot, byte for byte, only when the last one arrives; anything
 * that does not continue a transfer exactly is refused with the status the sender will see.
 * Method: a SnapshotAssembler fed chunk by chunk (no I/O).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SeededRng } from '../../src/lib/index.js'
import { ChunkError, SnapshotAssembler, type SnapshotChunk } from '../../src/transport/snapshot-receiver.js'
import { snapMessage } from './peer-fixture.js'

const limits = { snapshotBytesMax: 1000, snapshotsReceivingMax: 2 }

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
    chunks.push({ from, transferId, offset, total: data.byteLength, data: piece, ...(offset === 0 ? { message: header } : {}) })
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
  const assembler = new SnapshotAssembler(limits)
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
  assert.equal(assembler.size, 0)
})

test('an empty snapshot is one empty chunk', () => {
  const outcome = new SnapshotAssembler(limits).accept(chunksOf(new Uint8Array(0), 300)[0] as SnapshotChunk)
  assert.ok(outcome.kind === 'complete')
  assert.equal(outcome.message.snapshot?.data.byteLength, 0)
})

const refusals: { name: string; chunks: (all: SnapshotChunk[]) => SnapshotChunk[]; status: number }[] = [
  { name: 'a skipped chunk', chunks: (all) => [all[0], all[2]] as SnapshotChunk[], status: 409 },
  { name: 'a repeated chunk', chunks: (all) => [all[0], all[1], all[1]] as SnapshotChunk[], status: 409 },
  { name: 'a chunk of another transfer', chunks: (all) => [all[0], { ...all[1], transferId: 't2' }] as SnapshotChunk[], status: 409 },
  { name: 'a continuation with no transfer under way', chunks: (all) => [all[1]] as SnapshotChunk[], status: 409 },
  { name: 'a chunk past the announced total', chunks: (all) => [{ ...all[0], total: 100 }] as SnapshotChunk[], status: 400 },
  { name: 'a total above snapshotBytesMax', chunks: (all) => [{ ...all[0], total: 1001 }] as SnapshotChunk[], status: 413 },
  { name: 'an empty chunk before the end', chunks: (all) => [all[0], { ...all[1], data: new Uint8Array(0) }] as SnapshotChunk[], status: 400 },
]

for (const c of refusals) {
  test(`${c.name} is refused with ${c.status} and ends the transfer`, () => {
    const assembler = new SnapshotAssembler(limits)
    const sequence = c.chunks(chunksOf(bytes(900), 300))
    const statuses = sequence.map((chunk) => statusOf(() => assembler.accept(chunk)))
    assert.equal(statuses[statuses.length - 1], c.status)
    assert.equal(assembler.size, 0)
  })
}

test('a new transfer from the same sender replaces the broken one', () => {
  const assembler = new SnapshotAssembler(limits)
  const first = chunksOf(bytes(900, 1), 300, 'a', 't1')
  const second = chunksOf(bytes(600, 2), 300, 'a', 't2')
  assembler.accept(first[0] as SnapshotChunk)
  assembler.accept(second[0] as SnapshotChunk)
  const done = assembler.accept(second[1] as SnapshotChunk)
  assert.ok(done.kind === 'complete')
  assert.deepEqual(done.message.snapshot?.data, bytes(600, 2))
  assert.equal(statusOf(() => assembler.accept(first[1] as SnapshotChunk)), 409)
})

test('senders beyond snapshotsReceivingMax are refused with 503 without disturbing the others', () => {
  const assembler = new SnapshotAssembler(limits)
  assembler.accept(chunksOf(bytes(600), 300, 'a')[0] as SnapshotChunk)
  assembler.accept(chunksOf(bytes(600), 300, 'c')[0] as SnapshotChunk)
  assert.equal(statusOf(() => assembler.accept(chunksOf(bytes(600), 300, 'd')[0] as SnapshotChunk)), 503)
  assert.equal(assembler.size, 2)
  assert.equal(assembler.accept(chunksOf(bytes(600), 300, 'a')[1] as SnapshotChunk).kind, 'complete')
})

test('a first chunk without the message is refused', () => {
  const chunk = chunksOf(bytes(600), 300)[0] as SnapshotChunk
  const { message: _message, ...withoutMessage } = chunk
  assert.equal(statusOf(() => new SnapshotAssembler(limits).accept(withoutMessage)), 400)
})
