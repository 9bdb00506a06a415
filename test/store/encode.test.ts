/**
 * Goal: node and event JSON match etcd 3.4 byte for byte: field order, omission rules,
 * Go escaping, the ttl ceiling rule and RFC 3339 expirations (spec v2-api.md §1.4, §4).
 * Method: tables over the pure encoders, with the bodies captured from etcd in spec §4.2.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  encodeActionOnly,
  encodeEvent,
  encodeNode,
  ttlSecondsAt,
  type NodeView,
} from '../../src/store/index.js'
import { goRfc3339Nano as formatExpiration } from '../../src/lib/index.js'

/** A node view with etcd's empty defaults, overridden by `more`. */
function view(more: Partial<NodeView>): NodeView {
  return { key: undefined, value: undefined, dir: false, expiresAtMs: null, nodes: undefined, modifiedIndex: 0, createdIndex: 0, ...more }
}

const NOW = Date.UTC(2026, 10, 20, 23, 37, 36, 739)

describe('ttlSecondsAt: whole seconds, plus one for a positive fraction', () => {
  const cases: Array<[leftMs: number, ttl: number]> = [
    [5_000, 5],
    [4_001, 5],
    [4_000, 4],
    [1, 1],
    [0, 0],
    [-1, 0],
    [-999, 0],
    [-1_000, -1],
    [-2_500, -2],
    [-3_000, -3],
  ]
  for (const [leftMs, ttl] of cases) {
    test(`${leftMs} ms left shows ttl ${ttl}`, () => assert.equal(ttlSecondsAt(NOW + leftMs, NOW), ttl))
  }
})

describe('formatExpiration: RFC 3339 UTC, trailing zeros of the fraction dropped', () => {
  const cases: Array<[ms: number, text: string]> = [
    [Date.UTC(2026, 10, 20, 23, 41, 6, 900), '2026-11-20T23:41:06.9Z'],
    [Date.UTC(2026, 10, 20, 23, 41, 6, 0), '2026-11-20T23:41:06Z'],
    [Date.UTC(2026, 10, 20, 23, 41, 6, 50), '2026-11-20T23:41:06.05Z'],
    [Date.UTC(2026, 10, 20, 23, 41, 6, 739), '2026-11-20T23:41:06.739Z'],
    [0, '1970-01-01T00:00:00Z'],
  ]
  for (const [ms, text] of cases) test(text, () => assert.equal(formatExpiration(ms), text))
})

