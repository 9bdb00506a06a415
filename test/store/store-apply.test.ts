/**
 * Goal: every write of the dispatch table answers etcd 3.4's bytes or etcd's error, and a
 * failure changes nothing (spec v2-api.md §3.2, §4.2, §8, §9, §10).
 * Method: table of (seed writes, one write, expected outcome[, a read afterwards]) on a
 * store over the memory backend; all writes at T0 = 2026-11-20T23:41:00Z.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { StoreRequest } from '../../src/store/index.js'
import { T0, failed, outcome, req, storeWith, type Outcome } from './store-fixture.js'

interface Case {
  readonly name: string
  readonly seed?: readonly StoreRequest[]
  readonly write: StoreRequest
  readonly want: Outcome
  /** A read after the write: key and the expected body. */
  readonly then?: { readonly key: string; readonly recursive?: boolean; readonly json: string }
}

/** A success outcome: body (plus '\n'), index, and whether it answers 201. */
function ok(json: string, index: number, created = false): Outcome {
  return { json: `${json}\n`, index, created }
}

const setCases: Case[] = [
  {
    name: 'set of a new key answers 201 without prevNode',
    write: req.set('/message', 'Hello world'),
    want: ok('{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  {
    name: 'set over a file replaces it by a new node and shows the old one as prevNode',
    seed: [req.set('/message', 'Hello world')],
    write: req.set('/message', 'Hello etcd'),
    want: ok(
      '{"action":"set","node":{"key":"/message","value":"Hello etcd","modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/message","value":"Hello world","modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  {
    name: 'set of an empty value renders "value":""',
    write: req.set('/e', ''),
    want: ok('{"action":"set","node":{"key":"/e","value":"","modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  {
    name: 'set escapes key and value as Go does',
    write: req.set('/a<b>&', 'x\u2028\b'),
    want: ok('{"action":"set","node":{"key":"/a\\u003cb\\u003e\\u0026","value":"x\\u2028\\u0008","modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  {
    name: 'set dir=true creates a directory and drops the value',
    write: req.set('/d1', 'ignored', { dir: true }),
    want: ok('{"action":"set","node":{"key":"/d1","dir":true,"modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  {
    name: 'set dir=true over a file replaces it by an empty directory (Q6)',
    seed: [req.set('/f', 'v')],
    write: req.dir('/f'),
    want: ok(
      '{"action":"set","node":{"key":"/f","dir":true,"modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/f","value":"v","modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  {
    name: 'set over a directory is 102',
    seed: [req.dir('/d')],
    write: req.set('/d', 'x'),
    want: failed(102, '/d', 1),
  },
  {
    name: 'set dir=true over a directory is 102 too',
    seed: [req.dir('/d')],
    write: req.dir('/d'),
    want: failed(102, '/d', 1),
  },
  {
    name: 'set below a file is 104 naming the file',
    seed: [req.set('/k', 'v')],
    write: req.set('/k/a/b', 'x'),
    want: failed(104, '/k', 1),
  },
  { name: 'set on the root is 107', write: req.set('/', 'x'), want: failed(107, '/', 0) },
  {
    name: 'set creates missing parents as permanent directories with the write index',
    seed: [req.set('/other', '1')],
    write: req.set('/a/b/c', 'x'),
    want: ok('{"action":"set","node":{"key":"/a/b/c","value":"x","modifiedIndex":2,"createdIndex":2}}', 2, true),
    then: {
      key: '/a',
      recursive: true,
      json: '{"action":"get","node":{"key":"/a","dir":true,"nodes":[{"key":"/a/b","dir":true,"nodes":[{"key":"/a/b/c","value":"x","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2}}\n',
    },
  },
  {
    name: 'set with a ttl shows expiration and ttl, and without one makes the key permanent',
    seed: [req.set('/ttlp', 'z', { ttlSeconds: 60 })],
    write: req.set('/ttlp', 'z', { ttlSeconds: 7 }),
    want: ok(
      '{"action":"set","node":{"key":"/ttlp","value":"z","expiration":"2026-11-20T23:41:07Z","ttl":7,"modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/ttlp","value":"z","expiration":"2026-11-20T23:42:00Z","ttl":60,"modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  {
    name: 'set with ttl 0 shows the expiration and no ttl (Q12)',
    write: req.set('/z', 'v', { ttlSeconds: 0 }),
    want: ok('{"action":"set","node":{"key":"/z","value":"v","expiration":"2026-11-20T23:41:00Z","modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  {
    name: 'refresh of a missing key is 100 naming the first missing component',
    write: req.set('/a/b', '', { refresh: true, ttlSeconds: 5 }),
    want: failed(100, '/a', 0),
  },
  {
    name: 'refresh keeps the value, takes the new ttl and recreates the node (Q9)',
    seed: [req.set('/r', 'v', { ttlSeconds: 5 })],
    write: req.set('/r', '', { refresh: true, ttlSeconds: 9 }),
    want: ok(
      '{"action":"set","node":{"key":"/r","value":"v","expiration":"2026-11-20T23:41:09Z","ttl":9,"modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/r","value":"v","expiration":"2026-11-20T23:41:05Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  {
    name: 'refresh of a directory without prevExist is 102',
    seed: [req.dir('/d')],
    write: req.set('/d', '', { refresh: true, ttlSeconds: 5 }),
    want: failed(102, '/d', 1),
  },
  {
    name: 'refresh below a file is 104 before anything else',
    seed: [req.set('/k', 'v')],
    write: req.set('/k/x', '', { refresh: true, ttlSeconds: 5 }),
    want: failed(104, '/k', 1),
  },
]

const createCases: Case[] = [
  {
    name: 'create of a new key answers 201 create',
    write: req.create('/casnew', '1'),
    want: ok('{"action":"create","node":{"key":"/casnew","value":"1","modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  { name: 'create of an existing file is 105', seed: [req.set('/cas', 'x')], write: req.create('/cas', '1'), want: failed(105, '/cas', 1) },
  { name: 'create of an existing directory is 105', seed: [req.dir('/d')], write: req.create('/d', '', { dir: true }), want: failed(105, '/d', 1) },
  { name: 'create on the root is 107', write: req.create('/', 'x'), want: failed(107, '/', 0) },
  { name: 'create below a file is 104', seed: [req.set('/k', 'v')], write: req.create('/k/x', '1'), want: failed(104, '/k', 1) },
  {
    name: 'create dir=true makes a directory without value, with a ttl',
    write: req.create('/cd', 'dropped', { dir: true, ttlSeconds: 30 }),
    want: ok('{"action":"create","node":{"key":"/cd","dir":true,"expiration":"2026-11-20T23:41:30Z","ttl":30,"modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  {
    name: 'POST names the key after the new index, zero-padded to 20 digits',
    seed: [req.dir('/queue')],
    write: req.post('/queue', 'Job1'),
    want: ok('{"action":"create","node":{"key":"/queue/00000000000000000002","value":"Job1","modifiedIndex":2,"createdIndex":2}}', 2, true),
  },
  {
    name: 'POST creates the missing directory',
    write: req.post('/q/sub', 'j'),
    want: ok('{"action":"create","node":{"key":"/q/sub/00000000000000000001","value":"j","modifiedIndex":1,"createdIndex":1}}', 1, true),
    then: { key: '/q/sub', json: '{"action":"get","node":{"key":"/q/sub","dir":true,"nodes":[{"key":"/q/sub/00000000000000000001","value":"j","modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}}\n' },
  },
  {
    name: 'POST into the root creates a child of the root',
    write: req.post('/', ''),
    want: ok('{"action":"create","node":{"key":"/00000000000000000001","value":"","modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  { name: 'POST into a file is 104 naming the file', seed: [req.set('/k', 'v')], write: req.post('/k', 'x'), want: failed(104, '/k', 1) },
  {
    name: 'POST dir=true creates an in-order directory',
    write: req.post('/q', '', { dir: true }),
    want: ok('{"action":"create","node":{"key":"/q/00000000000000000001","dir":true,"modifiedIndex":1,"createdIndex":1}}', 1, true),
  },
  {
    name: 'POST onto a name taken by an earlier PUT is 105',
    seed: [req.set('/q/00000000000000000002', 'x')],
    write: req.post('/q', 'y'),
    want: failed(105, '/q/00000000000000000002', 1),
  },
]

const updateCases: Case[] = [
  {
    name: 'update replaces the value and keeps createdIndex',
    seed: [req.set('/qb', 'fromquery')],
    write: req.update('/qb', 'x'),
    want: ok(
      '{"action":"update","node":{"key":"/qb","value":"x","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/qb","value":"fromquery","modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  { name: 'update of a missing key is 100', write: req.update('/nope/x', 'v'), want: failed(100, '/nope', 0) },
  { name: 'update of the root is 107', write: req.update('/', ''), want: failed(107, '/', 0) },
  { name: 'update below a file is 104', seed: [req.set('/k', 'v')], write: req.update('/k/x', 'v'), want: failed(104, '/k', 1) },
  { name: 'update of a directory with a value is 102', seed: [req.dir('/d')], write: req.update('/d', 'v'), want: failed(102, '/d', 1) },
  {
    name: 'update of a directory changes only its TTL; the stored modifiedIndex stays (Q16)',
    seed: [req.dir('/d')],
    write: req.update('/d', '', { ttlSeconds: 30 }),
    want: ok(
      '{"action":"update","node":{"key":"/d","dir":true,"expiration":"2026-11-20T23:41:30Z","ttl":30,"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
    then: { key: '/d', json: '{"action":"get","node":{"key":"/d","dir":true,"expiration":"2026-11-20T23:41:30Z","ttl":30,"modifiedIndex":1,"createdIndex":1}}\n' },
  },
  {
    name: 'update with a ttl and no value empties the value (Q11)',
    seed: [req.set('/u', 'v')],
    write: req.update('/u', '', { ttlSeconds: 50 }),
    want: ok(
      '{"action":"update","node":{"key":"/u","value":"","expiration":"2026-11-20T23:41:50Z","ttl":50,"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/u","value":"v","modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  {
    name: 'update without a ttl makes the key permanent',
    seed: [req.set('/u', 'v', { ttlSeconds: 50 })],
    write: req.update('/u', 'w'),
    want: ok(
      '{"action":"update","node":{"key":"/u","value":"w","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/u","value":"v","expiration":"2026-11-20T23:41:50Z","ttl":50,"modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  {
    name: 'update with refresh keeps the value and takes the new ttl',
    seed: [req.set('/u', 'v', { ttlSeconds: 5 })],
    write: req.update('/u', '', { refresh: true, ttlSeconds: 8 }),
    want: ok(
      '{"action":"update","node":{"key":"/u","value":"v","expiration":"2026-11-20T23:41:08Z","ttl":8,"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/u","value":"v","expiration":"2026-11-20T23:41:05Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
]

const casCases: Case[] = [
  {
    name: 'compareAndSwap on a matching value swaps and keeps createdIndex',
    seed: [req.set('/cas', 'three')],
    write: req.cas('/cas', 'four', { prevValue: 'three' }),
    want: ok(
      '{"action":"compareAndSwap","node":{"key":"/cas","value":"four","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/cas","value":"three","modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  { name: 'compareAndSwap on a matching index swaps', seed: [req.set('/c', 'a')], write: req.cas('/c', 'b', { prevIndex: '1' }), want: ok('{"action":"compareAndSwap","node":{"key":"/c","value":"b","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/c","value":"a","modifiedIndex":1,"createdIndex":1}}', 2) },
  { name: 'a failing value gives [prevValue != value]', seed: [req.set('/c', 'one')], write: req.cas('/c', 'x', { prevValue: 'two' }), want: failed(101, '[two != one]', 1) },
  { name: 'a failing index gives [prevIndex != modifiedIndex]', seed: [req.set('/c', 'one')], write: req.cas('/c', 'x', { prevIndex: '5' }), want: failed(101, '[5 != 1]', 1) },
  { name: 'both failing give both parts', seed: [req.set('/c', 'one')], write: req.cas('/c', 'x', { prevValue: 'two', prevIndex: '7' }), want: failed(101, '[two != one] [7 != 1]', 1) },
  { name: 'a matching value with a failing index shows only the index', seed: [req.set('/c', 'one')], write: req.cas('/c', 'x', { prevValue: 'one', prevIndex: '7' }), want: failed(101, '[7 != 1]', 1) },
  { name: 'a matching index with a failing value shows only the value', seed: [req.set('/c', 'one')], write: req.cas('/c', 'x', { prevValue: 'two', prevIndex: '1' }), want: failed(101, '[two != one]', 1) },
  { name: 'prevIndex is echoed as parsed (007 is 7)', seed: [req.set('/c', 'one')], write: req.cas('/c', 'x', { prevIndex: '007' }), want: failed(101, '[7 != 1]', 1) },
  {
    name: 'prevIndex 2^64-1 survives intact in the cause',
    seed: [req.set('/c', 'one')],
    write: req.cas('/c', 'x', { prevIndex: '18446744073709551615' }),
    want: failed(101, '[18446744073709551615 != 1]', 1),
  },
  { name: 'compareAndSwap on a directory is 102', seed: [req.dir('/d')], write: req.cas('/d', 'x', { prevValue: 'a' }), want: failed(102, '/d', 1) },
  { name: 'compareAndSwap on a missing key is 100', write: req.cas('/m', 'x', { prevValue: 'a' }), want: failed(100, '/m', 0) },
  { name: 'compareAndSwap on the root is 107', write: req.cas('/', 'x', { prevValue: 'a' }), want: failed(107, '/', 0) },
  { name: 'compareAndSwap below a file is 104', seed: [req.set('/k', 'v')], write: req.cas('/k/x', 'x', { prevValue: 'a' }), want: failed(104, '/k', 1) },
  {
    name: 'compareAndSwap with refresh keeps the value',
    seed: [req.set('/c', 'one', { ttlSeconds: 5 })],
    write: req.cas('/c', '', { prevValue: 'one', refresh: true, ttlSeconds: 6 }),
    want: ok(
      '{"action":"compareAndSwap","node":{"key":"/c","value":"one","expiration":"2026-11-20T23:41:06Z","ttl":6,"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/c","value":"one","expiration":"2026-11-20T23:41:05Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
]

const deleteCases: Case[] = [
  {
    name: 'delete of a file answers the node without value and the old node',
    seed: [req.set('/message', 'Hello etcd')],
    write: req.del('/message'),
    want: ok(
      '{"action":"delete","node":{"key":"/message","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/message","value":"Hello etcd","modifiedIndex":1,"createdIndex":1}}',
      2,
    ),
  },
  {
    name: 'delete of a file ignores dir=true',
    seed: [req.set('/f', '')],
    write: req.del('/f', { dir: true }),
    want: ok('{"action":"delete","node":{"key":"/f","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/f","value":"","modifiedIndex":1,"createdIndex":1}}', 2),
  },
  { name: 'delete of a directory without dir is 102', seed: [req.dir('/de')], write: req.del('/de'), want: failed(102, '/de', 1) },
  {
    name: 'delete dir=true of an empty directory',
    seed: [req.dir('/de')],
    write: req.del('/de', { dir: true }),
    want: ok('{"action":"delete","node":{"key":"/de","dir":true,"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/de","dir":true,"modifiedIndex":1,"createdIndex":1}}', 2),
  },
  { name: 'delete dir=true of a non-empty directory is 108', seed: [req.set('/dd/a', '1')], write: req.del('/dd', { dir: true }), want: failed(108, '/dd', 1) },
  { name: 'a hidden child makes a directory non-empty', seed: [req.set('/dd/_h', '1')], write: req.del('/dd', { dir: true }), want: failed(108, '/dd', 1) },
  {
    name: 'recursive delete removes the subtree in one event',
    seed: [req.set('/r/a/b', '1', { ttlSeconds: 9 }), req.set('/r/c', '2'), req.set('/rx', '3')],
    write: req.del('/r', { recursive: true }),
    want: ok('{"action":"delete","node":{"key":"/r","dir":true,"modifiedIndex":4,"createdIndex":1},"prevNode":{"key":"/r","dir":true,"modifiedIndex":1,"createdIndex":1}}', 4),
    then: { key: '/', recursive: true, json: '{"action":"get","node":{"dir":true,"nodes":[{"key":"/rx","value":"3","modifiedIndex":3,"createdIndex":3}]}}\n' },
  },
  {
    name: 'a delete prevNode shows the TTL as of the write time',
    seed: [req.set('/t', 'v', { ttlSeconds: 30 })],
    write: req.del('/t'),
    want: ok('{"action":"delete","node":{"key":"/t","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/t","value":"v","expiration":"2026-11-20T23:41:30Z","ttl":30,"modifiedIndex":1,"createdIndex":1}}', 2),
  },
  { name: 'delete of the root is 107', write: req.del('/', { recursive: true }), want: failed(107, '/', 0) },
  { name: 'delete of a missing key is 100', write: req.del('/m'), want: failed(100, '/m', 0) },
  { name: 'delete below a file is 104', seed: [req.set('/k', 'v')], write: req.del('/k/x'), want: failed(104, '/k', 1) },
]

const cadCases: Case[] = [
  {
    name: 'compareAndDelete on a matching index removes the file',
    seed: [req.set('/cad', 'one')],
    write: req.cad('/cad', { prevIndex: '1' }),
    want: ok('{"action":"compareAndDelete","node":{"key":"/cad","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/cad","value":"one","modifiedIndex":1,"createdIndex":1}}', 2),
  },
  { name: 'compareAndDelete on a matching value', seed: [req.set('/cad', 'one')], write: req.cad('/cad', { prevValue: 'one' }), want: ok('{"action":"compareAndDelete","node":{"key":"/cad","modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/cad","value":"one","modifiedIndex":1,"createdIndex":1}}', 2) },
  { name: 'compareAndDelete on the root is 102 without cause (Q2)', seed: [req.set('/a', '')], write: req.cad('/', { prevValue: 'x' }), want: failed(102, '', 1) },
  { name: 'compareAndDelete on a directory is 102', seed: [req.dir('/d')], write: req.cad('/d', { prevIndex: '1' }), want: failed(102, '/d', 1) },
  { name: 'compareAndDelete with a failing condition is 101', seed: [req.set('/c', 'one')], write: req.cad('/c', { prevValue: 'two', prevIndex: '3' }), want: failed(101, '[two != one] [3 != 1]', 1) },
  { name: 'compareAndDelete on a missing key is 100', write: req.cad('/m', { prevValue: 'a' }), want: failed(100, '/m', 0) },
  { name: 'compareAndDelete below a file is 104', seed: [req.set('/k', 'v')], write: req.cad('/k/x', { prevValue: 'a' }), want: failed(104, '/k', 1) },
]

const tables: Array<[string, Case[]]> = [
  ['set', setCases],
  ['create and POST', createCases],
  ['update', updateCases],
  ['compareAndSwap', casCases],
  ['delete', deleteCases],
  ['compareAndDelete', cadCases],
]

for (const [title, cases] of tables) {
  describe(title, () => {
    for (const c of cases) {
      test(c.name, () => {
        const store = storeWith(c.seed ?? [])
        const before = store.get('/', { recursive: true, sorted: true }, T0).json
        const indexBefore = store.currentIndex
        assert.deepEqual(outcome(() => store.apply(c.write, T0)), c.want)
        if ('errorCode' in c.want) {
          assert.equal(store.currentIndex, indexBefore, 'a failure consumes no index')
          assert.equal(store.get('/', { recursive: true, sorted: true }, T0).json, before, 'a failure changes nothing')
        } else {
          assert.equal(store.currentIndex, indexBefore + 1, 'a success consumes one index')
        }
        if (c.then !== undefined) {
          const read = store.get(c.then.key, { recursive: c.then.recursive ?? false, sorted: true }, T0)
          assert.equal(read.json, c.then.json)
        }
      })
    }
  })
}

test('the answer of a write is the event kept in history', () => {
  const store = storeWith([req.set('/a', '1')])
  const event = store.apply(req.update('/a', '2', { ttlSeconds: 3 }), T0 + 500)
  const start = store.watch('/a', { recursive: false, stream: false, sinceIndex: 2 }, () => true)
  assert.equal(start.fromHistory[0]?.json, event.json)
  assert.equal(event.action, 'update')
  assert.match(event.json, /"expiration":"2026-11-20T23:41:03.5Z","ttl":3,/)
})
