/**
 * The contract every `StoreBackend` keeps (store/types.ts), as one suite run against each
 * implementation (STYLE.md §8). Method: write nodes and events through the public methods of
 * a fresh backend, and compare what the store would read back with tables of expected keys.
 * Orders are UTF-8 byte orders, which differ from JavaScript's UTF-16 string order above
 * U+FFFF ('😀' sorts after 'Ａ' in UTF-8, before it in UTF-16).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { HistoryRecord, NodeRecord, StoreBackend } from '../../src/store/index.js'

function file(key: string, value = 'v', expiresAtMs: number | null = null, index = 1): NodeRecord {
  return { key, dir: false, value, createdIndex: index, modifiedIndex: index, expiresAtMs }
}

function dir(key: string, expiresAtMs: number | null = null): NodeRecord {
  return { key, dir: true, value: '', createdIndex: 1, modifiedIndex: 1, expiresAtMs }
}

function event(index: number, key = '/k'): HistoryRecord {
  const json = `{"action":"set","node":{"key":"${key}","value":"${index}","modifiedIndex":${index},"createdIndex":${index}}}\n`
  return { index, action: 'set', key, dir: false, refresh: false, json }
}

/** A backend holding `keys`: each key ending in '/' is a directory (without the slash). */
function backendWith(make: () => StoreBackend, keys: readonly string[]): StoreBackend {
  const b = make()
  for (const k of keys) b.putNode(k.endsWith('/') ? dir(k.slice(0, -1)) : file(k))
  return b
}

function keysOf(nodes: readonly NodeRecord[]): string[] {
  return nodes.map((n) => n.key)
}

export function runStoreBackendContract(name: string, make: () => StoreBackend): void {
  describe(`StoreBackend contract: ${name}`, () => {
    runNodes(make)
    runOrder(make)
    runRanges(make)
    runExpiry(make)
    runHistory(make)
  })
}

function runNodes(make: () => StoreBackend): void {
  test('a missing node is undefined', () => {
    assert.equal(make().getNode('/nothing'), undefined)
  })

  test('putNode then getNode round-trips every field', () => {
    const b = make()
    const nodes: NodeRecord[] = [
      { key: '/f', dir: false, value: 'line1\nline2 ünï 😀 \u0000', createdIndex: 3, modifiedIndex: 9, expiresAtMs: 1_700_000_123_456 },
      { key: '/d', dir: true, value: '', createdIndex: 4, modifiedIndex: 4, expiresAtMs: null },
      { key: '/empty', dir: false, value: '', createdIndex: 5, modifiedIndex: 5, expiresAtMs: null },
    ]
    for (const n of nodes) b.putNode(n)
    for (const n of nodes) assert.deepEqual(b.getNode(n.key), n)
  })

  test('putNode refuses a node whose parent is missing or a file', () => {
    const b = backendWith(make, ['/f'])
    assert.throws(() => b.putNode(file('/missing/x')))
    assert.throws(() => b.putNode(file('/f/x')))
    assert.equal(b.getNode('/missing/x'), undefined)
    assert.equal(b.getNode('/f/x'), undefined)
  })

  test('putNode on an existing key replaces the node', () => {
    const b = make()
    b.putNode(file('/a', 'old', 5_000, 1))
    b.putNode({ key: '/a', dir: false, value: 'new', createdIndex: 1, modifiedIndex: 2, expiresAtMs: null })
    assert.deepEqual(b.getNode('/a'), { key: '/a', dir: false, value: 'new', createdIndex: 1, modifiedIndex: 2, expiresAtMs: null })
    assert.equal(b.earliestExpirationMs(), undefined)
  })
}

