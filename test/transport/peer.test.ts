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
import { nextBackoffMs } from '../../src/transport/peer.js'
import { heartbeats, nextTurn, Signal, startTransport } from './peer-fixture.js'

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

  sender.transport.send(heartbeats('a', 'b', 1, 2))
  await peer.batches.atLeast(1)
  for (let turn = 0; turn < 3; turn++) {
    sender.transport.send(heartbeats('a', 'b', 3 + turn, 1))
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

test('a batch stops at batchBytesMax; the rest follows in the next POST', async (t) => {
  const peer = await holdingPeer()
  const sender = startTransport('a', { settings: { batchBytesMax: 10 } })
  t.after(async () => {
    await sender.transport.stop()
    await peer.close()
  })
  sender.transport.addPeer('b', [peer.url])
  const withContext = heartbeats('a', 'b', 1, 4).map((m) => ({ ...m, context: 'xxxxx' }))
  sender.transport.send(withContext)
  await peer.batches.atLeast(1)
  peer.release()
  await peer.batches.atLeast(2)
  peer.release()
  await sender.transport.flushed()
  assert.deepEqual(peer.batches.all.map((b) => b.messages.map((m) => m.commit)), [[1, 2], [3, 4]])
})
