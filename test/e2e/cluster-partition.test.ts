/**
 * Goal: a 3-member cluster survives a network partition the way etcd does. When the leader is
 * cut off from both followers, the two followers elect a new leader and keep serving writes and
 * quorum reads; the cut-off old leader refuses writes with 500 / errorCode 300 once the request
 * timeout has passed, refuses quorum reads with 500, and still answers plain reads from its
 * own (now old) store. After the partition heals, the old leader follows the new one, catches
 * up, and holds every write acknowledged by the majority; the write it refused exists nowhere;
 * and no quorum read ever missed an acknowledged write.
 *
 * Method: each member runs in its own network namespace, joined to a bridge by a veth pair
 * (test/support/netns.ts); the test (the client) stays in the root namespace and reaches every
 * member throughout: only member-to-member traffic is cut, both ways, with iptables DROP rules
 * when iptables works in a namespace, else with blackhole routes (set TEST_PARTITION_CUT to
 * `iptables` or `blackhole` to force one). `--heartbeat-interval 50 --election-timeout 500
 * --request-timeout-ms 1500`. Load: 16 clients writing unique keys through the two members of
 * the majority only, from before the cut until after the heal, each reading its write back
 * with quorum=true on the other one. Needs root and iproute2 (CI runs as root); it fails, and
 * says so, when it cannot create namespaces. Tests run in order and share the cluster.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readlinkSync, realpathSync } from 'node:fs'
import { ArborCluster, WriteLoad, missingWrites, readValues, sleep, v2Request, type ClusterMember } from '../support/arbor-cluster.js'
import { NetnsLab, netnsPlacement, type CutMethod, type NetnsHost } from '../support/netns.js'

const heartbeatIntervalMs = 50
const electionTimeoutMs = 500
const requestTimeoutMs = 1_500
/** Bound of every wait for a leader or for a member to catch up. */
const waitMs = 10_000

/** Everything the tests share; set up in before(), torn down in after(). */
interface Setup {
  lab?: NetnsLab
  cluster?: ArborCluster
  load?: WriteLoad
}
const setup: Setup = {}

function theCluster(): ArborCluster {
  assert(setup.cluster !== undefined, 'the cluster started')
  return setup.cluster
}

/** What the first test learned, for the ones after it. */
interface Partition {
  readonly oldLeader: ClusterMember
  readonly majority: readonly ClusterMember[]
  readonly newLeader: ClusterMember
  readonly electedAtMs: number
}
let partition: Partition | undefined

function thePartition(): Partition {
  assert(partition !== undefined, 'the first test cut the leader off')
  return partition
}

function theLoad(): WriteLoad {
  assert(setup.load !== undefined, 'the first test started the load')
  return setup.load
}

/** TEST_PARTITION_CUT, when set. @throws on any other value than the two methods. */
function cutMethodFromEnv(): CutMethod | undefined {
  const value = process.env['TEST_PARTITION_CUT']
  if (value === undefined || value === '') return undefined
  if (value !== 'iptables' && value !== 'blackhole') throw new Error(`TEST_PARTITION_CUT=${value}: want iptables or blackhole`)
  return value
}

/** The namespace `member` runs in (members and hosts are built in the same order). */
function hostOf(lab: NetnsLab, member: ClusterMember): NetnsHost {
  const host = lab.hosts[theCluster().members.indexOf(member)]
  assert(host !== undefined, `${member.name} has no host`)
  return host
}

