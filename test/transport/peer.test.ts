/**
 * Goal: one peer's sending rules hold: one batch POST in flight at a time, the next batch
 * holding everything queued meanwhile; the retry delay doubles from `backoffInitialMs` up to
 * `backoffMaxMs`. Method: the backoff as a table, then a fake peer (node:http) that holds
 * its answer until the test releases it, so what lands in which POST is certain.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeBatch, type MessageBatch } from '../../src/transport/index.js'
import { newestHeartbeatsOnly, nextBackoffMs } from '../../src/transport/peer.js'
import { emptyAppends, message, nextTurn, Signal, startTransport } from './peer-fixture.js'

test('the retry delay doubles from 50 ms to at most 2 s, and starts over after a success', () => {
  const settings = { backoffInitialMs: 50, backoffMaxMs: 2_000 }
  const delays: number[] = []
  let delayMs = 0
  for (let failure = 0; failure < 8; failure++) {
    delayMs = nextBackoffMs(delayMs, settings)
    delays.push(delayMs)
  }
  assert.deepEqual(delays, [50, 100, 200, 400, 800, 1600, 2000, 2000])
  assert.equal(nextBackoffMs(0, settings), 50)
})

/** A peer that records each POST /raft and answers only when told to. */
async function holdingPeer() {
  const batches = new Signal<MessageBatch>()
  const held: ServerResponse[] = []
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      held.push(response)
      batches.push(decodeBatch(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    batches,
    /** Answers every held POST with 204. */
    release: () => {
      for (const response of held.splice(0)) response.writeHead(204).end()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

test('while a batch is in flight, later sends wait and then leave together in the next POST', async (t) => {
  const peer = await holdingPeer()
  const sender = startTransport('a')
  t.after(async () => {
    await sender.transport.stop()
    await peer.close()
  })
  sender.transport.addPeer('b', [peer.url])

  sender.transport.send(emptyAppends('a', 'b', 1, 2))
  await peer.batches.atLeast(1)
  for (let turn = 0; turn < 3; turn++) {
    sender.transport.send(emptyAppends('a', 'b', 3 + turn, 1))
    await nextTurn()
  }
  assert.equal(peer.batches.all.length, 1, 'no second POST while the first is unanswered')
  assert.equal(sender.transport.stats()['b']?.queued, 3)

  peer.release()
  const batches = await peer.batches.atLeast(2)
  assert.deepEqual(batches.map((b) => b.messages.map((m) => m.commit)), [[1, 2], [3, 4, 5]])
  peer.release()
  await sender.transport.flushed()
  const stats = sender.transport.stats()['b']
  assert.equal(stats?.batches, 2)
  assert.equal(stats?.success, 5)
  assert.equal(stats?.queued, 0)
})

test('of the heartbeats and heartbeat answers in one batch, only the newest of each leaves, in its place', () => {
  const hb = (commit: number, context = '') => message('heartbeat', 'a', 'b', { commit, context })
  const answer = (context: string) => message('heartbeatResp', 'a', 'b', { context })
  const batch = [hb(1), ...emptyAppends('a', 'b', 7, 1), hb(2, 'r1'), answer('x'), hb(3, 'r2'), answer('y'), ...emptyAppends('a', 'b', 8, 1)]
  assert.deepEqual(
    newestHeartbeatsOnly(batch).map((m) => `${m.type}:${m.commit}:${m.context}`),
    ['app:7:', 'heartbeat:3:r2', 'heartbeatResp:0:y', 'app:8:'],
  )
  const plain = emptyAppends('a', 'b', 1, 3)
  assert.deepEqual(newestHeartbeatsOnly(plain), plain)
})

test('heartbeats queued behind a slow peer leave as one, the newest; all count as delivered', async (t) => {
  const peer = await holdingPeer()
  const sender = startTransport('a')
  t.after(async () => {
    await sender.transport.stop()
    await peer.close()
  })
  sender.transport.addPeer('b', [peer.url])
  sender.transport.send(emptyAppends('a', 'b', 1, 1))
  await peer.batches.atLeast(1)
  for (let tick = 0; tick < 5; tick++) {
    sender.transport.send([message('heartbeat', 'a', 'b', { commit: 10 + tick })])
    await nextTurn()
  }
  sender.transport.send(emptyAppends('a', 'b', 2, 1))
  peer.release()
  const batches = await peer.batches.atLeast(2)
  assert.deepEqual(batches[1]?.messages.map((m) => `${m.type}:${m.commit}`), ['heartbeat:14', 'app:2'])
  peer.release()
  await sender.transport.flushed()
  assert.equal(sender.transport.stats()['b']?.success, 7)
})

test('a batch stops at batchBytesMax; the rest follows in the next POST', async (t) => {
  const peer = await holdingPeer()
  const sender = startTransport('a', { settings: { batchBytesMax: 10 } })
  t.after(async () => {
    await sender.transport.stop()
    await peer.close()
  })
  sender.transport.addPeer('b', [peer.url])
  const withContext = emptyAppends('a', 'b', 1, 4).map((m) => ({ ...m, context: 'xxxxx' }))
  sender.transport.send(withContext)
  await peer.batches.atLeast(1)
  peer.release()
  await peer.batches.atLeast(2)
  peer.release()
  await sender.transport.flushed()
  assert.deepEqual(peer.batches.all.map((b) => b.messages.map((m) => m.commit)), [[1, 2], [3, 4]])
})
