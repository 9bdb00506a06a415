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
import { join } from 'node:path'
import { WriteLoad, missingWrites, readValues, sleep, v2Request, type ClusterMember, type SelfStatsSeen } from '../support/arbor-cluster.js'
import { removeDir, tempDir } from '../support/arbor-process.js'
import { NetnsLab, netnsMember, type CutMethod, type NetnsHost } from '../support/netns.js'

const heartbeatIntervalMs = 50
const electionTimeoutMs = 500
const requestTimeoutMs = 1_500
/** Bound of every wait for a leader or for a member to catch up. */
const waitMs = 10_000

/** Everything the tests share; set up in before(), torn down in after(). */
interface Setup {
  lab?: NetnsLab
  dataRoot?: string
  members: ClusterMember[]
  load?: WriteLoad
}
const setup: Setup = { members: [] }

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
  const host = lab.hosts[setup.members.indexOf(member)]
  assert(host !== undefined, `${member.name} has no host`)
  return host
}

/** The flags of member `member` in a cluster of `members`. */
function memberArgs(member: ClusterMember, members: readonly ClusterMember[], token: string): string[] {
  return [
    '--name', member.name,
    '--data-dir', member.dataDir,
    '--listen-client-urls', member.clientUrl,
    '--advertise-client-urls', member.clientUrl,
    '--listen-peer-urls', member.peerUrl,
    '--initial-advertise-peer-urls', member.peerUrl,
    '--initial-cluster', members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', token,
    '--heartbeat-interval', String(heartbeatIntervalMs),
    '--election-timeout', String(electionTimeoutMs),
    '--request-timeout-ms', String(requestTimeoutMs),
    '--log-level', 'info',
  ]
}

/** Polls `GET /health` on `member` until it answers 200 (20 s at most). */
async function waitForHealth(member: ClusterMember): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    assert.ok(member.running, `${member.name} exited (${JSON.stringify(member.exit)}):\n${member.output()}`)
    const reply = await v2Request(member.clientUrl, 'GET', '/health', { timeoutMs: 1_000 }).catch(() => undefined)
    if (reply?.status === 200) return
    await sleep(50)
  }
  assert.fail(`${member.name} did not become healthy within 20 s:\n${member.output()}`)
}

/** `/v2/stats/self` of `member` (1 s at most); records its id. */
async function selfStats(member: ClusterMember): Promise<SelfStatsSeen> {
  const reply = await v2Request(member.clientUrl, 'GET', '/v2/stats/self', { timeoutMs: 1_000 })
  assert.equal(reply.status, 200, `${member.name} /v2/stats/self: ${reply.text}`)
  const stats = reply.json as SelfStatsSeen
  member.id = stats.id
  return stats
}

/**
 * Waits (`waitMs` at most) until one of `among` says StateLeader and all of them name it.
 * @throws with every member's view when that does not happen.
 */
async function waitForLeader(among: readonly ClusterMember[]): Promise<ClusterMember> {
  const deadline = Date.now() + waitMs
  let views: string[] = []
  while (Date.now() < deadline) {
    const seen = await Promise.all(among.map((m) => selfStats(m).catch((error: Error) => error)))
    views = seen.map((s, i) => `${among[i]?.name}: ${s instanceof Error ? s.message : `${s.state} leader=${s.leaderInfo.leader}`}`)
    const leaderId = seen.find((s): s is SelfStatsSeen => !(s instanceof Error) && s.state === 'StateLeader')?.id
    const agreed = leaderId !== undefined && seen.every((s) => !(s instanceof Error) && s.leaderInfo.leader === leaderId)
    const leader = among.find((m) => m.id === leaderId)
    if (agreed && leader !== undefined) return leader
    await sleep(20)
  }
  return assert.fail(`no agreed leader among ${among.map((m) => m.name).join(',')} within ${waitMs} ms: ${views.join('; ')}`)
}

/** `member`'s X-Etcd-Index, from a plain GET of the root. */
async function etcdIndex(member: ClusterMember): Promise<number> {
  return (await v2Request(member.clientUrl, 'GET', '/v2/keys/', { timeoutMs: 2_000 })).etcdIndex
}

/** Polls until `member`'s etcd index reaches `index` (`waitMs` at most); returns the time taken (ms). */
async function waitForIndex(member: ClusterMember, index: number): Promise<number> {
  const startedAtMs = Date.now()
  let seen = NaN
  while (Date.now() - startedAtMs < waitMs) {
    seen = await etcdIndex(member).catch(() => NaN)
    if (seen >= index) return Date.now() - startedAtMs
    await sleep(20)
  }
  return assert.fail(`${member.name} is at etcd index ${seen}, not ${index}, after ${waitMs} ms`)
}

