/**
 * Goal: stream watches over a real socket (spec v2-api.md §11.4-§11.5, Q22 and Q23 fixed). A
 * client that reads keeps its stream however many events come at once (a replay of 150
 * events, then live ones). A client that stops reading is ended once `watcherEventsMax`
 * events wait for it beyond what the kernel took, and the next event comes: `watcherEventsMax`
 * waiting events are kept, one more ends the stream. When it reads again it gets every event
 * written, then the end of the response, and the rest by re-watching with waitIndex.
 * Method: a one-member in-memory arbor (test/support/test-member.ts) listening on 127.0.0.1.
 * The watch goes over a raw node:net socket, so the test decides when the client reads;
 * writes go through app.inject(), one at a time. The server's side of the stream is seen
 * through the server's 'request' event: `writableLength` is what the kernel has not taken.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { startTestMember, type TestMember } from '../support/test-member.js'
import { send, until } from '../http/inject.js'

/** What a raw watch connection has received so far. */
interface Received {
  /** HTTP status, or 0 before the status line. */
  readonly status: number
  /** Each event's chunk as sent: size line, JSON, CRLF. */
  readonly chunks: readonly string[]
  /** The events, parsed. */
  readonly events: readonly { action: string; node: { key: string; modifiedIndex: number } }[]
  /** The terminating chunk (`0\r\n\r\n`) arrived: the server ended the response. */
  readonly complete: boolean
}

/** A watch over its own socket that reads only when told to. */
class RawWatch {
  private readonly data: Buffer[] = []
  private reading = false

  constructor(readonly socket: Socket) {}

  /** Connects and sends `GET target`; nothing is read until `read()`. */
  static open(port: number, target: string): RawWatch {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => undefined) // the test destroys it; 'close' follows any error
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    return new RawWatch(socket)
  }

  /** Reads from now on (again). */
  read(): void {
    if (!this.reading) this.socket.on('data', (chunk: Buffer) => this.data.push(chunk))
    this.reading = true
    this.socket.resume()
  }

  /** Stops reading: the socket's buffer fills (16 KiB), then the kernel's, then the server's. */
  pause(): void {
    this.socket.pause()
  }

  received(): Received {
    return parseChunked(Buffer.concat(this.data).toString('latin1'))
  }

  /** Resolves once `condition` holds on what was received. @throws Error after `timeoutMs`. */
  async until(condition: (received: Received) => boolean, timeoutMs = 20_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs
    for (let received = this.received(); Date.now() < deadline; received = this.received()) {
      if (condition(received)) return received
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    throw new Error(`condition not reached: ${JSON.stringify({ ...this.received(), chunks: undefined, events: this.received().events.length })}`)
  }
}

/** Parses a chunked HTTP response received so far (one char per byte). */
function parseChunked(text: string): Received {
  const headerEnd = text.indexOf('\r\n\r\n')
  if (headerEnd === -1) return { status: 0, chunks: [], events: [], complete: false }
  const status = Number(text.slice(9, 12))
  const chunks: string[] = []
  let complete = false
  let at = headerEnd + 4
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at)
    if (lineEnd === -1) break
    const size = parseInt(text.slice(at, lineEnd), 16)
    if (size === 0) {
      complete = text.startsWith('\r\n', lineEnd + 2)
      break
    }
    const next = lineEnd + 2 + size + 2
    if (next > text.length) break
    chunks.push(text.slice(at, next))
    at = next
  }
  const events = chunks.map((chunk) => JSON.parse(chunk.slice(chunk.indexOf('\r\n') + 2, -2)))
  return { status, chunks, events, complete }
}

/** A listening member whose socket responses (the watches) the test can look at. */
async function listeningMember(t: TestContext, watcherEventsMax: number): Promise<{ m: TestMember; port: number; streams: ServerResponse[] }> {
  const m = await startTestMember({ http: { watcherEventsMax } })
  const streams: ServerResponse[] = []
  // Only the watches come over the socket (writes go through inject()). The app rewrites
  // request.url before this listener runs, so every response is taken.
  m.app.server.on('request', (_request: unknown, response: ServerResponse) => streams.push(response))
  await m.app.listen({ host: '127.0.0.1', port: 0 })
  t.after(() => m.close())
  return { m, port: (m.app.server.address() as AddressInfo).port, streams }
}

/** Lets the turn that applied a write end, and its corked writes reach the kernel. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** `count` consecutive etcd indexes from `first`. */
function indexes(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i)
}

