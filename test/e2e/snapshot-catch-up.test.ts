/**
 * Goal: a member that was stopped while the cluster wrote past its log compaction catches up
 * by a streamed snapshot when it comes back, and then has every key, the same etcd index,
 * and applies the writes that follow; a member added later catches up the same way.
 *
 * Method: 3 members with `--snapshot-count 20` and 4 KiB snapshot chunks (so one snapshot
 * is many chunks); one follower is stopped (SIGTERM) while 400 keys are written, restarted
 * on its data directory, and compared key by key with the leader; its log says it installed
 * a snapshot.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { ArborCluster, readValues, v2Request, type ClusterMember } from '../support/arbor-cluster.js'

const keys = 400
const writersMax = 16

let cluster: ArborCluster

before(async () => {
  cluster = await ArborCluster.start({ size: 3, extraArgs: ['--snapshot-count', '20', '--snapshot-chunk-bytes-max', '4096'] })
})
after(async () => {
  await cluster.stop()
})

/** Writes `/load/k<i>` for every i in `from..to-1` through `via`, `writersMax` at a time. */
async function writeKeys(via: ClusterMember, from: number, to: number): Promise<void> {
  let next = from
  const worker = async (): Promise<void> => {
    for (let i = next++; i < to; i = next++) {
      const reply = await v2Request(via.clientUrl, 'PUT', `/v2/keys/load/k${i}`, { form: `value=v${i}-${'x'.repeat(200)}`, timeoutMs: 10_000 })
      assert.ok(reply.status === 200 || reply.status === 201, `PUT k${i}: ${reply.status} ${reply.text}`)
    }
  }
  await Promise.all(Array.from({ length: writersMax }, worker))
}

/** Waits until `member` has every key `leader` has under /load, with the same values. */
async function waitForSameKeys(member: ClusterMember, leader: ClusterMember, timeoutMs = 30_000): Promise<Map<string, string>> {
  const want = await readValues(leader, 'load', { quorum: true })
  const deadline = Date.now() + timeoutMs
  let got = new Map<string, string>()
  while (Date.now() < deadline) {
    got = await readValues(member, 'load', { quorum: false })
    if (got.size === want.size && [...want].every(([k, v]) => got.get(k) === v)) return got
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.fail(`${member.name} has ${got.size} of ${want.size} keys after ${timeoutMs} ms:\n${member.output().slice(-3000)}`)
}

test('a follower stopped while the log was compacted catches up by snapshot and has every key', async () => {
  const leader = await cluster.waitForLeader()
  const follower = cluster.live().find((m) => m !== leader)
  assert.ok(follower !== undefined)
  await writeKeys(leader, 0, 50)
  assert.equal(await cluster.terminate(follower), 0)
  await writeKeys(leader, 50, keys)
  await cluster.restart(follower)
  const got = await waitForSameKeys(follower, leader)
  assert.equal(got.size, keys)
  assert.match(follower.output(), /snapshot installed/, 'the follower caught up by a snapshot, not by the log')
  // It applies what follows, and agrees on the etcd index.
  await writeKeys(leader, keys, keys + 10)
  await waitForSameKeys(follower, leader)
  const leaderIndex = await cluster.etcdIndex(leader)
  await cluster.waitForIndex(follower, leaderIndex)
  assert.equal(await cluster.etcdIndex(follower), leaderIndex)
})

test('a member added after compaction receives the state by snapshot', async () => {
  const leader = await cluster.waitForLeader()
  const added = await cluster.prepareMember('n4')
  const reply = await v2Request(leader.clientUrl, 'POST', '/v2/members', { jsonBody: { peerURLs: [added.peerUrl] }, timeoutMs: 10_000 })
  assert.equal(reply.status, 201, reply.text)
  await cluster.join(added, cluster.initialCluster(cluster.live().concat(added)))
  const got = await waitForSameKeys(added, leader)
  assert.equal(got.size, keys + 10)
  assert.match(added.output(), /snapshot installed/)
})