/** Asserts every write `load` acknowledged is on `member`, read with or without quorum. */
async function assertAllPresent(load: WriteLoad, member: ClusterMember, quorum: boolean): Promise<void> {
  const values = await readValues(member, 'load', { quorum })
  const missing = missingWrites(load.acked.values(), values)
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes missing on ${member.name} (quorum=${quorum})`)
}

/**
 * Stops the load, then removes the lab: it sends each member one SIGTERM (a second one would
 * end a member in the middle of its clean stop) and SIGKILL after 5 s. Removes the data.
 * @returns each member's exit code, read after its process ended.
 */
async function tearDown(): Promise<Record<string, number | null>> {
  try {
    await setup.load?.stop()
  } finally {
    await setup.lab?.remove()
    if (setup.dataRoot !== undefined) removeDir(setup.dataRoot)
  }
  return Object.fromEntries(setup.members.map((m) => [m.name, m.exit.code]))
}

describe('a 3-member cluster with its leader cut off by the network', () => {
  before(async () => {
    const lab = await NetnsLab.create(3, { cutMethod: cutMethodFromEnv() })
    setup.lab = lab
    const dataRoot = tempDir('arbor-partition-')
    setup.dataRoot = dataRoot
    setup.members = lab.hosts.map((host) => netnsMember(lab, host, `n${host.index}`, join(dataRoot, `n${host.index}`)))
    const token = `arbor-partition-${process.pid}-${Date.now()}`
    for (const member of setup.members) member.spawn(memberArgs(member, setup.members, token))
    await Promise.all(setup.members.map(waitForHealth))
    for (const member of setup.members) {
      const pid = member.pid
      assert(pid !== undefined)
      const exe = realpathSync(readlinkSync(`/proc/${pid}/exe`))
      assert.equal(exe, realpathSync(process.execPath), `pid ${pid} of ${member.name} is node itself (ip netns exec execs into it)`)
    }
    await waitForLeader(setup.members)
  })
  after(async () => {
    const codes = await tearDown()
    const output = setup.members.map((m) => m.output()).join('\n')
    for (const [name, code] of Object.entries(codes)) assert.equal(code, 0, `${name} exit code\n${output}`)
  })

  test('cut off from both followers under 16 writers, the old leader loses the majority: the other two elect a new leader that serves writes and quorum reads', async (t) => {
    const lab = setup.lab
    assert(lab !== undefined)
    const oldLeader = await waitForLeader(setup.members)
    const majority = setup.members.filter((m) => m !== oldLeader)
    const first = await v2Request(oldLeader.clientUrl, 'PUT', '/v2/keys/before', { form: 'value=1' })
    assert.equal(first.status, 201, first.text)
    const load = new WriteLoad({ prefix: 'load', clients: 16, members: () => majority, requestTimeoutMs: 4_000, quorumReadBack: true })
    setup.load = load
    load.start()
    await sleep(500)

    const cutAtMs = Date.now()
    for (const member of majority) await lab.cut(hostOf(lab, oldLeader), hostOf(lab, member))
    const newLeader = await waitForLeader(majority)
    const electedAtMs = Date.now()
    partition = { oldLeader, majority, newLeader, electedAtMs }
    t.diagnostic(`cut by ${lab.cutMethod} (namespaces ${lab.hosts.map((h) => h.namespace).join(',')}, ${lab.subnet}.0/24): ` +
      `${oldLeader.name} cut off; ${newLeader.name} elected by the majority ${electedAtMs - cutAtMs} ms after the cut`)
    assert.notEqual(newLeader, oldLeader)

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
    const stats = await selfStats(oldLeader)
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
    const leader = await waitForLeader(setup.members)
    const followingMs = Date.now() - healedAtMs
    assert.notEqual(leader, oldLeader, 'the old leader does not lead again')
    const oldView = await selfStats(oldLeader)
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

    const target = await etcdIndex(leader)
    const caughtUpMs = await waitForIndex(oldLeader, target)
    t.diagnostic(`${oldLeader.name} reached etcd index ${target} ${caughtUpMs} ms after the writes stopped`)
    for (const member of majority) {
      const read = await v2Request(oldLeader.clientUrl, 'GET', `/v2/keys/majority/${member.name}`)
      assert.equal(read.json?.node?.value, 'ok', `${oldLeader.name} has the majority's write via ${member.name}: ${read.text}`)
    }
    await assertAllPresent(load, oldLeader, false)
    for (const member of setup.members) {
      await assertAllPresent(load, member, true)
      const refused = await v2Request(member.clientUrl, 'GET', '/v2/keys/minority?quorum=true')
      assert.equal(refused.status, 404, `the write refused in the minority is on ${member.name}: ${refused.text}`)
    }
  })
})
