/**
 * The shared contract suite of `StoreBackend` (src/store/types.ts): every implementation
 * runs it — `MemoryStoreBackend` here (memory-backend.test.ts), the SQLite backend from the
 * storage tests — so the store sees the same behaviour from both (STYLE.md §8).
 * Usage: `runStoreBackendContract('sqlite', () => openTestBackend())`.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { HistoryRecord, NodeRecord, StoreBackend } from '../../src/store/index.js'

/** A node record; directories hold ''. */
function node(key: string, more: Partial<NodeRecord> = {}): NodeRecord {
  return { key, dir: false, value: `v${key}`, createdIndex: 1, modifiedIndex: 1, expiresAtMs: null, ...more }
}

function dir(key: string, more: Partial<NodeRecord> = {}): NodeRecord {
  return node(key, { dir: true, value: '', ...more })
}

function event(index: number): HistoryRecord {
  return { index, action: 'set', key: `/e${index}`, dir: false, refresh: index % 2 === 0, json: `{"i":${index}}\n` }
}

const keys = (nodes: readonly NodeRecord[]): string[] => nodes.map((n) => n.key)

/** A tree whose names sort differently in UTF-8 and UTF-16, with string-prefix siblings. */
function seedTree(backend: StoreBackend): void {
  for (const n of [
    dir('/a'),
    node('/a/\u{1F600}'),
    node('/a/\uFFFD'),
    dir('/a/b'),
    node('/a/b/c'),
    node('/a/b!'),
    node('/a/_h'),
    node('/ab'),
    dir('/z'),
  ]) {
    backend.putNode(n)
  }
}

/** Runs the contract against fresh backends from `make`. */
export function runStoreBackendContract(name: string, make: () => StoreBackend): void {
  describe(`StoreBackend contract: ${name}`, () => {
    test('getNode answers what putNode stored, and undefined for a missing key', () => {
      const backend = make()
      assert.equal(backend.getNode('/a'), undefined)
      backend.putNode(node('/a', { value: '', createdIndex: 3, modifiedIndex: 4, expiresAtMs: 1_000 }))
      assert.deepEqual(backend.getNode('/a'), node('/a', { value: '', createdIndex: 3, modifiedIndex: 4, expiresAtMs: 1_000 }))
      backend.putNode(node('/a', { value: 'x\u0000<ü>', modifiedIndex: 5 }))
      assert.deepEqual(backend.getNode('/a'), node('/a', { value: 'x\u0000<ü>', modifiedIndex: 5 }))
    })

    test('a file may be replaced by a directory', () => {
      const backend = make()
      backend.putNode(node('/f'))
      backend.putNode(dir('/f', { createdIndex: 2, modifiedIndex: 2 }))
      assert.deepEqual(backend.getNode('/f'), dir('/f', { createdIndex: 2, modifiedIndex: 2 }))
    })

    test('children are the direct children, ascending by UTF-8 bytes of key', () => {
      const backend = make()
      seedTree(backend)
      assert.deepEqual(keys(backend.children('/')), ['/a', '/ab', '/z'])
      assert.deepEqual(keys(backend.children('/a')), ['/a/_h', '/a/b', '/a/b!', '/a/\uFFFD', '/a/\u{1F600}'])
      assert.deepEqual(keys(backend.children('/z')), [])
      assert.deepEqual(keys(backend.children('/missing')), [])
    })

    test('descendants are every node strictly below, ascending by UTF-8 bytes of key', () => {
      const backend = make()
      seedTree(backend)
      assert.deepEqual(keys(backend.descendants('/a')), ['/a/_h', '/a/b', '/a/b!', '/a/b/c', '/a/\uFFFD', '/a/\u{1F600}'])
      assert.deepEqual(keys(backend.descendants('/')), ['/a', '/a/_h', '/a/b', '/a/b!', '/a/b/c', '/a/\uFFFD', '/a/\u{1F600}', '/ab', '/z'])
      assert.deepEqual(keys(backend.descendants('/a/b/c')), [])
    })

    test('deleteTree removes the node and its subtree, not string-prefix siblings', () => {
      const backend = make()
      seedTree(backend)
      backend.deleteTree('/a/b')
      assert.equal(backend.getNode('/a/b'), undefined)
      assert.equal(backend.getNode('/a/b/c'), undefined)
      assert.notEqual(backend.getNode('/a/b!'), undefined)
      backend.deleteTree('/a')
      assert.deepEqual(keys(backend.descendants('/')), ['/ab', '/z'])
      backend.deleteTree('/missing')
      assert.deepEqual(keys(backend.children('/')), ['/ab', '/z'])
    })

    test('earliestExpirationMs follows puts and deletes', () => {
      const backend = make()
      assert.equal(backend.earliestExpirationMs(), undefined)
      backend.putNode(dir('/d', { expiresAtMs: 5_000 }))
      backend.putNode(node('/d/x', { expiresAtMs: 3_000 }))
      backend.putNode(node('/y', { expiresAtMs: 4_000 }))
      assert.equal(backend.earliestExpirationMs(), 3_000)
      backend.putNode(node('/d/x', { expiresAtMs: null }))
      assert.equal(backend.earliestExpirationMs(), 4_000)
      backend.deleteTree('/y')
      assert.equal(backend.earliestExpirationMs(), 5_000)
      backend.deleteTree('/d')
      assert.equal(backend.earliestExpirationMs(), undefined)
    })

    test('expiredBy answers the due nodes by (expiresAtMs, key), the bound included', () => {
      const backend = make()
      backend.putNode(dir('/d', { expiresAtMs: 2_000 }))
      backend.putNode(node('/d/b', { expiresAtMs: 1_000 }))
      backend.putNode(node('/c', { expiresAtMs: 1_000 }))
      backend.putNode(node('/a', { expiresAtMs: 2_001 }))
      backend.putNode(node('/p'))
      assert.deepEqual(keys(backend.expiredBy(999)), [])
      assert.deepEqual(keys(backend.expiredBy(2_000)), ['/c', '/d/b', '/d'])
      assert.deepEqual(keys(backend.expiredBy(9_000)), ['/c', '/d/b', '/d', '/a'])
    })

    test('events are kept in index order and read in pages', () => {
      const backend = make()
      assert.equal(backend.lastEventIndex(), 0)
      assert.equal(backend.oldestEventIndex(), undefined)
      assert.deepEqual(backend.eventsFrom(1, 10), [])
      for (let i = 1; i <= 5; i++) backend.appendEvent(event(i))
      assert.equal(backend.lastEventIndex(), 5)
      assert.equal(backend.oldestEventIndex(), 1)
      assert.deepEqual(backend.eventsFrom(2, 2), [event(2), event(3)])
      assert.deepEqual(backend.eventsFrom(4, 10), [event(4), event(5)])
      assert.deepEqual(backend.eventsFrom(6, 10), [])
    })

    test('trimEventsBefore forgets older events and keeps the last index', () => {
      const backend = make()
      for (let i = 1; i <= 5; i++) backend.appendEvent(event(i))
      backend.trimEventsBefore(4)
      assert.equal(backend.oldestEventIndex(), 4)
      assert.equal(backend.lastEventIndex(), 5)
      assert.deepEqual(backend.eventsFrom(1, 10), [event(4), event(5)])
      backend.trimEventsBefore(2)
      assert.equal(backend.oldestEventIndex(), 4)
      backend.appendEvent(event(6))
      assert.deepEqual(backend.eventsFrom(5, 10), [event(5), event(6)])
    })
  })
}
