/**
 * Goal: the peer port answers as etcd's rafthttp does: 204 after handing a batch over whole
 * and in order, 412 with a clear line for another cluster or another member (and nothing
 * delivered), 400 for a malformed batch; snapshots reach the member only once complete;
 * GET /members and GET /version answer JSON. Method: buildPeerApp + app.inject (no port).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SeededRng } from '../../src/lib/index.js'
import type { Message } from '../../src/raft/index.js'
import { buildPeerApp, encodeBatch, peerAppDefaults, peerHeaders, wireVersion, type PeerAppOptions } from '../../src/transport/index.js'
import { encodeSnapshotHeader } from '../../src/transport/wire.js'
import { clusterId, emptyAppends, message, RecordingLogger, snapMessage } from './peer-fixture.js'

function appFor(overrides: Partial<PeerAppOptions> = {}) {
  const delivered: Message[][] = []
  const snapshots: unknown[] = []
  const logger = new RecordingLogger()
  const app = buildPeerApp({
    clusterId,
    memberId: 'b',
    onMessages: (messages) => delivered.push(messages),
    onSnapshot: (received) => snapshots.push(received),
    members: () => [
      { id: 'a', name: 'infra1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'] },
      { id: 'b', name: '', peerUrls: ['http://127.0.0.1:2480'], clientUrls: [] },
    ],
    version: { etcdserver: '3.4.0', etcdcluster: '3.4.0' },
    settings: { ...peerAppDefaults, snapshotChunkBytesMax: 1024, snapshotBytesMax: 10_000 },
    logger,
    ...overrides,
  })
  return { app, delivered, snapshots, logger }
}

const headers = { 'content-type': 'application/json', [peerHeaders.clusterId]: clusterId, [peerHeaders.from]: 'a', [peerHeaders.to]: 'b' }

function batchBody(messages: Message[], fields: Record<string, unknown> = {}): string {
  return encodeBatch({ version: wireVersion, clusterId, from: 'a', to: 'b', messages, ...fields })
}

test('a batch is handed over whole and in order, then answered 204 with the cluster ID', async (t) => {
  const { app, delivered } = appFor()
  t.after(() => app.close())
  const messages = emptyAppends('a', 'b', 1, 5)
  const reply = await app.inject({ method: 'POST', url: '/raft', headers, payload: batchBody(messages) })
  assert.equal(reply.statusCode, 204)
  assert.equal(reply.headers[peerHeaders.clusterId], clusterId)
  assert.deepEqual(delivered, [messages])
})

const refusals: { name: string; headers: Record<string, string | undefined>; body: string; status: number; text: RegExp }[] = [
  {
    name: 'a request from another cluster',
    headers: { ...headers, [peerHeaders.clusterId]: 'aaaaaaaaaaaaaaaa' },
    body: batchBody(emptyAppends('a', 'b', 1, 1)),
    status: 412,
    text: /^cluster ID mismatch: this member belongs to cluster cdf818194e3a8c32, the request comes from cluster aaaaaaaaaaaaaaaa\n$/,
  },
  {
    name: 'a request without a cluster ID',
    headers: { ...headers, [peerHeaders.clusterId]: undefined },
    body: batchBody(emptyAppends('a', 'b', 1, 1)),
    status: 412,
    text: /^cluster ID mismatch: .* comes from no X-Etcd-Cluster-ID\n$/,
  },
  {
    name: 'a batch whose body names another cluster',
    headers,
    body: batchBody(emptyAppends('a', 'b', 1, 1), { clusterId: 'aaaaaaaaaaaaaaaa' }),
    status: 412,
    text: /^cluster ID mismatch/,
  },
  {
    name: 'a request for another member',
    headers: { ...headers, [peerHeaders.to]: 'c' },
    body: batchBody(emptyAppends('a', 'b', 1, 1)),
    status: 412,
    text: /^to field mismatch: this member is b, the request is for c\n$/,
  },
  {
    name: 'a batch of another wire version',
    headers,
    body: batchBody(emptyAppends('a', 'b', 1, 1), { version: wireVersion + 1 }),
    status: 412,
    text: /^incompatible wire version/,
  },
  {
    name: 'a message inside the batch for another member',
    headers,
    body: batchBody([...emptyAppends('a', 'b', 1, 1), message('heartbeat', 'a', 'c')]),
    status: 400,
    text: /^a heartbeat message in the batch is for c\n$/,
  },
  {
    name: 'a malformed batch',
    headers,
    body: JSON.stringify({ version: 1, clusterId, from: 'a', to: 'b', messages: [{ type: 'app' }] }),
    status: 400,
    text: /^messages\[0\]\.from: not a string\n$/,
  },
  { name: 'a body that is not JSON', headers, body: '{"version":', status: 400, text: /JSON/ },
]

for (const c of refusals) {
  test(`${c.name} is refused with ${c.status}, a clear line, and nothing delivered`, async (t) => {
    const { app, delivered, logger } = appFor()
    t.after(() => app.close())
    const requestHeaders = Object.fromEntries(Object.entries(c.headers).filter(([, v]) => v !== undefined)) as Record<string, string>
    const reply = await app.inject({ method: 'POST', url: '/raft', headers: requestHeaders, payload: c.body })
    assert.equal(reply.statusCode, c.status)
    assert.match(String(reply.headers['content-type']), /^text\/plain/)
    assert.match(reply.body, c.text)
    assert.deepEqual(delivered, [])
    assert.equal(logger.messages('warn').length, 1)
  })
}

test('a batch the member fails to take is answered 500 and logged with its stack', async (t) => {
  const { app, logger } = appFor({
    onMessages: () => {
      throw new Error('step failed')
    },
  })
  t.after(() => app.close())
  const reply = await app.inject({ method: 'POST', url: '/raft', headers, payload: batchBody(emptyAppends('a', 'b', 1, 1)) })
  assert.equal(reply.statusCode, 500)
  assert.deepEqual(logger.messages('error'), ['peer request failed'])
})

test('a batch above raftBodyBytesMax is refused with 413 before it is handed over', async (t) => {
  const { app, delivered } = appFor({ settings: { ...peerAppDefaults, raftBodyBytesMax: 200 } })
  t.after(() => app.close())
  const reply = await app.inject({ method: 'POST', url: '/raft', headers, payload: batchBody(emptyAppends('a', 'b', 1, 10)) })
  assert.equal(reply.statusCode, 413)
  assert.deepEqual(delivered, [])
})

/** The POST /raft/snapshot requests that carry `data` in chunks of `size` bytes. */
function chunkRequests(data: Uint8Array, size: number, transferId = 't1') {
  const header = encodeSnapshotHeader(snapMessage('a', 'b', data))
  const requests = []
  for (let offset = 0; offset === 0 || offset < data.byteLength; offset += size) {
    requests.push({
      method: 'POST' as const,
      url: '/raft/snapshot',
      headers: {
        ...headers,
        'content-type': 'application/octet-stream',
        [peerHeaders.snapshotTransfer]: transferId,
        [peerHeaders.snapshotOffset]: String(offset),
        ...(offset + size >= data.byteLength ? { [peerHeaders.snapshotDone]: '1' } : {}),
        ...(offset === 0 ? { [peerHeaders.snapshotMessage]: header } : {}),
      },
      payload: Buffer.from(data.subarray(offset, offset + size)),
    })
  }
  return requests
}