function runOrder(make: () => StoreBackend): void {
  test('children are ascending by UTF-8 bytes of key', () => {
    const b = backendWith(make, ['/ünï', '/😀', '/badutf8', '/Ａ', '/a?b', '/B'])
    assert.deepEqual(keysOf(b.children('/')), ['/B', '/a?b', '/badutf8', '/ünï', '/Ａ', '/😀'])
  })

  test('children are the direct children only, of the root or of a directory', () => {
    const b = backendWith(make, ['/a/', '/a/b/', '/a/b/c', '/a/x', '/ab', '/z'])
    assert.deepEqual(keysOf(b.children('/')), ['/a', '/ab', '/z'])
    assert.deepEqual(keysOf(b.children('/a')), ['/a/b', '/a/x'])
    assert.deepEqual(keysOf(b.children('/a/b')), ['/a/b/c'])
    assert.deepEqual(b.children('/a/b/c'), [])
    assert.deepEqual(b.children('/missing'), [])
  })

  test('children skip the subtrees of their directories, whatever sorts between a directory and its subtree', () => {
    // '!' and '.' sort between '/a/b' and '/a/b/...'; '0' right after the subtree.
    const b = backendWith(make, ['/a/', '/a/b/', '/a/b!', '/a/b.x/', '/a/b.x/y', '/a/b/c/', '/a/b/c/d', '/a/b/e', '/a/b0', '/a/c/', '/a/d'])
    assert.deepEqual(keysOf(b.children('/a')), ['/a/b', '/a/b!', '/a/b.x', '/a/b0', '/a/c', '/a/d'])
    assert.deepEqual(keysOf(b.children('/a/b')), ['/a/b/c', '/a/b/e'])
  })

  test('children are the descendants one level down, for any tree (property)', () => {
    const segment = fc.constantFrom('a', 'b', 'a!', 'a.', 'a0', 'ü', '😀')
    const paths = fc.array(fc.array(segment, { minLength: 1, maxLength: 4 }), { maxLength: 30 })
    fc.assert(
      fc.property(paths, (list) => {
        const b = make()
        // Every prefix of a path is a key; a key that another key extends is a directory.
        const depthOf = new Map<string, number>()
        const dirs = new Set<string>()
        for (const segments of list) {
          for (let depth = 1; depth <= segments.length; depth++) {
            depthOf.set('/' + segments.slice(0, depth).join('/'), depth)
            if (depth < segments.length) dirs.add('/' + segments.slice(0, depth).join('/'))
          }
        }
        const keys = [...depthOf.keys()].sort((x, y) => (depthOf.get(x) ?? 0) - (depthOf.get(y) ?? 0))
        for (const key of keys) b.putNode(dirs.has(key) ? dir(key) : file(key))
        for (const d of ['/', ...dirs]) {
          const prefix = d === '/' ? '/' : d + '/'
          const direct = keysOf(b.descendants(d)).filter((k) => !k.slice(prefix.length).includes('/'))
          assert.deepEqual(keysOf(b.children(d)), direct, `children of ${d}`)
        }
      }),
      { numRuns: 100, seed: 20261121 },
    )
  })
}

function runRanges(make: () => StoreBackend): void {
  // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), '0' (0x30) right after it.
  const edgeKeys = ['/a/', '/a/x/', '/a/0', '/a-b', '/a.b', '/a0', '/a/x/y/', '/a/x/y/z']

  test('descendants of the root are every node, ascending by UTF-8 bytes (parents first)', () => {
    const b = backendWith(make, edgeKeys)
    assert.deepEqual(keysOf(b.descendants('/')), ['/a', '/a-b', '/a.b', '/a/0', '/a/x', '/a/x/y', '/a/x/y/z', '/a0'])
  })

  test("descendants of a directory stop at keys that only share its prefix ('/a-b', '/a.b', '/a0')", () => {
    const b = backendWith(make, edgeKeys)
    assert.deepEqual(keysOf(b.descendants('/a')), ['/a/0', '/a/x', '/a/x/y', '/a/x/y/z'])
    assert.deepEqual(keysOf(b.descendants('/a/x')), ['/a/x/y', '/a/x/y/z'])
    assert.deepEqual(keysOf(b.descendants('/a/x/y')), ['/a/x/y/z'])
    assert.deepEqual(b.descendants('/a0'), [])
  })

  test('descendants keep UTF-8 byte order at every depth', () => {
    const b = backendWith(make, ['/d/', '/d/😀/', '/d/😀/1', '/d/Ａ', '/d/b'])
    assert.deepEqual(keysOf(b.descendants('/d')), ['/d/b', '/d/Ａ', '/d/😀', '/d/😀/1'])
  })

  test("deleteTree removes the node and everything below it, not siblings sharing its prefix ('/pq' vs '/pqx')", () => {
    const b = backendWith(make, ['/pq/', '/pq/r/', '/pq/r/s', '/pq/t', '/pqx', '/pq-', '/pq0', '/p'])
    b.deleteTree('/pq')
    assert.deepEqual(keysOf(b.descendants('/')), ['/p', '/pq-', '/pq0', '/pqx'])
  })

  test('deleteTree of a file removes just that file; of a missing key, nothing', () => {
    const b = backendWith(make, ['/a', '/a0', '/b/', '/b/c'])
    b.deleteTree('/a')
    b.deleteTree('/missing')
    b.deleteTree('/b/c')
    assert.deepEqual(keysOf(b.descendants('/')), ['/a0', '/b'])
  })

  test('deleteTree also forgets the removed nodes expirations', () => {
    const b = make()
    b.putNode(dir('/t', 300))
    b.putNode(file('/t/x', 'v', 100))
    b.putNode(file('/u', 'v', 200))
    b.deleteTree('/t')
    assert.equal(b.earliestExpirationMs(), 200)
    assert.deepEqual(keysOf(b.expiredBy(1_000)), ['/u'])
  })
}

