/**
 * Goal: etcd's `etcdctl` (API v2, Debian's 3.4 build) manages an arbor cluster's membership
 * unchanged: `member list` and `cluster-health` print what they print for etcd; `member add`
 * prints the environment for the new member, which started with it joins, catches up and
 * serves; `member remove` takes a member out (it then stops, as etcd's does) while the
 * cluster keeps serving. Throughout each change a background writer must never go longer
 * than one election (2 election timeouts) without an acknowledged write.
 *
 * Method: one 3-member cluster of real processes for the file (test/support/arbor-cluster.ts,
 * `--heartbeat-interval 50 --election-timeout 500`); tests run in order and share it.
 * Expected outputs follow etcd 3.4's etcdctl (ctlv2/command/member_commands.go,
 * cluster_health.go), with the ids arbor reports in /v2/stats/self. When `etcdctl` is not
 * installed every test fails, naming the package to install (Debian's etcd-client;
 * `.ci/run` installs it).
 */
import { spawn, spawnSync } from 'node:child_process'
import { after, before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import {
  ArborCluster,
  WriteLoad,
  missingWrites,
  readValues,
  sleep,
  v2Request,
  type ClusterMember,
} from '../support/arbor-cluster.js'

const electionTimeoutMs = 500
/** "No write fails for longer than an election": an election takes at most 2 timeouts. */
const unavailableMsMax = 2 * electionTimeoutMs

const installed = spawnSync('etcdctl', ['--version'], { env: { ...process.env, ETCDCTL_API: '2' } }).error === undefined
/** Why every test fails when `etcdctl` cannot run here: the tests are never skipped. */
const notInstalled = "etcdctl is not installed: install Debian's etcd-client package (.ci/run installs it)"

let cluster: ArborCluster | undefined
/** Members of the cluster now (the test removes and adds some). */
let current: ClusterMember[] = []

function theCluster(): ArborCluster {
  assert(cluster !== undefined, 'the cluster was started in before()')
  return cluster
}

/** Runs `etcdctl --endpoints <current members> <args>` (API v2) to completion, 15 s at most. */
function etcdctl(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ETCDCTL_API: '2' }
  delete env.ETCDCTL_ENDPOINTS
  delete env.ETCDCTL_PEERS
  const endpoints = current.map((m) => m.clientUrl).join(',')
  const child = spawn('etcdctl', ['--endpoints', endpoints, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A background writer (4 clients) over the current members, stopped at the end of test `t` at the latest. */
function backgroundWriter(prefix: string, t: TestContext): WriteLoad {
  const load = new WriteLoad({ prefix, clients: 4, members: () => current, requestTimeoutMs: 4_000, quorumReadBack: false })
  t.after(() => load.stop())
  return load
}

/** Stops `load` and asserts it was never unavailable for longer than an election and lost nothing. */
async function assertServedThroughout(load: WriteLoad, prefix: string, fromMs: number, diagnostic: (s: string) => void): Promise<void> {
  await load.stop()
  const gapMs = load.longestGapMs(fromMs, Date.now())
  diagnostic(`${load.acked.size} background writes; longest time without one: ${gapMs} ms; failures: ${load.failureSummary()}`)
  assert.ok(gapMs <= unavailableMsMax, `writes stalled for ${gapMs} ms`)
  for (const member of current) {
    const missing = missingWrites(load.acked.values(), await readValues(member, prefix, { quorum: true }))
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes missing on ${member.name}`)
  }
}

/** `member list` lines etcdctl prints for `members`, in id order as arbor lists them. */
async function expectedMemberList(members: readonly ClusterMember[]): Promise<string[]> {
  const c = theCluster()
  const leader = await c.waitForLeader(members)
  return members.map((m) => `${m.id}: name=${m.name} peerURLs=${m.peerUrl} clientURLs=${m.clientUrl} isLeader=${m === leader}`)
}

/** Waits until the removed `member` exits by itself (etcd's removed member stops). */
async function assertStopsByItself(member: ClusterMember): Promise<void> {
  const deadline = Date.now() + 5_000
  while (member.running && Date.now() < deadline) await sleep(50)
  const running = member.running
  if (running) await theCluster().terminate(member)
  assert.equal(running, false, `${member.name} still runs 5 s after it was removed`)
  assert.equal(member.exit.code, 0)
}

describe('etcdctl membership commands against a 3-member cluster', () => {
  before(async () => {
    assert(installed, notInstalled)
    cluster = await ArborCluster.start({ size: 3, heartbeatIntervalMs: 50, electionTimeoutMs })
    current = [...cluster.members]
    for (const member of current) await cluster.selfStats(member)
  })
  after(async () => {
    if (cluster !== undefined) await cluster.stop()
  })

  test('member list prints each member with its id, name, URLs and whether it leads', async () => {
    const run = await etcdctl(['member', 'list'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stderr, '')
    assert.deepEqual(run.stdout.split('\n').sort(), ['', ...(await expectedMemberList(current))].sort())
  })

  test('cluster-health finds every member healthy', async () => {
    const run = await etcdctl(['cluster-health'])
    assert.equal(run.code, 0, run.stderr)
    const lines = run.stdout.split('\n')
    assert.deepEqual(lines.slice(-2), ['cluster is healthy', ''])
    assert.deepEqual(
      lines.slice(0, -2).sort(),
      current.map((m) => `member ${m.id} is healthy: got healthy result from ${m.clientUrl}`).sort(),
    )
  })

  test('member add, then a 4th started with the printed environment gets earlier keys and serves', async (t) => {
    const c = theCluster()
    const before = await v2Request(current[0]!.clientUrl, 'PUT', '/v2/keys/before-join', { form: 'value=old' })
    assert.equal(before.status, 201)
    const fromMs = Date.now()
    const load = backgroundWriter('add', t)
    load.start()
    const n4 = await c.prepareMember('n4')
    const run = await etcdctl(['member', 'add', 'n4', n4.peerUrl])
    assert.equal(run.code, 0, run.stderr)
    const match = /^Added member named n4 with ID ([0-9a-f]+) to cluster\n\nETCD_NAME="n4"\nETCD_INITIAL_CLUSTER="([^"]*)"\nETCD_INITIAL_CLUSTER_STATE="existing"\n$/.exec(run.stdout)
    assert(match !== null, run.stdout)
    const [, id, initialCluster] = match
    assert(id !== undefined && initialCluster !== undefined)
    assert.deepEqual(initialCluster.split(',').sort(), [...current, n4].map((m) => `${m.name}=${m.peerUrl}`).sort())
    await c.joinWithEnv(n4, { ETCD_NAME: 'n4', ETCD_INITIAL_CLUSTER: initialCluster, ETCD_INITIAL_CLUSTER_STATE: 'existing' })
    assert.equal((await c.selfStats(n4)).id, id)
    current.push(n4)
    await c.waitForIndex(n4, before.etcdIndex)
    const old = await v2Request(n4.clientUrl, 'GET', '/v2/keys/before-join')
    assert.equal(old.json?.node?.value, 'old', old.text)
    const put = await v2Request(n4.clientUrl, 'PUT', '/v2/keys/via-n4', { form: 'value=new' })
    assert.equal(put.status, 201, put.text)
    for (const member of current) {
      const read = await v2Request(member.clientUrl, 'GET', '/v2/keys/via-n4?quorum=true')
      assert.equal(read.json?.node?.value, 'new', `${member.name}: ${read.text}`)
    }
    await sleep(500)
    await assertServedThroughout(load, 'add', fromMs, (s) => t.diagnostic(s))
    const list = await etcdctl(['member', 'list'])
    assert.deepEqual(list.stdout.split('\n').sort(), ['', ...(await expectedMemberList(current))].sort())
  })

  test('member remove of the 4th: the cluster keeps serving and the removed member stops', async (t) => {
    const n4 = theCluster().member('n4')
    assert(current.includes(n4), 'n4 joined in the previous test')
    current = current.filter((m) => m !== n4)
    const fromMs = Date.now()
    const load = backgroundWriter('remove-n4', t)
    load.start()
    await sleep(300)
    const run = await etcdctl(['member', 'remove', n4.id])
    assert.deepEqual(run, { code: 0, stdout: `Removed member ${n4.id} from cluster\n`, stderr: '' })
    await sleep(700)
    await assertServedThroughout(load, 'remove-n4', fromMs, (s) => t.diagnostic(s))
    const list = await etcdctl(['member', 'list'])
    assert.deepEqual(list.stdout.split('\n').sort(), ['', ...(await expectedMemberList(current))].sort())
    await assertStopsByItself(n4)
  })

  test('member remove of a follower of the original three: the other two keep serving', async (t) => {
    const c = theCluster()
    const leader = await c.waitForLeader(current)
    const follower = current.find((m) => m !== leader)
    assert(follower !== undefined)
    current = current.filter((m) => m !== follower)
    const fromMs = Date.now()
    const load = backgroundWriter('remove-follower', t)
    load.start()
    await sleep(300)
    const run = await etcdctl(['member', 'remove', follower.id])
    assert.deepEqual(run, { code: 0, stdout: `Removed member ${follower.id} from cluster\n`, stderr: '' })
    await sleep(700)
    await assertServedThroughout(load, 'remove-follower', fromMs, (s) => t.diagnostic(s))
    const health = await etcdctl(['cluster-health'])
    assert.equal(health.code, 0, health.stderr)
    assert.deepEqual(
      health.stdout.split('\n').sort(),
      ['', 'cluster is healthy', ...current.map((m) => `member ${m.id} is healthy: got healthy result from ${m.clientUrl}`)].sort(),
    )
    await assertStopsByItself(follower)
  })
})
