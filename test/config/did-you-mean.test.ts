// Goal: misspelt flags and config-file keys get a suggestion when one is close, and none
// otherwise. Method: the distance and the choice on small tables.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { closestName, editDistance } from '../../src/config/did-you-mean.js'

describe('did you mean', () => {
  test('edit distance', () => {
    assert.equal(editDistance('name', 'name'), 0)
    assert.equal(editDistance('nmae', 'name'), 2)
    assert.equal(editDistance('', 'abc'), 3)
    assert.equal(editDistance('kitten', 'sitting'), 3)
  })
  test('suggests a close name, never a far one or for a one-letter name', () => {
    assert.equal(closestName('data-dri', ['data-dir', 'name']), 'data-dir')
    assert.equal(closestName('zzzzzz', ['data-dir', 'name']), undefined)
    assert.equal(closestName('x', ['v']), undefined)
  })
})
