/**
 * Goal: a snapshot's data, pulled from its source piece by piece, leave in chunks no bigger
 * than `snapshotChunkBytesMax`, in order, the last marked done, and arrive byte for byte; the
 * source is closed however the transfer ends; a failed transfer is reported to Raft as
 * failed, a delivered one as delivered. Method: a recording `post` first (no I/O), then a
 * 5 MiB snapshot between two transports on 127.0.0.1.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SeededRng } from '../../src/lib/index.js'
import { peerHeaders } from '../../src/transport/index.js'
import { bytesSource, sendSnapshotChunks } from '../../src/transport/snapshot-sender.js'
import { closedPort, snapMessage, startReceiver, startTransport } from './peer-fixture.js'

function seededBytes(count: number, seed: number): Uint8Array {
  const rng = new SeededRng(seed)
  const data = new Uint8Array(count)
  for (let i = 0; i < count; i++) data[i] = rng.nextUint32() & 0xff
  return data
}

/** A source handing out `pieces` in order, recording whether it was closed. */
function piecesSource(pieces: Uint8Array[]) {
  const source = { closed: false, next: () => pieces.shift(), close: () => { source.closed = true } }
  return source
}

test('chunks go out in order, each within the limit, the message on the first only, done on the last', async () => {
  const data = seededBytes(25, 1)
  const posted: { headers: Record<string, string>; body: Uint8Array }[] = []
  const source = piecesSource([data.subarray(0, 12), data.subarray(12)])
  const bytes = await sendSnapshotChunks(snapMessage('a', 'b', new Uint8Array(0)), source, 't1', 10, async (path, headers, body) => {
    assert.equal(path, '/raft/snapshot')
    posted.push({ headers, body: body.slice() })
  })
  assert.equal(bytes, 25)
  assert.deepEqual(posted.map((p) => p.headers[peerHeaders.snapshotOffset]), ['0', '10', '12', '22'])
  assert.deepEqual(posted.map((p) => p.body.byteLength), [10, 2, 10, 3])
  assert.deepEqual(posted.map((p) => p.headers[peerHeaders.snapshotMessage] !== undefined), [true, false, false, false])
  assert.deepEqual(posted.map((p) => p.headers[peerHeaders.snapshotDone]), [undefined, undefined, undefined, '1'])
  assert.ok(posted.every((p) => p.headers[peerHeaders.snapshotTransfer] === 't1'))
  assert.deepEqual(Buffer.concat(posted.map((p) => p.body)), Buffer.from(data))
  assert.equal(source.closed, true)
})

test('an empty source is one empty chunk, the first and the last', async () => {
  const posted: Record<string, string>[] = []
  await sendSnapshotChunks(snapMessage('a', 'b', new Uint8Array(0)), piecesSource([]), 't1', 10, async (_path, headers) => {
    posted.push(headers)
  })
  assert.equal(posted.length, 1)
  assert.equal(posted[0]?.[peerHeaders.snapshotDone], '1')
  assert.ok(posted[0]?.[peerHeaders.snapshotMessage] !== undefined)
})

test('a failed chunk ends the transfer: no later chunk is sent, the source is closed', async () => {
  let calls = 0
  const failing = async () => {
    calls += 1
    if (calls === 2) throw new Error('connection reset')
  }
  const source = bytesSource(seededBytes(30, 2), 10)
  const closing = { next: () => source.next(), close: () => (closed = true) }
  let closed = false
  await assert.rejects(sendSnapshotChunks(snapMessage('a', 'b', new Uint8Array(0)), closing, 't1', 10, failing), /connection reset/)
  assert.equal(calls, 2)
  assert.equal(closed, true)
})

test('a 5 MiB snapshot crosses loopback in 1 MiB chunks and arrives byte for byte', async (t) => {
  let chunkRequests = 0
  const receiver = await startReceiver('b', {
    settings: { snapshotChunkBytesMax: 1024 * 1024 },
    hook: (app) =>
      app.addHook('onResponse', async (request) => {
        if (request.url === '/raft/snapshot') chunkRequests += 1
      }),
  })
  const sender = startTransport('a', { settings: { snapshotChunkBytesMax: 1024 * 1024 } })
  t.after(async () => {
    await sender.transport.stop()
    await receiver.app.close()
  })
  sender.transport.addPeer('b', [receiver.url])
  const data = seededBytes(5 * 1024 * 1024, 5)
  sender.transport.send([snapMessage('a', 'b', data)])
  const [report] = await sender.snapshots.atLeast(1)
  assert.deepEqual(report, { memberId: 'b', ok: true })
  const [delivered] = await receiver.batches.atLeast(1)
  assert.equal(delivered?.length, 1)
  const snap = delivered?.[0]
  assert.equal(snap?.type, 'snap')
  assert.deepEqual(snap?.snapshot?.metadata, { index: 42, term: 3, confState: { voters: ['a', 'b'] } })
  assert.equal(snap?.snapshot?.data.byteLength, data.byteLength)
  assert.ok(Buffer.from(data).equals(Buffer.from(snap?.snapshot?.data ?? new Uint8Array(0))), 'the bytes differ')
  assert.equal(chunkRequests, 5)
  const stats = sender.transport.stats()['b']
  assert.equal(stats?.snapshotsSent, 1)
  assert.equal(stats?.bytes, 5 * 1024 * 1024)
})

test('a snapshot to an unreachable peer is reported failed, and the peer unreachable', async (t) => {
  const sender = startTransport('a')
  t.after(() => sender.transport.stop())
  sender.transport.addPeer('b', [`http://127.0.0.1:${await closedPort()}`])
  sender.transport.send([snapMessage('a', 'b', seededBytes(100, 6))])
  assert.deepEqual(await sender.snapshots.atLeast(1), [{ memberId: 'b', ok: false }])
  assert.deepEqual(await sender.unreachable.atLeast(1), ['b'])
  assert.equal(sender.transport.stats()['b']?.snapshotsFailed, 1)
})

test('a snapshot refused by the receiver is reported failed, and nothing is delivered', async (t) => {
  const receiver = await startReceiver('b', { settings: { snapshotChunkBytesMax: 1024 * 1024, snapshotBytesMax: 1000 } })
  const sender = startTransport('a')
  t.after(async () => {
    await sender.transport.stop()
    await receiver.app.close()
  })
  sender.transport.addPeer('b', [receiver.url])
  sender.transport.send([snapMessage('a', 'b', seededBytes(2000, 7))])
  assert.deepEqual(await sender.snapshots.atLeast(1), [{ memberId: 'b', ok: false }])
  assert.deepEqual(receiver.messages(), [])
  assert.match(JSON.stringify(sender.logger.lines), /peer answered 413/)
})

test('a second snapshot while one is under way is dropped without a report', async (t) => {
  const receiver = await startReceiver('b')
  const sender = startTransport('a')
  t.after(async () => {
    await sender.transport.stop()
    await receiver.app.close()
  })
  sender.transport.addPeer('b', [receiver.url])
  sender.transport.send([snapMessage('a', 'b', seededBytes(3000, 8)), snapMessage('a', 'b', seededBytes(3000, 9))])
  assert.deepEqual(await sender.snapshots.atLeast(1), [{ memberId: 'b', ok: true }])
  assert.deepEqual(sender.logger.messages('warn'), ['snapshot dropped: a transfer is under way'])
  const [delivered] = await receiver.batches.atLeast(1)
  assert.deepEqual(delivered?.[0]?.snapshot?.data, seededBytes(3000, 8))
  assert.equal(sender.transport.stats()['b']?.snapshotsSent, 1)
})
