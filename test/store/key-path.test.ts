/**
 * Goal: key path helpers walk and classify keys as etcd does (hidden nodes, spec §7.3).
 * Method: small tables.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AssertionFailure } from '../../src/lib/index.js'
import { assertKey, childKey, isHiddenBelow, isHiddenKey, isKeyBelow, keyPrefixes, parentKey } from '../../src/store/key-path.js'

test('keyPrefixes lists the nodes on the way, the key last', () => {
  assert.deepEqual(keyPrefixes('/'), [])
  assert.deepEqual(keyPrefixes('/a'), ['/a'])
  assert.deepEqual(keyPrefixes('/a/b/c'), ['/a', '/a/b', '/a/b/c'])
})

test('parentKey and childKey are inverse', () => {
  assert.equal(parentKey('/a'), '/')
  assert.equal(parentKey('/a/b'), '/a')
  assert.equal(childKey('/', 'a'), '/a')
  assert.equal(childKey('/a', 'b'), '/a/b')
})

test('isKeyBelow is by path, not by string prefix', () => {
  assert.equal(isKeyBelow('/a/b', '/a'), true)
  assert.equal(isKeyBelow('/ab', '/a'), false)
  assert.equal(isKeyBelow('/a', '/a'), false)
  assert.equal(isKeyBelow('/a', '/'), true)
})

test('a node is hidden when its last segment starts with _', () => {
  const cases: Array<[string, boolean]> = [['/_h', true], ['/_', true], ['/a/_b', true], ['/_a/b', false], ['/a_b', false]]
  for (const [key, hidden] of cases) assert.equal(isHiddenKey(key), hidden, key)
})

test('isHiddenBelow looks only at the segments after the watched key', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/', '/a/_b', true],
    ['/', '/_a/b', true],
    ['/wd', '/wd/_h', true],
    ['/_foo', '/_foo/bar', false],
    ['/a', '/a', false],
    ['/a', '/a/b/c', false],
  ]
  for (const [watch, key, hidden] of cases) assert.equal(isHiddenBelow(watch, key), hidden, `${watch} ${key}`)
})

test('assertKey accepts cleaned keys and refuses others', () => {
  for (const key of ['/', '/a', '/a/b', '/a b/ü']) assertKey(key)
  for (const key of ['', 'a', '/a/', '/a//b', '//']) assert.throws(() => assertKey(key), AssertionFailure, key)
})
