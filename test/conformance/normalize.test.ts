/**
 * Goal: the normalization hides exactly what legitimately differs between etcd and another
 * correct server (index offset, ids, times, versions, URLs) and nothing else.
 * Method: table of raw bodies normalized with the context a server would have; no I/O.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isParseError, normalizeBody, normalizeOutcome, parseRfc3339Ms, shiftDecimal, sortListing } from './normalize.js'
import type { NormalizeContext } from './normalize.js'

const base: NormalizeContext = {
  offset: -3,
  clientUrl: 'http://127.0.0.1:4001',
  peerUrl: 'http://127.0.0.1:4002',
  sentAtMs: Date.parse('2030-01-01T00:00:00.000Z'),
  indexTemplated: false,
  sentPrevIndex: undefined,
}

function body(raw: string, ctx: Partial<NormalizeContext> = {}): { text: string; ttls: readonly number[]; expirationsMs: readonly number[]; problems: readonly string[] } {
  const acc = { expirationsMs: [] as number[], ttls: [] as number[], problems: [] as string[] }
  const text = normalizeBody(raw, { ...base, ...ctx }, acc)
  return { text, ...acc }
}

describe('index normalization (offset -3: the server numbers its first write 1, etcd 4)', () => {
  const cases = [
    { name: 'node indexes', raw: '{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}\n', want: '{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":4,"createdIndex":4}}\n' },
    { name: 'a store error index', raw: '{"errorCode":100,"message":"Key not found","cause":"/x","index":0}\n', want: '{"errorCode":100,"message":"Key not found","cause":"/x","index":3}\n' },
    { name: 'a parse error index stays a literal 0', raw: '{"errorCode":209,"message":"Invalid field","cause":"invalid value for \\"dir\\"","index":0}\n', want: '{"errorCode":209,"message":"Invalid field","cause":"invalid value for \\"dir\\"","index":0}\n' },
    { name: 'in-order key names', raw: '{"key":"/q/00000000000000000002","modifiedIndex":2}', want: '{"key":"/q/00000000000000000005","modifiedIndex":5}' },
    { name: 'in-order names inside a path', raw: '{"cause":"/q/00000000000000000002/x"}', want: '{"cause":"/q/00000000000000000005/x"}' },
    { name: 'a 20-digit number that is not a path segment', raw: '"cause":"[18446744073709551615 != 13]"', want: '"cause":"[18446744073709551615 != 13]"' },
  ]
  for (const c of cases) test(c.name, () => assert.equal(body(c.raw).text, c.want))
})

describe('401 and 101 causes', () => {
  test('both numbers of a 401 cause shift when the waitIndex was a template', () => {
    const raw = '{"errorCode":401,"message":"m","cause":"the requested history has been cleared [12/1]","index":1011}\n'
    assert.equal(body(raw, { indexTemplated: true }).text, '{"errorCode":401,"message":"m","cause":"the requested history has been cleared [15/4]","index":1014}\n')
  })
  test('a literal waitIndex in a 401 cause stays as sent', () => {
    const raw = '{"errorCode":401,"message":"m","cause":"the requested history has been cleared [12/1]","index":1011}\n'
    assert.equal(body(raw).text, '{"errorCode":401,"message":"m","cause":"the requested history has been cleared [15/1]","index":1014}\n')
  })
  test('the index part of a two-part 101 cause shifts', () => {
    const raw = '{"errorCode":101,"message":"Compare failed","cause":"[zz != b1] [10 != 13]","index":13}\n'
    assert.equal(body(raw, { indexTemplated: true, sentPrevIndex: '10' }).text, '{"errorCode":101,"message":"Compare failed","cause":"[zz != b1] [13 != 16]","index":16}\n')
  })
  test('a single part is the index part when its left side is the prevIndex sent', () => {
    const raw = '{"errorCode":101,"message":"Compare failed","cause":"[10 != 13]","index":13}\n'
    assert.equal(body(raw, { indexTemplated: true, sentPrevIndex: '10' }).text, '{"errorCode":101,"message":"Compare failed","cause":"[13 != 16]","index":16}\n')
  })
  test('a literal prevIndex keeps its left side', () => {
    const raw = '{"errorCode":101,"message":"Compare failed","cause":"[18446744073709551615 != 13]","index":13}\n'
    assert.equal(body(raw, { sentPrevIndex: '18446744073709551615' }).text, '{"errorCode":101,"message":"Compare failed","cause":"[18446744073709551615 != 16]","index":16}\n')
  })
  test('a numeric value part is left alone', () => {
    const raw = '{"errorCode":101,"message":"Compare failed","cause":"[2 != 1]","index":13}\n'
    assert.equal(body(raw, { sentPrevIndex: undefined }).text, '{"errorCode":101,"message":"Compare failed","cause":"[2 != 1]","index":16}\n')
  })
})

describe('ids, times, versions and URLs', () => {
  test('well-formed ids, times, durations and URLs become placeholders', () => {
    const raw = '{"name":"default","id":"8e9e05c52164694d","state":"StateLeader","startTime":"2030-01-01T00:00:00.12345Z","leaderInfo":{"leader":"8e9e05c52164694d","uptime":"1m2.5s","startTime":"2030-01-01T00:00:01Z"}}'
    const out = body(raw)
    assert.equal(out.text, '{"name":"default","id":"<id>","state":"StateLeader","startTime":"<time>","leaderInfo":{"leader":"<id>","uptime":"<duration>","startTime":"<time>"}}')
    assert.deepEqual(out.problems, [])
  })
  test('malformed values are reported and kept', () => {
    const out = body('{"id":"XYZ","startTime":"2030-01-01 00:00:00","uptime":"forever","etcdserver":"three"}')
    assert.equal(out.problems.length, 4)
    assert.equal(out.text, '{"id":"XYZ","startTime":"2030-01-01 00:00:00","uptime":"forever","etcdserver":"three"}')
  })
  test('a fraction with a trailing zero is not Go time text', () => {
    assert.equal(body('{"expiration":"2030-01-01T00:00:00.500Z"}').problems.length, 1)
  })
  test('versions and member URLs', () => {
    assert.equal(body('{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}').text, '{"etcdserver":"<version>","etcdcluster":"<version>"}')
    assert.equal(body('{"peerURLs":["http://127.0.0.1:4002"],"clientURLs":["http://127.0.0.1:4001"]}').text, '{"peerURLs":["<peer-url>"],"clientURLs":["<client-url>"]}')
  })
  test('a URL that only starts like the member URL is kept', () => {
    assert.equal(body('http://127.0.0.1:40011').text, 'http://127.0.0.1:40011')
  })
  test('expiration and ttl are kept aside for tolerant comparison', () => {
    const out = body('{"key":"/t","value":"v","expiration":"2030-01-01T00:00:05.25Z","ttl":5,"modifiedIndex":1,"createdIndex":1}')
    assert.equal(out.text, '{"key":"/t","value":"v","expiration":"<expiration>","ttl":"<ttl>","modifiedIndex":4,"createdIndex":4}')
    assert.deepEqual(out.expirationsMs, [5250])
    assert.deepEqual(out.ttls, [5])
  })
})

describe('helpers', () => {
  test('shiftDecimal handles 64-bit values', () => {
    assert.equal(shiftDecimal('18446744073709551615', 5), '18446744073709551610')
    assert.equal(shiftDecimal('1', -3), '4')
    assert.equal(shiftDecimal('abc', 1), 'abc')
  })
  test('parseRfc3339Ms reads nanosecond times', () => {
    assert.equal(parseRfc3339Ms('2030-01-01T00:00:00.123456789Z'), Date.parse('2030-01-01T00:00:00.123Z'))
    assert.equal(parseRfc3339Ms('2030-01-01T00:00:00Z'), Date.parse('2030-01-01T00:00:00.000Z'))
  })
  test('isParseError recognises codes 200-299 only', () => {
    assert.equal(isParseError('{"errorCode":203,"message":"m","index":0}\n'), true)
    assert.equal(isParseError('{"errorCode":100,"message":"m","index":0}\n'), false)
  })
  test('sortListing sorts nodes by key at every depth and keeps the newline', () => {
    const raw = '{"action":"get","node":{"key":"/l","dir":true,"nodes":[{"key":"/l/b","dir":true,"nodes":[{"key":"/l/b/z"},{"key":"/l/b/y"}]},{"key":"/l/a"}]}}\n'
    assert.equal(sortListing(raw), '{"action":"get","node":{"key":"/l","dir":true,"nodes":[{"key":"/l/a"},{"key":"/l/b","dir":true,"nodes":[{"key":"/l/b/y"},{"key":"/l/b/z"}]}]}}\n')
  })
  test('headers: parse-error X-Etcd-Index stays 0, raft headers are presence only', () => {
    const outcome = {
      kind: 'response' as const,
      status: 400,
      framing: 'length' as const,
      headers: { 'x-etcd-index': '0', 'x-etcd-cluster-id': 'cdf818194e3a8c32', 'content-type': 'application/json' },
      body: '{"errorCode":209,"message":"Invalid field","cause":"c","index":0}\n',
    }
    assert.equal(normalizeOutcome(outcome, base).text, '400\ncontent-type: application/json\nx-etcd-cluster-id: <id>\nx-etcd-index: 0')
    const ok = { ...outcome, status: 200, headers: { 'x-etcd-index': '7', 'x-raft-index': '12', 'x-raft-term': '2' }, body: '' }
    assert.equal(normalizeOutcome(ok, base).text, '200\nx-etcd-index: 10\nx-raft-index: <present>\nx-raft-term: <present>')
  })
})
