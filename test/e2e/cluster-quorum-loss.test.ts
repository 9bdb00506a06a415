/**
 * Goal: a 5-member cluster keeps accepting writes while a majority (3) is alive, and without
 * a majority refuses them the way etcd does: each write waits for the request timeout and
 * fails with 500 and errorCode 300, while plain reads keep answering from the local store.
 *
 * Method: real processes (test/support/arbor-cluster.ts), `--heartbeat-interval 50
 * --election-timeout 500 --request-timeout-ms 1000`. SIGKILL the leader and one follower,
 * then write through each survivor; SIGKILL a third member, then write and read.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ArborCluster, probeFirstWrite, v2Request } from '../support/arbor-cluster.js'

const requestTimeoutMs = 1_000

let cluster: ArborCluster | undefined

describe('a 5-member cluster', () => {
  before(async () => {
    cluster = await ArborCluster.start({
      size: 5,
      heartbeatIntervalMs: 50,
      electionTimeoutMs: 500,
      extraArgs: ['--request-timeout-ms', String(requestTimeoutMs)],
    })
  })
  after(async () => {
    if (cluster !== undefined) await cluster.stop()
  })

  test('with 2 of 5 killed writes succeed; with 3 killed they fail with 300 after the request timeout and plain reads still answer', async (t) => {
    const c = cluster
    assert(c !== undefined)
    const leader = await c.waitForLeader()
    const put = await v2Request(leader.clientUrl, 'PUT', '/v2/keys/q', { form: 'value=before' })
    assert.equal(put.status, 201)
    const follower = c.members.find((m) => m !== leader)
    assert(follower !== undefined)
    const killedAtMs = Date.now()
    await c.kill(leader)
    await c.kill(follower)
    const survivors = c.members.filter((m) => m.running)
    assert.equal(survivors.length, 3)
    const probe = await probeFirstWrite(survivors, 'probe', { sinceMs: killedAtMs, everyMs: 20, requestTimeoutMs: 3_000, timeoutMs: 10_000 })
    t.diagnostic(`${leader.name} and ${follower.name} killed; first write acknowledged after ${probe.elapsedMs} ms`)
    for (const member of survivors) {
      const write = await v2Request(member.clientUrl, 'PUT', `/v2/keys/via/${member.name}`, { form: 'value=3of5' })
      assert.equal(write.status, 201, `${member.name}: ${write.text}`)
      const read = await v2Request(member.clientUrl, 'GET', '/v2/keys/q?quorum=true')
      assert.equal(read.json?.node?.value, 'before', `${member.name}: ${read.text}`)
    }

    const third = survivors[0]
    assert(third !== undefined)
    await c.kill(third)
    const left = survivors.slice(1)
    for (const member of left) {
      const startedAtMs = Date.now()
      const write = await v2Request(member.clientUrl, 'PUT', `/v2/keys/lost/${member.name}`, { form: 'value=2of5', timeoutMs: 10_000 })
      const tookMs = Date.now() - startedAtMs
      t.diagnostic(`write through ${member.name} with 2 of 5 alive: ${write.status} after ${tookMs} ms: ${write.text.trim()}`)
      assert.equal(write.status, 500)
      assert.equal(write.json.errorCode, 300)
      assert.equal(write.json.message, 'Raft Internal Error')
      assert.equal(write.json.cause, 'etcdserver: request timed out')
      assert.ok(tookMs >= requestTimeoutMs - 50, `failed after the request timeout, not at once (${tookMs} ms)`)
      assert.ok(tookMs <= requestTimeoutMs + 1_000, `failed soon after the request timeout (${tookMs} ms)`)

      const quorumRead = await v2Request(member.clientUrl, 'GET', '/v2/keys/q?quorum=true', { timeoutMs: 10_000 })
      assert.equal(quorumRead.status, 500, `quorum read on ${member.name}: ${quorumRead.text}`)
      assert.equal(quorumRead.json.errorCode, 300)

      for (const key of ['q', `via/${member.name}`]) {
        const read = await v2Request(member.clientUrl, 'GET', `/v2/keys/${key}`)
        assert.equal(read.status, 200, `plain read of /${key} on ${member.name}: ${read.text}`)
      }
      const missing = await v2Request(member.clientUrl, 'GET', `/v2/keys/lost/${member.name}`)
      assert.equal(missing.status, 404, 'the refused write was not applied')
    }
  })
})
