/**
 * Goal: `arbor snapshot save` copies a member's state while it serves writes; `status` reads
 * the copy back; `restore` makes the data directories of a NEW 3-member cluster holding every
 * key acknowledged before the save began, with its value, createdIndex and modifiedIndex, a
 * cluster ID of its own, its own member list, and accepting writes. A truncated or damaged
 * file is refused by status and restore (exit 1, one line). `--force-new-cluster` makes the
 * survivor of a 3-member cluster that lost two members (SIGKILL) serve alone.
 *
 * Method: real processes (test/support/arbor-cluster.ts); the CLI run from the sources as a
 * child process; bounded writers (count and time) that record each acknowledged node.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ArborCluster, ClusterMember, sleep, v2Request } from '../support/arbor-cluster.js'
import { freePort, removeDir, tempDir } from '../support/arbor-process.js'

const mainTs = resolve(import.meta.dirname, '../../src/cli/main.ts')
const tsxLoader = import.meta.resolve('tsx')

/** Runs `arbor <args>` from the sources; resolves with its exit code and output. */
function arbor(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', tsxLoader, mainTs, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      done({ code, stdout, stderr })
    })
  })
}

interface AckedNode {
  readonly value: string
  readonly createdIndex: number
  readonly modifiedIndex: number
  readonly ackedAtMs: number
  readonly latencyMs: number
}

/** `clients` writers of unique keys under /load, at most `perClient` writes each, until `stop`. */
function startWriters(url: string, clients: number, perClient: number) {
  const acked = new Map<string, AckedNode>()
  let running = true
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let n = 0; running && n < perClient; n++) {
      const key = `/load/${c}/${n}`
      const startedAt = Date.now()
      const reply = await v2Request(url, 'PUT', `/v2/keys${key}`, { form: `value=v${c}.${n}`, timeoutMs: 10_000 }).catch(() => undefined)
      if (reply?.status === 201) {
        const node = reply.json.node
        acked.set(key, { value: node.value, createdIndex: node.createdIndex, modifiedIndex: node.modifiedIndex, ackedAtMs: Date.now(), latencyMs: Date.now() - startedAt })
      }
    }
  })
  return {
    acked,
    stop: async () => {
      running = false
      await Promise.all(loops)
    },
  }
}

async function waitForWrite(url: string, key: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const reply = await v2Request(url, 'PUT', `/v2/keys${key}`, { form: 'value=x', timeoutMs: 2_000 }).catch(() => undefined)
    if (reply?.status === 201 || reply?.status === 200) return
    await sleep(100)
  }
  throw new Error(`no write accepted by ${url} within ${timeoutMs} ms`)
}

const clusters: ArborCluster[] = []
const restored: ClusterMember[] = []
const dirs: string[] = []
after(async () => {
  for (const m of restored) m.signal('SIGKILL')
  await Promise.all(restored.map((m) => m.waitForExit()))
  for (const c of clusters) await c.stop()
  for (const d of dirs) removeDir(d)
})