test('a snapshot in chunks reaches the member once, whole, after its last chunk', async (t) => {
  const { app, delivered, snapshots } = appFor()
  t.after(() => app.close())
  const rng = new SeededRng(3)
  const data = Uint8Array.from({ length: 3000 }, () => rng.int(0, 255))
  const statuses: number[] = []
  for (const request of chunkRequests(data, 1024)) {
    const reply = await app.inject(request)
    statuses.push(reply.statusCode)
    if (statuses.length < 3) assert.deepEqual(delivered, [])
  }
  assert.deepEqual(statuses, [204, 204, 204])
  assert.equal(delivered.length, 1)
  const snap = delivered[0]?.[0]
  assert.equal(snap?.type, 'snap')
  assert.deepEqual(snap?.snapshot?.data, data)
  assert.deepEqual(snapshots, [{ from: 'a', index: 42, term: 3, bytes: 3000 }])
})

test('snapshot chunks out of order, too large, or from another cluster are refused', async (t) => {
  const { app, delivered } = appFor()
  t.after(() => app.close())
  const data = new Uint8Array(3000).fill(7)
  const [first, , third] = chunkRequests(data, 1024)
  assert.ok(first !== undefined && third !== undefined)
  assert.equal((await app.inject(first)).statusCode, 204)
  assert.equal((await app.inject(third)).statusCode, 409)
  const [big] = chunkRequests(data, 2048)
  assert.equal((await app.inject(big ?? first)).statusCode, 413)
  const stranger = { ...first, headers: { ...first.headers, [peerHeaders.clusterId]: 'aaaaaaaaaaaaaaaa' } }
  assert.equal((await app.inject(stranger)).statusCode, 412)
  // snapshotBytesMax is 10,000: the chunk that runs past it is refused.
  const tooMuch = chunkRequests(new Uint8Array(20_000), 1024, 't2')
  const statuses: number[] = []
  for (const request of tooMuch.slice(0, 10)) statuses.push((await app.inject(request)).statusCode)
  assert.deepEqual(statuses, [204, 204, 204, 204, 204, 204, 204, 204, 204, 413])
  assert.deepEqual(delivered, [])
})

test("GET /members lists the members in etcd's JSON with the cluster ID header", async (t) => {
  const { app } = appFor()
  t.after(() => app.close())
  const reply = await app.inject({ method: 'GET', url: '/members' })
  assert.equal(reply.statusCode, 200)
  assert.equal(reply.headers[peerHeaders.clusterId], clusterId)
  assert.match(String(reply.headers['content-type']), /^application\/json/)
  assert.deepEqual(reply.json(), [
    { id: 'a', name: 'infra1', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'] },
    { id: 'b', name: '', peerURLs: ['http://127.0.0.1:2480'], clientURLs: [] },
  ])
})

test('GET /version answers the versions; an unknown path is a plain 404', async (t) => {
  const { app } = appFor()
  t.after(() => app.close())
  const version = await app.inject({ method: 'GET', url: '/version' })
  assert.equal(version.statusCode, 200)
  assert.deepEqual(version.json(), { etcdserver: '3.4.0', etcdcluster: '3.4.0' })
  const missing = await app.inject({ method: 'GET', url: '/raft/nothing' })
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.body, '404 page not found\n')
})