test('a stream 150 events back gets all 150, then live events, and stays open', async (t) => {
  const { m, port } = await listeningMember(t, 100)
  for (let i = 1; i <= 150; i++) await send(m.app, 'PUT', `/v2/keys/s/k${i}`, `value=${i}`) // 1..150
  const watch = RawWatch.open(port, '/v2/keys/s?wait=true&stream=true&recursive=true&waitIndex=1')
  t.after(() => watch.socket.destroy())
  watch.read()
  let received = await watch.until((r) => r.events.length >= 150 || r.complete)
  assert.equal(received.status, 200)
  assert.deepEqual(received.events.map((e) => e.node.modifiedIndex), indexes(1, 150))
  assert.equal(received.complete, false)

  await send(m.app, 'PUT', '/v2/keys/s/live1', 'value=151') // 151
  await send(m.app, 'PUT', '/v2/keys/s/live2', 'value=152') // 152
  received = await watch.until((r) => r.events.length >= 152 || r.complete)
  assert.deepEqual(received.events.map((e) => e.node.modifiedIndex), indexes(1, 152))
  assert.equal(received.complete, false, 'the stream is still open')
  assert.equal(m.store.watcherCount, 1)

  watch.socket.destroy()
  await until(() => m.store.watcherCount === 0)
})

test('a client that stops reading is ended with watcherEventsMax events waiting in the server', async (t) => {
  const eventsMax = 5
  const { m, port, streams } = await listeningMember(t, eventsMax)
  const watch = RawWatch.open(port, '/v2/keys/p?wait=true&stream=true&recursive=true')
  t.after(() => watch.socket.destroy())
  watch.read()
  await watch.until((r) => r.status === 200)
  watch.pause()
  const response = streams[0]
  assert.ok(response !== undefined)

  // 64 KiB events: the kernel's buffers (a few MiB on loopback) fill after some dozens.
  const value = 'x'.repeat(64 * 1024)
  let puts = 0
  for (; puts < 2_000 && m.store.watcherCount === 1; ) {
    puts += 1
    await send(m.app, 'PUT', `/v2/keys/p/k${String(puts).padStart(4, '0')}`, `value=${value}`) // index = puts
    await nextTurn()
  }
  assert.equal(m.store.watcherCount, 0, 'the watcher was dropped')
  assert.equal(response.writableEnded, true, 'its response was ended')
  const waitingBytes = response.writableLength

  watch.read()
  const received = await watch.until((r) => r.complete)
  assert.equal(received.status, 200)
  assert.deepEqual(
    received.events.map((e) => e.node.modifiedIndex),
    indexes(1, puts - 1),
    'every event before the one that ended it arrived, then the end of the response',
  )
  // What waited in the server when it ended: the last eventsMax events (counted), maybe the
  // one before them (partly taken by the kernel, not counted), and the terminating chunk.
  const chunkBytes = received.chunks.map((chunk) => chunk.length)
  const lastBytes = (count: number): number => chunkBytes.slice(-count).reduce((sum, bytes) => sum + bytes, 0)
  const end = '0\r\n\r\n'.length
  assert.ok(
    waitingBytes === lastBytes(eventsMax) + end || waitingBytes === lastBytes(eventsMax + 1) + end,
    `${waitingBytes} bytes waited: ${eventsMax} or ${eventsMax + 1} events of ${lastBytes(1)} bytes plus ${end}`,
  )
})

test('exactly watcherEventsMax events waiting are kept, one more ends the stream', async (t) => {
  const eventsMax = 3
  const { m, port, streams } = await listeningMember(t, eventsMax)
  const watch = RawWatch.open(port, '/v2/keys/e?wait=true&stream=true&recursive=true')
  t.after(() => watch.socket.destroy())
  await until(() => m.store.watcherCount === 1)
  const response = streams[0]
  assert.ok(response !== undefined)

  // The client reads nothing. Fill the kernel until an event stays partly untaken after its
  // turn; with the client not reading, the kernel takes nothing more from now on.
  const value = 'x'.repeat(256 * 1024)
  let index = 0
  for (; index < 400 && response.writableLength === 0; ) {
    index += 1
    await send(m.app, 'PUT', `/v2/keys/e/fill${index}`, `value=${value}`)
    await nextTurn()
  }
  assert.ok(response.writableLength > 0, 'the kernel stopped taking the stream')
  const filled = index

  for (let queued = 1; queued <= eventsMax; queued++) {
    index += 1
    await send(m.app, 'PUT', `/v2/keys/e/q${queued}`, 'value=small')
    await nextTurn()
    assert.equal(m.store.watcherCount, 1, `${queued} events waiting: the stream is kept`)
    assert.equal(response.writableEnded, false)
  }
  index += 1
  await send(m.app, 'PUT', '/v2/keys/e/over', 'value=small')
  await nextTurn()
  assert.equal(m.store.watcherCount, 0, `${eventsMax} events waiting and one more: the watcher is dropped`)
  assert.equal(response.writableEnded, true, 'and its response ended')

  watch.read()
  const received = await watch.until((r) => r.complete)
  assert.deepEqual(received.events.map((e) => e.node.modifiedIndex), indexes(1, filled + eventsMax))
  assert.equal(received.events.at(-1)?.node.key, `/e/q${eventsMax}`)

  // The client re-watches from the next index and gets the event the stream did not carry.
  const again = await send(m.app, 'GET', `/v2/keys/e?wait=true&recursive=true&waitIndex=${filled + eventsMax + 1}`)
  assert.equal(JSON.parse(again.body).node.key, '/e/over')
  assert.equal(JSON.parse(again.body).node.modifiedIndex, index)
})