describe('encodeEvent reproduces the bodies captured from etcd', () => {
  const file = (key: string, value: string | undefined, mi: number, ci: number, more: Partial<NodeView> = {}): NodeView =>
    view({ key, value, modifiedIndex: mi, createdIndex: ci, ...more })
  const cases: Array<{ name: string; body: string; got: string }> = [
    {
      name: 'set of a new key',
      body: '{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":4,"createdIndex":4}}\n',
      got: encodeEvent('set', file('/message', 'Hello world', 4, 4), undefined, NOW),
    },
    {
      name: 'delete with prevNode',
      body: '{"action":"delete","node":{"key":"/message","modifiedIndex":6,"createdIndex":5},"prevNode":{"key":"/message","value":"Hello etcd","modifiedIndex":5,"createdIndex":5}}\n',
      got: encodeEvent('delete', file('/message', undefined, 6, 5), file('/message', 'Hello etcd', 5, 5), NOW),
    },
    {
      name: 'delete of a directory',
      body: '{"action":"delete","node":{"key":"/de","dir":true,"modifiedIndex":71,"createdIndex":69},"prevNode":{"key":"/de","dir":true,"modifiedIndex":69,"createdIndex":69}}\n',
      got: encodeEvent('delete', file('/de', undefined, 71, 69, { dir: true }), file('/de', undefined, 69, 69, { dir: true }), NOW),
    },
    {
      name: 'set with a ttl (7 s, 0.261 s before the fraction runs out)',
      body: '{"action":"set","node":{"key":"/ttlp","value":"z","expiration":"2026-11-20T23:37:43.739Z","ttl":7,"modifiedIndex":33,"createdIndex":33},"prevNode":{"key":"/ttlp","value":"z","modifiedIndex":30,"createdIndex":30}}\n',
      got: encodeEvent('set', file('/ttlp', 'z', 33, 33, { expiresAtMs: NOW + 7_000 }), file('/ttlp', 'z', 30, 30), NOW),
    },
    {
      name: 'expire of a key: prevNode keeps expiration, ttl 0 is left out',
      body: '{"action":"expire","node":{"key":"/ex","modifiedIndex":125,"createdIndex":124},"prevNode":{"key":"/ex","value":"v","expiration":"2026-11-20T23:37:36.5Z","modifiedIndex":124,"createdIndex":124}}\n',
      got: encodeEvent('expire', file('/ex', undefined, 125, 124), file('/ex', 'v', 124, 124, { expiresAtMs: NOW - 239 }), NOW),
    },
    {
      name: 'the root listing',
      body: '{"action":"get","node":{"dir":true,"nodes":[{"key":"/a","dir":true,"modifiedIndex":7,"createdIndex":7},{"key":"/sp","dir":true,"modifiedIndex":8,"createdIndex":8}]}}\n',
      got: encodeEvent('get', view({ dir: true, nodes: [file('/a', undefined, 7, 7, { dir: true }), file('/sp', undefined, 8, 8, { dir: true })] }), undefined, NOW),
    },
    { name: 'the empty root', body: '{"action":"get","node":{"dir":true}}\n', got: encodeEvent('get', view({ dir: true, nodes: [] }), undefined, NOW) },
    { name: 'noValueOnSuccess', body: '{"action":"create"}\n', got: encodeActionOnly('create') },
  ]
  for (const c of cases) test(c.name, () => assert.equal(c.got, c.body))
})

describe('encodeNode', () => {
  test('escapes keys and values as Go does', () => {
    assert.equal(encodeNode(view({ key: '/a<b>&', value: 'x\u2028\b\u0000"\\/', modifiedIndex: 1, createdIndex: 1 }), NOW), '{"key":"/a\\u003cb\\u003e\\u0026","value":"x\\u2028\\u0008\\u0000\\"\\\\/","modifiedIndex":1,"createdIndex":1}')
  })
  test('nests nodes with the indexes after the children', () => {
    const leaf = view({ key: '/a/b/c', value: '', modifiedIndex: 3, createdIndex: 3 })
    const mid = view({ key: '/a/b', dir: true, nodes: [leaf, leaf], modifiedIndex: 2, createdIndex: 2 })
    const top = view({ key: '/a', dir: true, nodes: [mid], expiresAtMs: NOW + 1_000, modifiedIndex: 1, createdIndex: 1 })
    assert.equal(
      encodeNode(top, NOW),
      '{"key":"/a","dir":true,"expiration":"2026-11-20T23:37:37.739Z","ttl":1,"nodes":[{"key":"/a/b","dir":true,"nodes":[{"key":"/a/b/c","value":"","modifiedIndex":3,"createdIndex":3},{"key":"/a/b/c","value":"","modifiedIndex":3,"createdIndex":3}],"modifiedIndex":2,"createdIndex":2}],"modifiedIndex":1,"createdIndex":1}',
    )
  })
  test('a deep tree needs no call stack', () => {
    let node = view({ key: '/k', value: 'v', modifiedIndex: 1, createdIndex: 1 })
    for (let i = 0; i < 20_000; i++) node = view({ key: '/d', dir: true, nodes: [node], modifiedIndex: 1, createdIndex: 1 })
    const json = encodeNode(node, NOW)
    assert.equal(json.split('"nodes":[').length - 1, 20_000)
    assert.ok(json.endsWith(']' + ',"modifiedIndex":1,"createdIndex":1}'))
  })
})
