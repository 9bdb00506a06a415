/**
 * Goal: a peer never refuses (413) the batch that carries a write its client limits let in,
 * whatever the write holds: `raftBodyBytesFor` covers the worst JSON growth of a request,
 * escaped once inside the entry and again inside the batch.
 * Method: the worst values (control characters, quotes, backslashes, astral characters)
 * encoded exactly as the member and the transport encode them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { encodeWrite } from '../../src/server/proposal.js'
import { encodeBatch, raftBodyBytesFor, wireVersion } from '../../src/transport/index.js'
import { message } from './peer-fixture.js'

const valueBytes = 64 * 1024

for (const [what, char] of [
  ['control characters', '\u0001'],
  ['quotes', '"'],
  ['backslashes', '\\'],
  ['astral characters', '😀'],
  ['plain letters', 'a'],
] as const) {
  test(`a batch carrying one write of ${valueBytes} bytes of ${what} fits the body limit for that request size`, () => {
    const value = char.repeat(valueBytes / Buffer.byteLength(char))
    const key = '/' + char.repeat(100)
    const data = encodeWrite('b0b0.lx9.1', 1_700_000_000_000, { op: 'set', key, value, dir: false, ttlSeconds: null, refresh: false })
    const app = message('app', 'a', 'b', { term: 3, index: 7, logTerm: 3, commit: 7, entries: [{ index: 8, term: 3, type: 'normal', data }] })
    const body = Buffer.byteLength(encodeBatch({ version: wireVersion, clusterId: 'c1', from: 'a', to: 'b', messages: [app] }))
    const requestBytes = Buffer.byteLength(value) + Buffer.byteLength(key)
    // At most 7 bytes on the wire per byte of the request, plus one message's other fields.
    assert.ok(body <= 7 * requestBytes + 1024, `${body} bytes on the wire for a ${requestBytes}-byte request`)
    assert.ok(raftBodyBytesFor(requestBytes, 0) >= 7 * requestBytes + 1024)
    if (what === 'control characters') assert.ok(body > 6 * requestBytes, 'the worst case does grow about 7 times')
  })
}

test('the limit grows with the senders batch size and the largest request', () => {
  assert.equal(raftBodyBytesFor(0, 0), 4 * 1024 * 1024)
  assert.equal(raftBodyBytesFor(10, 100) - raftBodyBytesFor(0, 0), 2 * 100 + 7 * 10)
})
