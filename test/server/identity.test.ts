/**
 * Goal: member and cluster IDs are derived as etcd derives them, so a default arbor member
 * has etcd's well-known default IDs.
 * Method: etcd's defaults (`--initial-cluster default=http://localhost:2380`, token
 * `etcd-cluster`) give member 8e9e05c52164694d in cluster cdf818194e3a8c32.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { clusterIdOf, memberIdOf } from '../../src/server/index.js'

test('etcd\'s default member and cluster IDs', () => {
  const id = memberIdOf(['http://localhost:2380'], 'etcd-cluster')
  assert.equal(id, '8e9e05c52164694d')
  assert.equal(clusterIdOf([id]), 'cdf818194e3a8c32')
})

test('peer URLs are sorted before hashing; the token changes the ID', () => {
  const a = memberIdOf(['http://b:2380', 'http://a:2380'], 't')
  assert.equal(a, memberIdOf(['http://a:2380', 'http://b:2380'], 't'))
  assert.notEqual(a, memberIdOf(['http://a:2380', 'http://b:2380'], 'u'))
  assert.match(a, /^[0-9a-f]{1,16}$/)
})

test('the cluster ID does not depend on the order of member IDs', () => {
  assert.equal(clusterIdOf(['1', 'ff', 'abc']), clusterIdOf(['abc', '1', 'ff']))
})
