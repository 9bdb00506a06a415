/**
 * Goal: a Raft entry's data carries a client write (request id, the proposer's time, the full
 * request) or a TTL sweep (the leader's time), and decodes to exactly what was encoded
 * (ARCHITECTURE.md decisions 1 and 2); malformed data is a bug, caught by an assertion.
 * Method: round trips over every request kind, then malformed inputs.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AssertionFailure } from '../../src/lib/index.js'
import { decodeProposal, encodeExpire, encodeWrite } from '../../src/server/proposal.js'
import type { StoreRequest } from '../../src/store/index.js'

const requests: StoreRequest[] = [
  { op: 'set', key: '/a', value: 'v', dir: false, ttlSeconds: null, refresh: false },
  { op: 'set', key: '/d', value: '', dir: true, ttlSeconds: 7_523_372_036, refresh: true },
  { op: 'create', key: '/queue', value: 'Job1', dir: false, ttlSeconds: 0, inOrder: true },
  { op: 'update', key: '/u', value: 'line1\nline2\r\n', ttlSeconds: 5, refresh: false },
  { op: 'compareAndSwap', key: '/c', value: 'new', ttlSeconds: null, refresh: false, prevValue: undefined, prevIndex: '18446744073709551615' },
  { op: 'compareAndSwap', key: '/c', value: '', ttlSeconds: 1, refresh: true, prevValue: 'old', prevIndex: '' },
  { op: 'delete', key: '/x', dir: true, recursive: true },
  { op: 'compareAndDelete', key: '/y', prevValue: '"quoted" \\ \u0000 ünï 😀 \ufffd', prevIndex: '3' },
  { op: 'set', key: '/a b\n\u2028<&>', value: 'r 1 2\nx 3', dir: false, ttlSeconds: null, refresh: false },
]

describe('client writes', () => {
  for (const request of requests) {
    test(`${request.op} ${JSON.stringify(request.key)} survives encode → decode`, () => {
      const data = encodeWrite('ac7c97ef0ec193b0.lz4x.1f', 1_700_000_000_123, request)
      const decoded = decodeProposal(data)
      assert.equal(decoded.kind, 'write')
      assert.ok(decoded.kind === 'write')
      assert.equal(decoded.requestId, 'ac7c97ef0ec193b0.lz4x.1f')
      assert.equal(decoded.timeMs, 1_700_000_000_123)
      // JSON drops `undefined` fields; the store reads a missing prevValue as "no condition".
      assert.deepEqual(JSON.parse(decoded.json), JSON.parse(JSON.stringify(request)))
    })
  }

  test('the header is one line: r <id> <timeMs>', () => {
    const data = encodeWrite('m.1.2', 42, requests[0] as StoreRequest)
    assert.equal(data.slice(0, data.indexOf('\n')), 'r m.1.2 42')
  })
})

describe('TTL sweeps', () => {
  test('carry the leader\'s time and the most keys they expire', () => {
    assert.equal(encodeExpire(1_800_000_000_000, 500), 'x 1800000000000 500')
    assert.deepEqual(decodeProposal('x 1800000000000 500'), { kind: 'expire', timeMs: 1_800_000_000_000, keysMax: 500 })
  })
  test('written before the bound, they expire every due key', () => {
    assert.deepEqual(decodeProposal('x 1800000000000'), { kind: 'expire', timeMs: 1_800_000_000_000, keysMax: Number.POSITIVE_INFINITY })
  })
})

describe('malformed entries are bugs', () => {
  const malformed = ['', 'y 1', 'x', 'x abc', 'x 1.5', 'r id 5', 'r  5\n{}', 'r id abc\n{}', 'r id\n{}', 'R id 5\n{}']
  for (const data of malformed) {
    test(`${JSON.stringify(data)} fails an assertion`, () => {
      assert.throws(() => decodeProposal(data), AssertionFailure)
    })
  }
})