function runExpiry(make: () => StoreBackend): void {
  test('earliestExpirationMs is undefined when no node has a TTL', () => {
    const b = backendWith(make, ['/a', '/d/'])
    assert.equal(b.earliestExpirationMs(), undefined)
    assert.deepEqual(b.expiredBy(Number.MAX_SAFE_INTEGER), [])
  })

  test('earliestExpirationMs follows puts, replacements and deletes', () => {
    const b = make()
    b.putNode(file('/a', 'v', 300))
    b.putNode(file('/b', 'v', 100))
    assert.equal(b.earliestExpirationMs(), 100)
    b.putNode(file('/b', 'v', null))
    assert.equal(b.earliestExpirationMs(), 300)
    b.deleteTree('/a')
    assert.equal(b.earliestExpirationMs(), undefined)
  })

  test('expiredBy answers nodes due by the time, ordered by (expiresAtMs, key)', () => {
    const b = make()
    b.putNode(file('/b', 'v', 100))
    b.putNode(file('/a', 'v', 200))
    b.putNode(file('/c', 'v', 100))
    b.putNode(dir('/d', 200))
    b.putNode(file('/e', 'v', 201))
    b.putNode(file('/f'))
    assert.deepEqual(b.expiredBy(99), [])
    assert.deepEqual(keysOf(b.expiredBy(100)), ['/b', '/c'])
    assert.deepEqual(keysOf(b.expiredBy(200)), ['/b', '/c', '/a', '/d'])
    assert.deepEqual(b.expiredBy(200)[3], dir('/d', 200))
  })
}

function runHistory(make: () => StoreBackend): void {
  /** A backend with events 1..n. */
  function withEvents(n: number): StoreBackend {
    const b = make()
    for (let i = 1; i <= n; i++) b.appendEvent(event(i))
    return b
  }

  test('a new history is empty: lastEventIndex 0, no oldest event, no events', () => {
    const b = make()
    assert.equal(b.lastEventIndex(), 0)
    assert.equal(b.oldestEventIndex(), undefined)
    assert.deepEqual(b.eventsFrom(1, 10), [])
  })

  test('appended events read back in order with every field', () => {
    const b = make()
    const records: HistoryRecord[] = [
      event(1, '/a'),
      { index: 2, action: 'expire', key: '/d', dir: true, refresh: false, json: '{"action":"expire"}\n' },
      { index: 3, action: 'compareAndSwap', key: '/a', dir: false, refresh: true, json: '{"x":"ü😀"}\n' },
    ]
    for (const r of records) b.appendEvent(r)
    assert.deepEqual(b.eventsFrom(1, 10), records)
    assert.equal(b.lastEventIndex(), 3)
    assert.equal(b.oldestEventIndex(), 1)
  })

  const fromCases = [
    { from: 1, limit: 10, want: [1, 2, 3, 4, 5] },
    { from: 3, limit: 10, want: [3, 4, 5] },
    { from: 2, limit: 2, want: [2, 3] },
    { from: 5, limit: 1, want: [5] },
    { from: 6, limit: 10, want: [] },
    { from: 1, limit: 0, want: [] },
  ]
  for (const c of fromCases) {
    test(`eventsFrom(${c.from}, ${c.limit}) over events 1..5 answers [${c.want.join(', ')}]`, () => {
      assert.deepEqual(
        withEvents(5)
          .eventsFrom(c.from, c.limit)
          .map((e) => e.index),
        c.want,
      )
    })
  }

  test('trimEventsBefore forgets older events and keeps the newest index', () => {
    const b = withEvents(5)
    b.trimEventsBefore(3)
    assert.equal(b.oldestEventIndex(), 3)
    assert.deepEqual(
      b.eventsFrom(1, 10).map((e) => e.index),
      [3, 4, 5],
    )
    assert.equal(b.lastEventIndex(), 5)
  })

  test('trimming every event keeps lastEventIndex, and appends continue after it', () => {
    const b = withEvents(5)
    b.trimEventsBefore(6)
    assert.equal(b.oldestEventIndex(), undefined)
    assert.equal(b.lastEventIndex(), 5)
    assert.deepEqual(b.eventsFrom(1, 10), [])
    b.appendEvent(event(6))
    assert.equal(b.oldestEventIndex(), 6)
    assert.equal(b.lastEventIndex(), 6)
  })

  test('a window of 1000 events slides as new ones arrive', () => {
    const b = make()
    for (let i = 1; i <= 1_010; i++) {
      b.appendEvent(event(i))
      if (i > 1_000) b.trimEventsBefore(i - 999)
    }
    assert.equal(b.oldestEventIndex(), 11)
    assert.equal(b.lastEventIndex(), 1_010)
    assert.equal(b.eventsFrom(0, 2_000).length, 1_000)
  })
}
