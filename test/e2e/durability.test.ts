/**
 * Goal: an acknowledged write is never lost. A member answers 2xx to a write only after it
 * applied the write's log entry, and that entry was committed to SQLite with an fsync by the
 * loop turn that appended it (src/server/durability.ts: a turn that appends entries, installs
 * a snapshot or changes the term or vote commits durably; a turn that only moves the commit
 * index and applies entries commits without an fsync, since a restart rebuilds the applied
 * state from the durable log). So a SIGKILL at any moment loses only writes nobody was told
 * about, and the etcd index never goes backwards. A SIGKILL ends the process, not the
 * machine: what SQLite committed reaches the disk through the kernel with or without an
 * fsync, so this test shows that nothing acknowledged lived only in the process (in memory
 * or in an open transaction) and that a restart replays the log; it does not simulate a
 * power cut.
 *
 * Method: 20 rounds on one data directory and one pair of ports. Each round (re)starts the
 * member, checks everything acknowledged in all earlier rounds, then runs 32 concurrent
 * clients (undici) doing PUTs of unique keys /d/<round>/<client>/<n>, POSTs of in-order
 * keys under /q/<round>, and compare-and-swap increments of /counter, and SIGKILLs the
 * member at a moment drawn from a seeded rng: 0–400 ms after the round's first acknowledged
 * PUT. A last restart checks the last round, then SIGTERM must exit 0. `--snapshot-count 500` makes log
 * compaction happen during the rounds, so restarts also start from a compacted log.
 * Per-round numbers are printed as test diagnostics.
 */
import { after, before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Pool } from 'undici'
import { SeededRng, type Rng } from '../../src/lib/index.js'
import { freePort, removeDir, startArbor, tempDir, type ArborProcess } from '../support/arbor-process.js'

const seed = 0x5eed_d0ab
const rounds = 20
const clientsPerRound = 32
const killAfterMsMin = 0
const killAfterMsMax = 400
const memberFlags = ['--snapshot-count', '500']

/** A write that got a 2xx answer: what must be readable after any restart. */
interface Acked {
  readonly value: string
  readonly modifiedIndex: number
}

/** Everything the clients were told, over all rounds so far. */
interface Ledger {
  readonly acked: Map<string, Acked>
  /** Compare-and-swap increments of /counter answered 2xx. */
  casAcked: number
  /** Increments sent at all (an upper bound for the counter). */
  casSent: number
  /** Highest `node.value` of /counter in an acknowledged increment. */
  casHighestValue: number
  /** Highest X-Etcd-Index in any answer (each counts applied entries, whose log entries are durable). */
  highestIndexSeen: number
}

/** What one round's clients saw. */
interface RoundLoad {
  puts: number
  posts: number
  casAcked: number
  casRefused: number
  /** Failures that are not explained by the kill: each is a bug. */
  readonly unexpected: string[]
  /** X-Etcd-Index going backwards on one client's sequence of answers: each is a bug. */
  readonly backwards: string[]
  killing: boolean
}

/** The parts of an etcd v2 node this test reads. */
interface V2Node {
  key: string
  value?: string
  dir?: boolean
  modifiedIndex: number
  nodes?: V2Node[]
}

const rng = new SeededRng(seed)
const killDelaysMs = Array.from({ length: rounds }, () => rng.int(killAfterMsMin, killAfterMsMax))
const ledger: Ledger = { acked: new Map(), casAcked: 0, casSent: 0, casHighestValue: 0, highestIndexSeen: 0 }
let dataDir = ''
let clientPort = 0
let peerPort = 0

/** Starts (or restarts) the member on the shared data dir and ports; returns it and the time taken. */
async function startMember(): Promise<{ member: ArborProcess; restartMs: number }> {
  const startedAt = Date.now()
  const member = await startArbor({ dataDir, clientPort, peerPort, extraArgs: memberFlags })
  return { member, restartMs: Date.now() - startedAt }
}

/** Every node under `root` by key (iterative walk, parents before children). */
function nodesByKey(root: V2Node): Map<string, V2Node> {
  const out = new Map<string, V2Node>()
  const stack: V2Node[] = [root]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    out.set(node.key, node)
    for (const child of node.nodes ?? []) stack.push(child)
  }
  return out
}

