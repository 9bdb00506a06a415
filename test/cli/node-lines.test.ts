/**
 * Goal: the export line format reads back exactly what it wrote, and refuses every line out of
 * format with its line number and what is wrong, so that a damaged file stops an import at
 * the first bad line instead of writing garbage.
 *
 * Method: round trips of encoded nodes (value with newlines and UTF-8, key with special
 * characters, TTL, directory), then a table of malformed lines fed through the stream parser.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { NodeView } from '../../src/client/index.js'
import {
  NodeLineError,
  encodeHeaderLine,
  encodeNodeLine,
  parseExportLines,
  parseHeaderLine,
  parseNodeLine,
  type ExportHeader,
  type ExportedNode,
} from '../../src/cli/node-lines.js'

function node(fields: Partial<NodeView> & { key: string }): NodeView {
  return { dir: false, value: undefined, nodes: undefined, ttl: undefined, expiration: undefined, createdIndex: 3, modifiedIndex: 4, ...fields }
}

const header = encodeHeaderLine({ endpoint: 'http://127.0.0.1:2379', prefix: '/', etcdIndex: 9, exportedAt: '2026-12-05T09:00:00.000Z' })

async function* linesOf(lines: readonly string[]): AsyncGenerator<string> {
  yield* lines
}

async function parseAll(lines: readonly string[]): Promise<{ header: ExportHeader | undefined; nodes: ExportedNode[] }> {
  let seen: ExportHeader | undefined
  const nodes: ExportedNode[] = []
  for await (const n of parseExportLines(linesOf(lines), (h) => (seen = h))) nodes.push(n)
  return { header: seen, nodes }
}

test('a key, a directory with a TTL and odd characters come back as written', async () => {
  const written = [
    node({ key: '/d', dir: true, ttl: 30, expiration: '2026-12-05T09:00:30.123456789Z' }),
    node({ key: '/d/a b?#%&=+ü/日本', value: 'line 1\nline 2\t"quoted" ü 🌳\u0000' }),
    node({ key: '/d/_hidden', value: '' }),
  ]
  const { header: h, nodes } = await parseAll([header, ...written.map(encodeNodeLine)])
  assert.deepEqual(h, { format: 'arbor-export', version: 1, endpoint: 'http://127.0.0.1:2379', prefix: '/', etcdIndex: 9, exportedAt: '2026-12-05T09:00:00.000Z' })
  assert.deepEqual(
    nodes,
    written.map((n) => ({ key: n.key, dir: n.dir, value: n.value, ttl: n.ttl, expiration: n.expiration, createdIndex: 3, modifiedIndex: 4 })),
  )
})

test('each node is one line: newlines in values are escaped', () => {
  const line = encodeNodeLine(node({ key: '/k', value: 'a\nb\r\nc\u2028' }))
  assert.equal(line.split('\n').length, 1)
  assert.equal(line, '{"key":"/k","value":"a\\nb\\r\\nc\u2028","createdIndex":3,"modifiedIndex":4}')
})

test('a line with only the key and the value is enough', () => {
  assert.deepEqual(parseNodeLine('{"key":"/k","value":"v"}', 2), {
    key: '/k', dir: false, value: 'v', ttl: undefined, expiration: undefined, createdIndex: undefined, modifiedIndex: undefined,
  })
})

const malformed = [
  { name: 'not JSON', line: '{"key":"/k",', reason: /^line 2: not JSON/ },
  { name: 'an empty line', line: '', reason: /^line 2: empty line$/ },
  { name: 'an array', line: '["/k","v"]', reason: /^line 2: not a JSON object$/ },
  { name: 'no key', line: '{"value":"v"}', reason: /^line 2: "key" must be a string$/ },
  { name: 'a relative key', line: '{"key":"k","value":"v"}', reason: /^line 2: key "k" does not start with "\/"$/ },
  { name: 'the root', line: '{"key":"/","dir":true}', reason: /^line 2: key "\/" is the root, which is never a line$/ },
  { name: 'an empty segment', line: '{"key":"/a//b","value":"v"}', reason: /^line 2: key "\/a\/\/b" has an empty segment$/ },
  { name: 'a trailing slash', line: '{"key":"/a/","value":"v"}', reason: /^line 2: key "\/a\/" has an empty segment$/ },
  { name: 'a dot-dot segment', line: '{"key":"/a/../b","value":"v"}', reason: /^line 2: key "\/a\/..\/b" has a "." or ".." segment$/ },
  { name: 'a key without value', line: '{"key":"/k"}', reason: /^line 2: a key needs a string "value"$/ },
  { name: 'a number as value', line: '{"key":"/k","value":1}', reason: /^line 2: a key needs a string "value"$/ },
  { name: 'a directory with a value', line: '{"key":"/d","dir":true,"value":"v"}', reason: /^line 2: a directory has no "value"$/ },
  { name: 'dir as a string', line: '{"key":"/d","dir":"true"}', reason: /^line 2: "dir" must be true or false$/ },
  { name: 'a zero TTL', line: '{"key":"/k","value":"v","ttl":0}', reason: /^line 2: "ttl" must be an integer of at least 1$/ },
  { name: 'a fractional TTL', line: '{"key":"/k","value":"v","ttl":1.5}', reason: /^line 2: "ttl" must be an integer of at least 1$/ },
  { name: 'a negative index', line: '{"key":"/k","value":"v","createdIndex":-1}', reason: /^line 2: "createdIndex" must be an integer of at least 0$/ },
  { name: 'an unknown field', line: '{"key":"/k","value":"v","prevValue":"x"}', reason: /^line 2: unknown field "prevValue"$/ },
]

for (const c of malformed) {
  test(`a node line with ${c.name} is refused with its line number`, async () => {
    await assert.rejects(parseAll([header, c.line]), (e: unknown) => e instanceof NodeLineError && e.lineNumber === 2 && c.reason.test(e.message))
  })
}

test('the lines before a bad one are handed out, and the error names the bad one', async () => {
  const good = encodeNodeLine(node({ key: '/k', value: 'v' }))
  const seen: string[] = []
  await assert.rejects(
    (async () => {
      for await (const n of parseExportLines(linesOf([header, good, good, '{"key":"/x"}', good]), () => {})) seen.push(n.key)
    })(),
    (e: unknown) => e instanceof NodeLineError && e.message === 'line 4: a key needs a string "value"',
  )
  assert.deepEqual(seen, ['/k', '/k'])
})

test('an input without the header is refused at line 1', async () => {
  await assert.rejects(parseAll(['{"key":"/k","value":"v"}']), (e: unknown) => e instanceof NodeLineError && /^line 1: not an arbor-export header/.test(e.message))
  await assert.rejects(parseAll([]), (e: unknown) => e instanceof NodeLineError && e.message === 'line 1: no header: the input is empty')
})

test('a header of another version is refused', () => {
  assert.throws(() => parseHeaderLine('{"format":"arbor-export","version":2}', 1), (e: unknown) => e instanceof NodeLineError && e.message === 'line 1: format version 2 is not 1')
})
