/**
 * Goal: the hidden roots an event's key names are exactly its ancestors-or-self below the
 * prefix whose last segment starts with `_` (each must be read on its own: a listing of one
 * hidden directory does not show the hidden nodes inside it).
 *
 * Method: a table of prefix, key and roots.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hiddenAncestors } from '../../src/client/index.js'

const cases = [
  { prefix: '/', key: '/a/b', want: [] },
  { prefix: '/', key: '/_h', want: ['/_h'] },
  { prefix: '/', key: '/a/_h/x', want: ['/a/_h'] },
  { prefix: '/', key: '/_h/_x/k', want: ['/_h', '/_h/_x'] },
  { prefix: '/', key: '/_', want: ['/_'] },
  { prefix: '/app', key: '/app/_lock', want: ['/app/_lock'] },
  { prefix: '/_app', key: '/_app/k', want: [] },
  { prefix: '/app', key: '/application/_x', want: [] },
  { prefix: '/app', key: '/other/_x', want: [] },
]

for (const c of cases) {
  test(`hiddenAncestors(${c.prefix}, ${c.key}) is [${c.want.join(', ')}]`, () => {
    assert.deepEqual(hiddenAncestors(c.prefix, c.key), c.want)
  })
}