/** GET `path` recursively; an absent directory reads as empty. */
async function readTree(member: ArborProcess, path: string): Promise<{ nodes: Map<string, V2Node>; index: number }> {
  const response = await fetch(`${member.clientUrl}/v2/keys${path}?recursive=true`)
  const index = Number(response.headers.get('x-etcd-index'))
  if (response.status === 404) {
    await response.text()
    return { nodes: new Map(), index }
  }
  assert.equal(response.status, 200)
  const body = (await response.json()) as { node: V2Node }
  return { nodes: nodesByKey(body.node), index }
}

/** Checks that every acknowledged write, the counter and the index survived the restart. */
async function verifyLedger(member: ArborProcess): Promise<{ index: number }> {
  const d = await readTree(member, '/d')
  const q = await readTree(member, '/q')
  const counter = await readTree(member, '/counter')
  const missing: string[] = []
  for (const [key, want] of ledger.acked) {
    const got = d.nodes.get(key) ?? q.nodes.get(key)
    if (got === undefined || got.value !== want.value || got.modifiedIndex !== want.modifiedIndex) {
      missing.push(`${key}: want ${JSON.stringify(want)}, got ${JSON.stringify(got ?? null)}`)
    }
  }
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes lost or changed`)
  const value = Number(counter.nodes.get('/counter')?.value)
  assert.ok(value >= ledger.casAcked, `counter ${value} < ${ledger.casAcked} acknowledged increments`)
  assert.ok(value >= ledger.casHighestValue, `counter ${value} < acknowledged value ${ledger.casHighestValue}`)
  assert.ok(value <= ledger.casSent, `counter ${value} > ${ledger.casSent} increments ever sent`)
  const index = Math.min(d.index, q.index, counter.index)
  assert.ok(index >= ledger.highestIndexSeen, `X-Etcd-Index went back from ${ledger.highestIndexSeen} to ${index}`)
  return { index }
}

/** One request; records the X-Etcd-Index it answered with for the monotonic check. */
async function send(
  pool: Pool,
  load: RoundLoad,
  lastIndex: { value: number },
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  form?: string,
): Promise<{ status: number; body: { node?: V2Node } }> {
  const response = await pool.request({
    method,
    path,
    headers: form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  })
  const text = await response.body.text()
  const index = Number(response.headers['x-etcd-index'])
  if (index < lastIndex.value) load.backwards.push(`${method} ${path}: ${lastIndex.value} then ${index}`)
  lastIndex.value = Math.max(lastIndex.value, index)
  ledger.highestIndexSeen = Math.max(ledger.highestIndexSeen, index)
  return { status: response.statusCode, body: JSON.parse(text) as { node?: V2Node } }
}

/** Records an acknowledged write's index as seen. */
function noteAcked(key: string, node: V2Node | undefined): void {
  assert(node !== undefined)
  assert(node.value !== undefined)
  ledger.acked.set(key, { value: node.value, modifiedIndex: node.modifiedIndex })
  ledger.highestIndexSeen = Math.max(ledger.highestIndexSeen, node.modifiedIndex)
}

/** One client: a random mix of writes until the member dies. */
async function runClient(pool: Pool, load: RoundLoad, round: number, clientNo: number): Promise<void> {
  const clientRng: Rng = new SeededRng(seed ^ (round * 1_000 + clientNo))
  const lastIndex = { value: 0 }
  for (let n = 0; ; n++) {
    const dice = clientRng.next()
    try {
      if (dice < 0.8) {
        const key = `/d/${round}/${clientNo}/${n}`
        const value = `v${round}.${clientNo}.${n}`
        const { status, body } = await send(pool, load, lastIndex, 'PUT', `/v2/keys${key}`, `value=${value}`)
        if (status !== 201) load.unexpected.push(`PUT ${key}: ${status}`)
        else {
          noteAcked(key, body.node)
          load.puts += 1
        }
      } else if (dice < 0.9) {
        const value = `p${round}.${clientNo}.${n}`
        const { status, body } = await send(pool, load, lastIndex, 'POST', `/v2/keys/q/${round}`, `value=${value}`)
        if (status !== 201 || body.node === undefined) load.unexpected.push(`POST /q/${round}: ${status}`)
        else {
          noteAcked(body.node.key, body.node)
          load.posts += 1
        }
      } else {
        await casIncrement(pool, load, lastIndex)
      }
    } catch (error) {
      if (!load.killing) load.unexpected.push(`client ${clientNo}: ${(error as Error).message}`)
      return
    }
  }
}

/** Reads /counter and writes value+1 with prevIndex; a lost race (412) is normal. */
async function casIncrement(pool: Pool, load: RoundLoad, lastIndex: { value: number }): Promise<void> {
  const read = await send(pool, load, lastIndex, 'GET', '/v2/keys/counter')
  if (read.status !== 200 || read.body.node === undefined) {
    load.unexpected.push(`GET /counter: ${read.status}`)
    return
  }
  const next = Number(read.body.node.value) + 1
  ledger.casSent += 1
  const path = `/v2/keys/counter?prevIndex=${read.body.node.modifiedIndex}`
  const { status, body } = await send(pool, load, lastIndex, 'PUT', path, `value=${next}`)
  if (status === 412) {
    load.casRefused += 1
    return
  }
  if (status !== 200 || body.node === undefined) {
    load.unexpected.push(`CAS /counter: ${status}`)
    return
  }
  load.casAcked += 1
  ledger.casAcked += 1
  ledger.casHighestValue = Math.max(ledger.casHighestValue, Number(body.node.value))
  ledger.highestIndexSeen = Math.max(ledger.highestIndexSeen, body.node.modifiedIndex)
}

/**
 * Runs the load on `member` and SIGKILLs it `killAfterMs` after the first acknowledged
 * write (counting from the first answer, not from the start, so that a slow start on a busy
 * machine cannot leave a round with nothing to check).
 */
async function loadThenKill(member: ArborProcess, round: number, killAfterMs: number): Promise<RoundLoad> {
  const load: RoundLoad = { puts: 0, posts: 0, casAcked: 0, casRefused: 0, unexpected: [], backwards: [], killing: false }
  const pool = new Pool(member.clientUrl, {
    connections: clientsPerRound,
    pipelining: 1,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
    keepAliveTimeout: 10_000,
  })
  const clients = Array.from({ length: clientsPerRound }, (_, c) => runClient(pool, load, round, c))
  const firstAckDeadline = Date.now() + 10_000
  while (load.puts === 0 && Date.now() < firstAckDeadline) await new Promise((r) => setTimeout(r, 5))
  await new Promise((r) => setTimeout(r, killAfterMs))
  load.killing = true
  await member.kill()
  await Promise.all(clients)
  await pool.destroy()
  return load
}

describe(`durability: ${rounds} rounds of SIGKILL under a write load (seed ${seed})`, () => {
  before(async () => {
    dataDir = join(tempDir('arbor-durability-'), 'data')
    clientPort = await freePort()
    peerPort = await freePort()
    const { member } = await startMember()
    after(() => member.kill())
    const response = await fetch(`${member.clientUrl}/v2/keys/counter`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'value=0',
    })
    assert.equal(response.status, 201)
    await response.text()
    assert.equal(await member.stop(), 0)
  })
  after(() => removeDir(join(dataDir, '..')))

  for (let round = 0; round < rounds; round++) {
    const killAfterMs = killDelaysMs[round]!
    test(`round ${round + 1}: earlier acknowledged writes survived; SIGKILL ${killAfterMs} ms after the first acknowledged write`, async (t: TestContext) => {
      const { member, restartMs } = await startMember()
      t.after(() => member.kill())
      const { index } = await verifyLedger(member)
      const load = await loadThenKill(member, round, killAfterMs)
      t.diagnostic(
        `round ${round + 1}: restart ${restartMs} ms, index ${index} after restart; ` +
          `acked ${load.puts} PUTs, ${load.posts} POSTs, ${load.casAcked} CAS (${load.casRefused} lost races); ` +
          `${ledger.acked.size} acked keys in total`,
      )
      assert.deepEqual(load.unexpected, [])
      assert.deepEqual(load.backwards, [])
      assert.ok(load.puts > 0, 'the load acknowledged no write before the kill')
    })
  }

  test('a restart after the last round has every acknowledged write, and SIGTERM exits 0', async (t: TestContext) => {
    const { member, restartMs } = await startMember()
    t.after(() => member.kill())
    const { index } = await verifyLedger(member)
    t.diagnostic(`final restart ${restartMs} ms, index ${index}, ${ledger.acked.size} acked keys, counter ≥ ${ledger.casAcked}`)
    assert.equal(await member.stop(), 0)
  })
})