/** Asserts every write `load` acknowledged is on `member`, read with or without quorum. */
async function assertAllPresent(load: WriteLoad, member: ClusterMember, quorum: boolean): Promise<void> {
  const values = await readValues(member, 'load', { quorum })
  const missing = missingWrites(load.acked.values(), values)
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes missing on ${member.name} (quorum=${quorum})`)
}

/**
 * `member`'s Raft term as a client sees it: the `X-Raft-Term` header etcd sends with every
 * key-space answer (here a GET of the root, 2 s at most).
 */
async function raftTerm(member: ClusterMember): Promise<number> {
  const response = await fetch(`${member.clientUrl}/v2/keys/`, { signal: AbortSignal.timeout(2_000) })
  await response.text()
  assert.equal(response.status, 200, `GET /v2/keys/ on ${member.name}`)
  const header = response.headers.get('x-raft-term') ?? ''
  assert.match(header, /^[1-9][0-9]*$/, `${member.name} X-Raft-Term`)
  return Number(header)
}

/**
 * Stops the load and the cluster (one SIGTERM each, SIGKILL after 5 s; data removed), then
 * the lab (namespaces, bridge, and any process still running in them).
 * @returns each member's exit code, read after its process ended.
 */
async function tearDown(): Promise<Record<string, number | null>> {
  try {
    await setup.load?.stop()
    return (await setup.cluster?.stop()) ?? {}
  } finally {
    await setup.lab?.remove()
  }
}

describe('a 3-member cluster with its leader cut off by the network', () => {
  before(async () => {
    const lab = await NetnsLab.create(3, { cutMethod: cutMethodFromEnv() })
    setup.lab = lab
    setup.cluster = await ArborCluster.start({
      size: 3,
      heartbeatIntervalMs,
      electionTimeoutMs,
      extraArgs: ['--request-timeout-ms', String(requestTimeoutMs)],
      placement: (index) => {
        const host = lab.hosts[index]
        assert(host !== undefined)
        return netnsPlacement(lab, host)
      },
    })
    for (const member of setup.cluster.members) {
      const pid = member.pid
      assert(pid !== undefined)
      const exe = realpathSync(readlinkSync(`/proc/${pid}/exe`))
      assert.equal(exe, realpathSync(process.execPath), `pid ${pid} of ${member.name} is node itself (ip netns exec execs into it)`)
    }
  })
  after(async () => {
    const codes = await tearDown()
    const output = setup.cluster?.output() ?? ''
    for (const [name, code] of Object.entries(codes)) assert.equal(code, 0, `${name} exit code\n${output}`)
  })

  test('cut off from both followers under 16 writers, the old leader loses the majority: the other two elect a new leader that serves writes and quorum reads', async (t) => {
    const lab = setup.lab
    assert(lab !== undefined)
    const cluster = theCluster()
    const oldLeader = await cluster.waitForLeader(cluster.members, waitMs)
    const majority = cluster.members.filter((m) => m !== oldLeader)
    const first = await v2Request(oldLeader.clientUrl, 'PUT', '/v2/keys/before', { form: 'value=1' })
    assert.equal(first.status, 201, first.text)
    const load = new WriteLoad({ prefix: 'load', clients: 16, members: () => majority, requestTimeoutMs: 4_000, quorumReadBack: true })
    setup.load = load
    load.start()
    await sleep(500)

    const oldTerm = await raftTerm(oldLeader)
    const cutAtMs = Date.now()
    for (const member of majority) await lab.cut(hostOf(lab, oldLeader), hostOf(lab, member))
    const newLeader = await cluster.waitForLeader(majority, waitMs)
    const electedAtMs = Date.now()
    partition = { oldLeader, majority, newLeader, electedAtMs }
    const newTerm = await raftTerm(newLeader)
    t.diagnostic(`cut by ${lab.cutMethod} (namespaces ${lab.hosts.map((h) => h.namespace).join(',')}, ${lab.subnet}.0/24): ` +
      `${oldLeader.name} (term ${oldTerm}) cut off; ${newLeader.name} elected by the majority in term ${newTerm} ` +
      `${electedAtMs - cutAtMs} ms after the cut`)
    assert.ok(newTerm > oldTerm, `the majority elected a leader in a new term: ${newLeader.name} is in term ${newTerm}, ${oldLeader.name} led in ${oldTerm}`)

    for (const member of majority) {
      const write = await v2Request(member.clientUrl, 'PUT', `/v2/keys/majority/${member.name}`, { form: 'value=ok' })
      assert.equal(write.status, 201, `write through ${member.name} in the majority: ${write.text}`)
      const read = await v2Request(member.clientUrl, 'GET', '/v2/keys/before?quorum=true')
      assert.equal(read.status, 200, `quorum read on ${member.name} in the majority: ${read.text}`)
      assert.equal(read.json?.node?.value, '1', `quorum read on ${member.name} in the majority: ${read.text}`)
    }
  })

  test('the cut-off old leader refuses a write with 500/300 after the request timeout and a quorum read with 500, and serves plain reads of what it had', async (t) => {
    const { oldLeader, majority } = thePartition()
    const startedAtMs = Date.now()
    const write = await v2Request(oldLeader.clientUrl, 'PUT', '/v2/keys/minority', { form: 'value=lost', timeoutMs: 10_000 })
    const tookMs = Date.now() - startedAtMs
    t.diagnostic(`write through the cut-off ${oldLeader.name}: ${write.status} after ${tookMs} ms: ${write.text.trim()}`)
    assert.equal(write.status, 500, write.text)
    assert.equal(write.json?.errorCode, 300, write.text)
    assert.equal(write.json?.message, 'Raft Internal Error')
    assert.ok(tookMs >= requestTimeoutMs - 100, `the refused write failed after the request timeout, not at once (${tookMs} ms)`)
    assert.ok(tookMs <= requestTimeoutMs + 1_500, `the refused write failed soon after the request timeout (${tookMs} ms)`)

    const quorumRead = await v2Request(oldLeader.clientUrl, 'GET', '/v2/keys/before?quorum=true', { timeoutMs: 10_000 })
    assert.equal(quorumRead.status, 500, `quorum read on the cut-off ${oldLeader.name}: ${quorumRead.text}`)
    assert.equal(quorumRead.json?.errorCode, 300, quorumRead.text)

    const plainRead = await v2Request(oldLeader.clientUrl, 'GET', '/v2/keys/before')
    assert.equal(plainRead.status, 200, `plain read on the cut-off ${oldLeader.name}: ${plainRead.text}`)
    assert.equal(plainRead.json?.node?.value, '1')
    for (const member of majority) {
      const unseen = await v2Request(oldLeader.clientUrl, 'GET', `/v2/keys/majority/${member.name}`)
      assert.equal(unseen.status, 404, `the cut-off ${oldLeader.name} cannot have the majority's write yet: ${unseen.text}`)
    }
    const stats = await theCluster().selfStats(oldLeader)
    t.diagnostic(`${oldLeader.name} says ${stats.state}, leader=${stats.leaderInfo.leader || 'none'}`)
    assert.notEqual(stats.state, 'StateLeader', 'a leader that hears from no quorum steps down (CheckQuorum)')
  })

  test('after the heal the old leader follows, catches up and holds every acknowledged write; the refused write exists nowhere; no quorum read was stale', async (t) => {
    const lab = setup.lab
    assert(lab !== undefined)
    const { oldLeader, majority, electedAtMs } = thePartition()
    const load = theLoad()
    const healedAtMs = Date.now()
    for (const member of majority) await lab.heal(hostOf(lab, oldLeader), hostOf(lab, member))
    const cluster = theCluster()
    const leader = await cluster.waitForLeader(cluster.members, waitMs)
    const followingMs = Date.now() - healedAtMs
    assert.notEqual(leader, oldLeader, 'the old leader does not lead again')
    const oldView = await cluster.selfStats(oldLeader)
    assert.equal(oldView.state, 'StateFollower')
    assert.equal(oldView.leaderInfo.leader, leader.id)
    await sleep(500)
    await load.stop()
    const duringCut = load.ackedVia(majority.map((m) => m.name), electedAtMs, healedAtMs)
    t.diagnostic(`${oldLeader.name} follows ${leader.name} ${followingMs} ms after the heal; ` +
      `${load.acked.size} writes acknowledged (${duringCut.length} while ${oldLeader.name} was cut off, after the election); ` +
      `${load.quorumReadsSeen} quorum reads checked; failures: ${load.failureSummary()}`)
    assert.ok(duringCut.length > 0, 'the majority acknowledged writes while the old leader was cut off')
    assert.deepEqual(load.staleReads.slice(0, 10), [], `${load.staleReads.length} stale quorum reads`)
    assert.ok(load.quorumReadsSeen > 0, 'some quorum reads answered')

    const target = await cluster.etcdIndex(leader)
    const caughtUpMs = await cluster.waitForIndex(oldLeader, target, waitMs)
    t.diagnostic(`${oldLeader.name} reached etcd index ${target} ${caughtUpMs} ms after the writes stopped`)
    for (const member of majority) {
      const read = await v2Request(oldLeader.clientUrl, 'GET', `/v2/keys/majority/${member.name}`)
      assert.equal(read.json?.node?.value, 'ok', `${oldLeader.name} has the majority's write via ${member.name}: ${read.text}`)
    }
    await assertAllPresent(load, oldLeader, false)
    for (const member of cluster.members) {
      await assertAllPresent(load, member, true)
      const refused = await v2Request(member.clientUrl, 'GET', '/v2/keys/minority?quorum=true')
      assert.equal(refused.status, 404, `the write refused in the minority is on ${member.name}: ${refused.text}`)
    }
  })
})
