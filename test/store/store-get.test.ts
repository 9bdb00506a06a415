/**
 * Goal: reads answer etcd 3.4's bytes: the root, files, listings (hidden children left out
 * at every depth, byte-wise UTF-8 order), TTLs at read time, and 100/104 causes
 * (spec v2-api.md §3.2 get, §4.2-§4.5, §7.3).
 * Method: table of (seed writes at T0, read key/options/time, expected outcome).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { StoreRequest } from '../../src/store/index.js'
import { T0, failed, outcome, req, storeWith, type Outcome } from './store-fixture.js'

interface Case {
  readonly name: string
  readonly seed?: readonly StoreRequest[]
  readonly key: string
  readonly recursive?: boolean
  readonly nowMs?: number
  readonly want: Outcome
}

function ok(node: string, index: number): Outcome {
  return { json: `{"action":"get","node":${node}}\n`, index, created: false }
}

const tree: StoreRequest[] = [
  req.set('/t/a', '1'), // 1: creates /t
  req.set('/t/_h', 'hidden'), // 2
  req.set('/t/sub/x', '2'), // 3: creates /t/sub
  req.set('/t/sub/_y', '3'), // 4
  req.set('/t/_hd/z', '4'), // 5: creates /t/_hd
  req.dir('/t/empty'), // 6
  req.set('/t/onlyhidden/_q', '5'), // 7
]

const cases: Case[] = [
  { name: 'the empty root is a dir without key or indexes (Q1)', key: '/', want: ok('{"dir":true}', 0) },
  {
    name: 'the root lists its children without nodes of their own',
    seed: [req.dir('/a'), req.set('/sp/x', '1')],
    key: '/',
    want: ok('{"dir":true,"nodes":[{"key":"/a","dir":true,"modifiedIndex":1,"createdIndex":1},{"key":"/sp","dir":true,"modifiedIndex":2,"createdIndex":2}]}', 2),
  },
  {
    name: 'a file shows its value and indexes; the index is the current one',
    seed: [req.set('/f', 'v'), req.set('/g', 'w')],
    key: '/f',
    want: ok('{"key":"/f","value":"v","modifiedIndex":1,"createdIndex":1}', 2),
  },
  {
    name: 'recursive on a file changes nothing',
    seed: [req.set('/f', 'v')],
    key: '/f',
    recursive: true,
    want: ok('{"key":"/f","value":"v","modifiedIndex":1,"createdIndex":1}', 1),
  },
  {
    name: 'ttl is the ceiling of the seconds left at read time',
    seed: [req.set('/t', 'v', { ttlSeconds: 5 })],
    key: '/t',
    nowMs: T0 + 1_500,
    want: ok('{"key":"/t","value":"v","expiration":"2026-11-20T23:41:05Z","ttl":4,"modifiedIndex":1,"createdIndex":1}', 1),
  },
  {
    name: 'an expired key not yet swept shows no ttl at exactly its expiry',
    seed: [req.set('/t', 'v', { ttlSeconds: 5 })],
    key: '/t',
    nowMs: T0 + 5_000,
    want: ok('{"key":"/t","value":"v","expiration":"2026-11-20T23:41:05Z","modifiedIndex":1,"createdIndex":1}', 1),
  },
  {
    name: 'an expired key not yet swept shows a negative ttl (Q14)',
    seed: [req.set('/t', 'v', { ttlSeconds: 5 })],
    key: '/t',
    nowMs: T0 + 8_500,
    want: ok('{"key":"/t","value":"v","expiration":"2026-11-20T23:41:05Z","ttl":-3,"modifiedIndex":1,"createdIndex":1}', 1),
  },
  {
    name: 'a listing leaves hidden children out and lists child dirs without their nodes',
    seed: tree,
    key: '/t',
    want: ok(
      '{"key":"/t","dir":true,"nodes":[{"key":"/t/a","value":"1","modifiedIndex":1,"createdIndex":1},{"key":"/t/empty","dir":true,"modifiedIndex":6,"createdIndex":6},{"key":"/t/onlyhidden","dir":true,"modifiedIndex":7,"createdIndex":7},{"key":"/t/sub","dir":true,"modifiedIndex":3,"createdIndex":3}],"modifiedIndex":1,"createdIndex":1}',
      7,
    ),
  },
  {
    name: 'a recursive listing nests the visible subtree; hidden nodes and hidden dirs are left out at every depth',
    seed: tree,
    key: '/t',
    recursive: true,
    want: ok(
      '{"key":"/t","dir":true,"nodes":[{"key":"/t/a","value":"1","modifiedIndex":1,"createdIndex":1},{"key":"/t/empty","dir":true,"modifiedIndex":6,"createdIndex":6},{"key":"/t/onlyhidden","dir":true,"modifiedIndex":7,"createdIndex":7},{"key":"/t/sub","dir":true,"nodes":[{"key":"/t/sub/x","value":"2","modifiedIndex":3,"createdIndex":3}],"modifiedIndex":3,"createdIndex":3}],"modifiedIndex":1,"createdIndex":1}',
      7,
    ),
  },
  {
    name: 'a hidden node read directly is returned and lists its visible children',
    seed: tree,
    key: '/t/_hd',
    recursive: true,
    want: ok('{"key":"/t/_hd","dir":true,"nodes":[{"key":"/t/_hd/z","value":"4","modifiedIndex":5,"createdIndex":5}],"modifiedIndex":5,"createdIndex":5}', 7),
  },
  {
    name: 'a hidden file read directly is returned',
    seed: tree,
    key: '/t/_h',
    want: ok('{"key":"/t/_h","value":"hidden","modifiedIndex":2,"createdIndex":2}', 7),
  },
  {
    name: 'children come in UTF-8 byte order, not UTF-16 order',
    seed: [req.set('/s/\u{1F600}', ''), req.set('/s/\uFFFD', ''), req.set('/s/ü', ''), req.set('/s/z', ''), req.set('/s/a?b', ''), req.set('/s/a', '')],
    key: '/s',
    want: ok(
      '{"key":"/s","dir":true,"nodes":[{"key":"/s/a","value":"","modifiedIndex":6,"createdIndex":6},{"key":"/s/a?b","value":"","modifiedIndex":5,"createdIndex":5},{"key":"/s/z","value":"","modifiedIndex":4,"createdIndex":4},{"key":"/s/ü","value":"","modifiedIndex":3,"createdIndex":3},{"key":"/s/\\ufffd","value":"","modifiedIndex":2,"createdIndex":2},{"key":"/s/\u{1F600}","value":"","modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}',
      6,
    ),
  },
  {
    name: 'a nested recursive listing is sorted at every depth, with siblings that sort between parent and child',
    seed: [req.set('/n/b/z', '1'), req.set('/n/b!', '2'), req.set('/n/b/a', '3'), req.set('/n/a', '4')],
    key: '/n',
    recursive: true,
    want: ok(
      '{"key":"/n","dir":true,"nodes":[{"key":"/n/a","value":"4","modifiedIndex":4,"createdIndex":4},{"key":"/n/b","dir":true,"nodes":[{"key":"/n/b/a","value":"3","modifiedIndex":3,"createdIndex":3},{"key":"/n/b/z","value":"1","modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1},{"key":"/n/b!","value":"2","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":1,"createdIndex":1}',
      4,
    ),
  },
  {
    name: 'children with TTLs show them at read time',
    seed: [req.set('/d/x', 'v', { ttlSeconds: 10 })],
    key: '/d',
    nowMs: T0 + 2_000,
    want: ok('{"key":"/d","dir":true,"nodes":[{"key":"/d/x","value":"v","expiration":"2026-11-20T23:41:10Z","ttl":8,"modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}', 1),
  },
  { name: 'a missing key is 100 naming the first missing component (Q17)', seed: [req.set('/x', '')], key: '/nope/deeper/x', want: failed(100, '/nope', 1) },
  { name: 'a path through a file is 104 naming the file', seed: [req.set('/k2', 'v')], key: '/k2/child/grand', want: failed(104, '/k2', 1) },
]

for (const c of cases) {
  test(c.name, () => {
    const store = storeWith(c.seed ?? [])
    const read = (sorted: boolean): Outcome =>
      outcome(() => store.get(c.key, { recursive: c.recursive ?? false, sorted }, c.nowMs ?? T0))
    assert.deepEqual(read(true), c.want)
    assert.deepEqual(read(false), c.want, 'unsorted listings are sorted too (Q3)')
  })
}

test('a directory keeps its modifiedIndex when its children change', () => {
  const store = storeWith([req.dir('/d'), req.set('/d/a', '1'), req.del('/d/a')])
  assert.equal(store.get('/d', { recursive: false, sorted: false }, T0).json, '{"action":"get","node":{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}}\n')
})

test('a read consumes no index', () => {
  const store = storeWith([req.set('/a', '1')])
  store.get('/a', { recursive: false, sorted: false }, T0)
  outcome(() => store.get('/b', { recursive: false, sorted: false }, T0))
  assert.equal(store.currentIndex, 1)
})
