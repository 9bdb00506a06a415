/**
 * Goal: MemoryStoreBackend keeps the StoreBackend contract, and guards the tree shape.
 * Method: the shared contract suite, plus the memory backend's own assertions.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AssertionFailure } from '../../src/lib/index.js'
import { MemoryStoreBackend } from '../../src/store/index.js'
import { runStoreBackendContract } from './store-backend-contract.js'

runStoreBackendContract('memory', () => new MemoryStoreBackend())

test('a node without a parent directory is a bug', () => {
  const backend = new MemoryStoreBackend()
  const file = { key: '/f', dir: false, value: '', createdIndex: 1, modifiedIndex: 1, expiresAtMs: null }
  assert.throws(() => backend.putNode({ ...file, key: '/missing/x' }), AssertionFailure)
  backend.putNode(file)
  assert.throws(() => backend.putNode({ ...file, key: '/f/x' }), AssertionFailure)
})

test('events must come with consecutive indexes', () => {
  const backend = new MemoryStoreBackend()
  const record = { index: 2, action: 'set' as const, key: '/a', dir: false, refresh: false, json: '{}\n' }
  assert.throws(() => backend.appendEvent(record), AssertionFailure)
})