describe('snapshot save, status and restore', { timeout: 60_000 }, () => {
  test('a save during writes restores into a new 3-member cluster with every write acknowledged before it', async (t) => {
    const source = await ArborCluster.start({ size: 1 })
    clusters.push(source)
    const member = source.members[0]!
    const work = tempDir('arbor-snapshot-')
    dirs.push(work)
    const file = join(work, 'backup.db')
    for (let i = 0; i < 300; i++) await v2Request(member.clientUrl, 'PUT', `/v2/keys/pre/${i}`, { form: `value=${'p'.repeat(500)}` })
    const writers = startWriters(member.clientUrl, 4, 2_000)
    await sleep(300)
    const saveStartedAt = Date.now()
    const before = Number((await v2Request(member.clientUrl, 'GET', '/v2/keys/')).etcdIndex)
    const saved = await arbor(['snapshot', 'save', file, '--endpoints', member.clientUrl])
    const saveEndedAt = Date.now()
    await sleep(300)
    await writers.stop()
    assert.equal(saved.code, 0, saved.stderr)
    assert.match(saved.stdout, /^Snapshot saved at .*backup\.db/)
    const during = [...writers.acked.values()].filter((w) => w.ackedAtMs >= saveStartedAt && w.ackedAtMs <= saveEndedAt)
    assert.ok(during.length > 0, 'the member acknowledged writes while the save ran')
    t.diagnostic(`save took ${saveEndedAt - saveStartedAt} ms; writes during it: ${during.length}, max latency ${Math.max(...during.map((w) => w.latencyMs))} ms`)

    const status = await arbor(['snapshot', 'status', file, '--write-out', 'json'])
    assert.equal(status.code, 0, status.stderr)
    const s = JSON.parse(status.stdout)
    const bytes = readFileSync(file)
    assert.equal(s.totalSize, bytes.length)
    assert.equal(s.hash, createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest('hex'))
    assert.ok(s.etcdIndex >= before, `snapshot etcd index ${s.etcdIndex} < ${before}`)
    assert.equal(s.totalKeys, s.etcdIndex, 'every change created one key')
    assert.ok(s.index > 0 && s.term >= 1)
    const table = await arbor(['snapshot', 'status', file])
    assert.match(table.stdout, new RegExp(`\\| ${s.hash.slice(0, 16)} \\| ${s.index} +\\| ${s.term} +\\| ${s.etcdIndex} +\\| ${s.totalKeys} +\\|`))

    const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()))
    const names = ['r1', 'r2', 'r3']
    const peer = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`
    const initialCluster = names.map((n, i) => `${n}=${peer(i)}`).join(',')
    for (const [i, name] of names.entries()) {
      const r = await arbor(['snapshot', 'restore', file, '--data-dir', join(work, name), '--name', name, '--initial-cluster', initialCluster, '--initial-advertise-peer-urls', peer(i), '--initial-cluster-token', 'restored'])
      assert.equal(r.code, 0, r.stderr)
      const m = new ClusterMember(name, ports[2 * i]!, ports[2 * i + 1]!, join(work, name))
      restored.push(m)
      m.spawn(['--name', name, '--data-dir', m.dataDir, '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
        '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl, '--initial-cluster', initialCluster,
        '--initial-cluster-token', 'restored', '--heartbeat-interval', '50', '--election-timeout', '500'])
    }
    const first = restored[0]!
    await waitForWrite(first.clientUrl, '/after-restore')
    // Every member must be up before it is read: on a loaded machine one may still be starting.
    for (const m of restored) await waitForWrite(m.clientUrl, `/up/${m.name}`)
    const wanted = [...writers.acked].filter(([, w]) => w.ackedAtMs < saveStartedAt)
    assert.ok(wanted.length > 0)
    for (const [key, w] of wanted) {
      const got = await v2Request(restored[1]!.clientUrl, 'GET', `/v2/keys${key}?quorum=true`)
      assert.equal(got.status, 200, key)
      assert.deepEqual(
        { value: got.json.node.value, createdIndex: got.json.node.createdIndex, modifiedIndex: got.json.node.modifiedIndex },
        { value: w.value, createdIndex: w.createdIndex, modifiedIndex: w.modifiedIndex },
        key,
      )
    }
    const oldId = (await v2Request(member.clientUrl, 'GET', '/v2/stats/self')).json.id
    const members = (await v2Request(first.clientUrl, 'GET', '/v2/members')).json.members as { name: string; id: string; peerURLs: string[] }[]
    assert.deepEqual(members.map((m) => m.peerURLs[0]).sort(), [peer(0), peer(1), peer(2)].sort())
    assert.ok(!members.some((m) => m.id === oldId))
    const clusterIdOf = async (url: string) => (await fetch(url + '/v2/members')).headers.get('x-etcd-cluster-id')
    assert.notEqual(await clusterIdOf(first.clientUrl), await clusterIdOf(member.clientUrl))
    const put = await v2Request(restored[2]!.clientUrl, 'PUT', '/v2/keys/new-cluster', { form: 'value=yes' })
    assert.equal(put.status, 201)
    assert.ok(put.json.node.createdIndex > s.etcdIndex, 'the etcd index goes on from the snapshot')

    // Damaged and truncated copies are refused with one line and exit 1.
    const damaged = Buffer.from(bytes)
    damaged[5_000] = damaged[5_000]! ^ 1
    writeFileSync(join(work, 'damaged.db'), damaged)
    writeFileSync(join(work, 'truncated.db'), bytes.subarray(0, 8_192))
    for (const [name, message] of [['damaged.db', /is damaged: its contents hash to sha256/], ['truncated.db', /is truncated or damaged/]] as const) {
      const st = await arbor(['snapshot', 'status', join(work, name)])
      assert.equal(st.code, 1)
      assert.match(st.stderr, message)
      assert.equal(st.stderr.trim().split('\n').length, 1)
      const rs = await arbor(['snapshot', 'restore', join(work, name), '--data-dir', join(work, `x-${name}`)])
      assert.equal(rs.code, 1)
      assert.match(rs.stderr, message)
    }
  })
})

describe('--force-new-cluster', { timeout: 60_000 }, () => {
  test('the survivor of a 3-member cluster that lost two members serves alone with every acknowledged write', async () => {
    const c = await ArborCluster.start({ size: 3 })
    clusters.push(c)
    const leader = await c.waitForLeader()
    const writers = startWriters(leader.clientUrl, 3, 100)
    await sleep(1_000)
    await writers.stop()
    const index = await c.etcdIndex(leader)
    const survivor = c.members.find((m) => m !== leader)!
    await c.waitForIndex(survivor, index)
    for (const m of c.members) if (m !== survivor) await c.kill(m)
    await c.kill(survivor)
    await c.restart(survivor, ['--force-new-cluster'])
    await waitForWrite(survivor.clientUrl, '/alone')
    assert.ok(writers.acked.size > 0)
    for (const [key, w] of writers.acked) {
      const got = await v2Request(survivor.clientUrl, 'GET', `/v2/keys${key}?quorum=true`)
      assert.equal(got.status, 200, key)
      assert.equal(got.json.node.value, w.value)
      assert.equal(got.json.node.modifiedIndex, w.modifiedIndex)
    }
    const members = (await v2Request(survivor.clientUrl, 'GET', '/v2/members')).json.members as { id: string; peerURLs: string[] }[]
    assert.deepEqual(members.map((m) => m.peerURLs), [[survivor.peerUrl]])
    assert.match(survivor.output(), /forced a new one-member cluster/)
  })
})
