/**
 * Goal: keys order by their UTF-8 bytes, as etcd's sorted listings and SQLite's BINARY
 * collation do (spec v2-api.md §4.3), not by JavaScript's UTF-16 comparison.
 * Method: table of pairs; the expected sign comes from comparing the UTF-8 bytes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compareKeys } from '../../src/store/index.js'

const pairs: Array<[string, string]> = [
  ['/a', '/b'],
  ['/a', '/a/b'],
  ['/a!', '/a/b'],
  ['/a/b', '/a0'],
  ['/z', '/ü'],
  ['/\uFFFD', '/\u{1F600}'],
  ['/\uE000', '/\u{10000}'],
  ['/\u{1F600}', '/\u{1F601}'],
  ['/\u007f', '/\u0080'],
  ['', '/'],
]

/** The reference order: bytes of the UTF-8 encoding. */
function byteSign(a: string, b: string): number {
  const x = new TextEncoder().encode(a)
  const y = new TextEncoder().encode(b)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return Math.sign((x[i] ?? 0) - (y[i] ?? 0))
  return Math.sign(x.length - y.length)
}

for (const [a, b] of pairs) {
  test(`${JSON.stringify(a)} sorts before ${JSON.stringify(b)}`, () => {
    assert.equal(byteSign(a, b), -1)
    assert.ok(compareKeys(a, b) < 0)
    assert.ok(compareKeys(b, a) > 0)
    assert.equal(compareKeys(a, a), 0)
  })
}
