/**
 * Goal: a batch survives the wire unchanged, and anything that is not a batch is refused
 * with a WireError naming the field. Method: encode → JSON.parse → decode round trips for
 * every peer message type, then a table of malformed bodies.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SeededRng } from '../../src/lib/index.js'
import type { Message, MessageType } from '../../src/raft/index.js'
import { decodeBatch, encodeBatch, WireError, wireVersion, type MessageBatch } from '../../src/transport/index.js'
import {
  decodeMemberList,
  decodeSnapshotHeader,
  encodeMemberList,
  encodeSnapshotHeader,
  isWireType,
} from '../../src/transport/wire.js'
import { clusterId, message, snapMessage } from './peer-fixture.js'

const peerTypes: MessageType[] = [
  'prop', 'app', 'appResp', 'vote', 'voteResp', 'preVote', 'preVoteResp', 'snap',
  'heartbeat', 'heartbeatResp', 'readIndex', 'readIndexResp', 'transferLeader', 'timeoutNow',
]

function batchOf(messages: Message[]): MessageBatch {
  return { version: wireVersion, clusterId, from: 'a', to: 'b', messages }
}

function roundTrip(batch: MessageBatch): MessageBatch {
  return decodeBatch(JSON.parse(encodeBatch(batch)))
}

test('every peer message type survives a round trip with all its fields', () => {
  const messages = peerTypes.map((type, i) =>
    message(type, 'a', 'b', {
      term: 7,
      logTerm: 6,
      index: 100 + i,
      commit: 99,
      reject: i % 2 === 0,
      rejectHint: 3,
      context: `ctx-${i}`,
      entries: [
        { index: 101, term: 7, type: 'normal', data: '{"method":"PUT","key":"/é/☃/𝄞"}' },
        { index: 102, term: 7, type: 'confChange', data: '' },
      ],
    }),
  )
  assert.deepEqual(roundTrip(batchOf(messages)), batchOf(messages))
})

test('snapshot data inside a batch travel as base64 and come back byte for byte', () => {
  const rng = new SeededRng(7)
  const data = Uint8Array.from({ length: 1000 }, () => rng.int(0, 255))
  const batch = batchOf([snapMessage('a', 'b', data)])
  const text = encodeBatch(batch)
  assert.match(text, /"data":"[A-Za-z0-9+/]+=*"/)
  const back = roundTrip(batch)
  assert.deepEqual(back.messages[0]?.snapshot?.data, data)
  assert.deepEqual(back, batch)
})

test('local message types never travel', () => {
  for (const type of ['hup', 'beat', 'snapStatus', 'unreachable'] as const) assert.equal(isWireType(type), false)
  for (const type of peerTypes) assert.equal(isWireType(type), true)
})

const good = JSON.parse(encodeBatch(batchOf([message('app', 'a', 'b', { entries: [{ index: 1, term: 1, type: 'normal', data: 'x' }] })])))

const malformed: { name: string; body: unknown; field: RegExp }[] = [
  { name: 'a body that is not an object', body: [1, 2], field: /^batch: not an object/ },
  { name: 'a batch without clusterId', body: { ...good, clusterId: undefined }, field: /^clusterId: not a string/ },
  { name: 'a batch whose version is text', body: { ...good, version: '1' }, field: /^version: not a non-negative integer/ },
  { name: 'a batch whose messages are not an array', body: { ...good, messages: {} }, field: /^messages: not an array/ },
  { name: 'a message of a local type', body: { ...good, messages: [{ ...good.messages[0], type: 'hup' }] }, field: /^messages\[0\]\.type: "hup" is not a peer message type/ },
  { name: 'a message with a negative term', body: { ...good, messages: [{ ...good.messages[0], term: -1 }] }, field: /^messages\[0\]\.term/ },
  { name: 'a message with a fractional index', body: { ...good, messages: [{ ...good.messages[0], index: 1.5 }] }, field: /^messages\[0\]\.index/ },
  { name: 'a message whose reject is a number', body: { ...good, messages: [{ ...good.messages[0], reject: 0 }] }, field: /^messages\[0\]\.reject: not a boolean/ },
  {
    name: 'an entry of an unknown type',
    body: { ...good, messages: [{ ...good.messages[0], entries: [{ index: 1, term: 1, type: 'blob', data: '' }] }] },
    field: /^messages\[0\]\.entries\[0\]\.type: "blob" is not an entry type/,
  },
  {
    name: 'entry data that are not a string',
    body: { ...good, messages: [{ ...good.messages[0], entries: [{ index: 1, term: 1, type: 'normal', data: 5 }] }] },
    field: /^messages\[0\]\.entries\[0\]\.data: not a string/,
  },
  {
    name: 'snapshot data that are not base64',
    body: { ...good, messages: [{ ...good.messages[0], snapshot: { metadata: { index: 1, term: 1, confState: { voters: [] } }, data: 'a*b=' } }] },
    field: /^messages\[0\]\.snapshot\.data: not base64/,
  },
]

for (const c of malformed) {
  test(`${c.name}: refused, naming the field`, () => {
    assert.throws(() => decodeBatch(c.body), (error: unknown) => error instanceof WireError && c.field.test(error.message))
  })
}

test('the first-chunk header carries the snap message without its data', () => {
  const snap = snapMessage('a', 'b', new Uint8Array([1, 2, 3]))
  const header = encodeSnapshotHeader(snap)
  assert.match(header, /^[A-Za-z0-9_-]+$/)
  const back = decodeSnapshotHeader(header)
  assert.deepEqual(back, { ...snap, snapshot: { metadata: snap.snapshot?.metadata, data: new Uint8Array(0) } })
})

test('a first-chunk header that is not a snap message is refused', () => {
  const notSnap = Buffer.from(JSON.stringify(message('app', 'a', 'b')), 'utf8').toString('base64url')
  assert.throws(() => decodeSnapshotHeader(notSnap), /type is not snap/)
  assert.throws(() => decodeSnapshotHeader('%%%'), /not base64url/)
  assert.throws(() => decodeSnapshotHeader(Buffer.from('{', 'utf8').toString('base64url')), /not JSON/)
})

test("the member list uses etcd's field names and reads back", () => {
  const members = [{ id: '8e9e05c52164694d', name: 'infra1', peerUrls: ['http://10.0.0.1:2380'], clientUrls: ['http://10.0.0.1:2379'] }]
  const text = encodeMemberList(members)
  assert.equal(text, '[{"id":"8e9e05c52164694d","name":"infra1","peerURLs":["http://10.0.0.1:2380"],"clientURLs":["http://10.0.0.1:2379"]}]')
  assert.deepEqual(decodeMemberList(JSON.parse(text)), members)
  assert.throws(() => decodeMemberList([{ id: 'x', name: 'y', peerURLs: 'z', clientURLs: [] }]), /members\[0\]\.peerURLs: not an array/)
})
