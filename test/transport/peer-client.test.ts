/**
 * Goal: a joining member can learn the cluster ID and the member list from any running
 * member, skipping URLs that do not answer, and learns why when none does. Method: a peer
 * app on 127.0.0.1 and a port with no listener.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fetchPeerMembers, fetchPeerVersion, PeerRequestError } from '../../src/transport/index.js'
import { closedPort, clusterId, startReceiver } from './peer-fixture.js'

const settings = { dialTimeoutMs: 1_000, requestTimeoutMs: 5_000 }
const members = [
  { id: '8e9e05c52164694d', name: 'infra1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'] },
  { id: '91bc3c398fb3c146', name: '', peerUrls: ['http://127.0.0.1:2480'], clientUrls: [] },
]

test('the member list comes from the first URL that answers, with its cluster ID', async (t) => {
  const running = await startReceiver('8e9e05c52164694d', { members: () => members })
  t.after(() => running.app.close())
  const remote = await fetchPeerMembers([`http://127.0.0.1:${await closedPort()}`, running.url], settings)
  assert.deepEqual(remote, { clusterId, members })
})

test('when no URL answers, the error lists each URL with its failure', async () => {
  const urls = [`http://127.0.0.1:${await closedPort()}`, `http://127.0.0.1:${await closedPort()}`]
  await assert.rejects(fetchPeerMembers(urls, settings), (error: unknown) => {
    assert.ok(error instanceof PeerRequestError)
    assert.deepEqual(error.failures.map((f) => f.url), urls)
    return true
  })
})

test('the peer version check reads GET /version', async (t) => {
  const running = await startReceiver('8e9e05c52164694d')
  t.after(() => running.app.close())
  assert.deepEqual(await fetchPeerVersion(running.url, settings), { etcdserver: '3.4.0', etcdcluster: '3.4.0' })
})
