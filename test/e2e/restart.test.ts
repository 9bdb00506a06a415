/**
 * Goal: a restarted member continues exactly where it stopped, after a clean stop (SIGTERM,
 * exit code 0) and after a SIGKILL: the etcd index continues (no index is reused), a TTL key
 * keeps its expiration time and expires after the restart with an `expire` event that a
 * `waitIndex` watch sees, the event history answers a `waitIndex` in the past with the same
 * event as before, and data larger than one Ready batch (over 1 MiB written at once, with
 * log compaction at `--snapshot-count 100`) is all there.
 *
 * Method: for each way of stopping, one member is started on a fresh data directory, loaded
 * and observed through the HTTP API, stopped, and restarted on the same directory and ports;
 * each test then compares what a client sees after the restart with what it saw before.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { SeededRng } from '../../src/lib/index.js'
import { freePort, removeDir, startArbor, tempDir, type ArborProcess } from '../support/arbor-process.js'

const memberFlags = ['--snapshot-count', '100']
const smallKeys = 600
const smallValueBytes = 1_024
const hugeValues = 3
const hugeValueBytes = 700_000
const writersMax = 64
const ttlSeconds = 3

/** The parts of an etcd v2 node this test reads. */
interface V2Node {
  key: string
  value?: string
  dir?: boolean
  ttl?: number
  expiration?: string
  createdIndex: number
  modifiedIndex: number
  nodes?: V2Node[]
}

/** An etcd v2 answer: status, the index headers and the JSON body. */
interface Answer {
  status: number
  etcdIndex: number
  raftIndex: number
  body: { action?: string; node?: V2Node; prevNode?: V2Node; errorCode?: number }
}

async function call(base: string, method: string, path: string, form?: Record<string, string>): Promise<Answer> {
  const init: RequestInit = { method }
  if (form !== undefined) {
    init.headers = { 'content-type': 'application/x-www-form-urlencoded' }
    init.body = new URLSearchParams(form).toString()
  }
  const response = await fetch(`${base}${path}`, init)
  const text = await response.text()
  return {
    status: response.status,
    etcdIndex: Number(response.headers.get('x-etcd-index')),
    raftIndex: Number(response.headers.get('x-raft-index')),
    body: text === '' ? {} : (JSON.parse(text) as Answer['body']),
  }
}

/** `count` values of `bytes` characters from a seeded rng (letters, so form-encoding is 1:1). */
function values(seed: number, count: number, bytes: number): string[] {
  const rng = new SeededRng(seed)
  return Array.from({ length: count }, () => {
    const first = String.fromCharCode(97 + rng.int(0, 25))
    const second = String.fromCharCode(97 + rng.int(0, 25))
    return (first + second).repeat(Math.ceil(bytes / 2)).slice(0, bytes)
  })
}

/** Runs `tasks` with at most `limit` in flight. */
async function inParallel(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < tasks.length; i = next++) await tasks[i]!()
  }
  await Promise.all(Array.from({ length: limit }, worker))
}

/** What the client saw before the stop. */
interface Before {
  histIndex: number
  histWatch: Answer
  written: Map<string, string>
  ttlNode: V2Node
  ttlSetAtMs: number
  etcdIndex: number
  raftIndex: number
  stopExitCode: number | null
  stopSignal: NodeJS.Signals | null
}

/** Loads a member and observes it; then stops it the given way. */
async function loadAndStop(member: ArborProcess, how: 'SIGTERM' | 'SIGKILL'): Promise<Before> {
  const base = member.clientUrl
  const hist = await call(base, 'PUT', '/v2/keys/r/hist', { value: 'h1' })
  assert.equal(hist.status, 201)
  const histIndex = hist.body.node!.modifiedIndex
  const histWatch = await call(base, 'GET', `/v2/keys/r/hist?wait=true&waitIndex=${histIndex}`)
  assert.equal(histWatch.status, 200)
  const written = new Map<string, string>()
  const small = values(1, smallKeys, smallValueBytes)
  const huge = values(2, hugeValues, hugeValueBytes)
  const tasks = [
    ...huge.map((value, i) => ({ key: `/r/huge/${i}`, value })),
    ...small.map((value, i) => ({ key: `/r/big/${i}`, value })),
  ].map(({ key, value }) => async () => {
    const answer = await call(base, 'PUT', `/v2/keys${key}`, { value })
    assert.equal(answer.status, 201, `PUT ${key}`)
    written.set(key, value)
  })
  await inParallel(tasks, writersMax)
  const ttlSetAtMs = Date.now()
  const ttl = await call(base, 'PUT', '/v2/keys/r/ttl', { value: 't', ttl: String(ttlSeconds) })
  assert.equal(ttl.status, 201)
  const ttlRead = await call(base, 'GET', '/v2/keys/r/ttl')
  assert.equal(ttlRead.status, 200)
  const last = await call(base, 'GET', '/v2/keys/')
  let stopExitCode: number | null = null
  if (how === 'SIGTERM') stopExitCode = await member.stop()
  else await member.kill()
  return {
    histIndex,
    histWatch,
    written,
    ttlNode: ttlRead.body.node!,
    ttlSetAtMs,
    etcdIndex: last.etcdIndex,
    raftIndex: last.raftIndex,
    stopExitCode,
    stopSignal: member.child.signalCode,
  }
}

/** Every node under `root` by key (iterative walk). */
function nodesByKey(root: V2Node): Map<string, V2Node> {
  const out = new Map<string, V2Node>()
  const stack: V2Node[] = [root]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    out.set(node.key, node)
    for (const child of node.nodes ?? []) stack.push(child)
  }
  return out
}

function describeRestart(how: 'SIGTERM' | 'SIGKILL'): void {
  describe(`restart after ${how === 'SIGTERM' ? 'a clean stop (SIGTERM)' : 'SIGKILL'}`, () => {
    let dataDir = ''
    let seen: Before
    let member: ArborProcess | undefined
    let restartedAtMs = 0
    /** The restarted member's client URL. */
    const base = (): string => {
      assert(member !== undefined, 'the member was restarted in before()')
      return member.clientUrl
    }

    before(async () => {
      dataDir = join(tempDir('arbor-restart-'), 'data')
      const clientPort = await freePort()
      const peerPort = await freePort()
      const first = await startArbor({ dataDir, clientPort, peerPort, extraArgs: memberFlags })
      try {
        seen = await loadAndStop(first, how)
      } finally {
        await first.kill()
      }
      member = await startArbor({ dataDir, clientPort, peerPort, extraArgs: memberFlags })
      restartedAtMs = Date.now()
    })
    after(async () => {
      if (member !== undefined) assert.equal(await member.stop(), 0)
      removeDir(join(dataDir, '..'))
    })

    if (how === 'SIGTERM') {
      test('SIGTERM ends the member with exit code 0', () => {
        assert.equal(seen.stopExitCode, 0)
        assert.equal(seen.stopSignal, null)
      })
    }

    test('the etcd and Raft indexes continue: a new write gets an index never used before', async () => {
      const root = await call(base(), 'GET', '/v2/keys/')
      assert.ok(root.etcdIndex >= seen.etcdIndex, `X-Etcd-Index ${root.etcdIndex} < ${seen.etcdIndex} before the stop`)
      assert.ok(root.raftIndex >= seen.raftIndex, `X-Raft-Index ${root.raftIndex} < ${seen.raftIndex} before the stop`)
      const write = await call(base(), 'PUT', '/v2/keys/r/after', { value: 'a' })
      assert.equal(write.status, 201)
      assert.ok(write.body.node!.modifiedIndex > seen.etcdIndex)
      assert.equal(write.body.node!.createdIndex, write.body.node!.modifiedIndex)
      assert.equal(write.etcdIndex, write.body.node!.modifiedIndex)
    })

    test(`a key set with ttl=${ttlSeconds} keeps its expiration and expires after the restart (expire event)`, async () => {
      const now = await call(base(), 'GET', '/v2/keys/r/ttl')
      if (now.status === 200) {
        assert.equal(now.body.node!.expiration, seen.ttlNode.expiration)
        assert.ok(now.body.node!.ttl! <= ttlSeconds)
      } else {
        assert.equal(now.body.errorCode, 100)
      }
      const waitIndex = seen.ttlNode.modifiedIndex + 1
      const event = await call(base(), 'GET', `/v2/keys/r/ttl?wait=true&waitIndex=${waitIndex}`)
      const expiredAtMs = Date.now()
      assert.equal(event.status, 200)
      assert.equal(event.body.action, 'expire')
      assert.equal(event.body.node!.key, '/r/ttl')
      assert.equal(event.body.node!.createdIndex, seen.ttlNode.createdIndex)
      assert.ok(event.body.node!.modifiedIndex > seen.etcdIndex, 'the expiry happened after the restart')
      assert.equal(event.body.prevNode!.value, 't')
      assert.equal(event.body.prevNode!.expiration, seen.ttlNode.expiration)
      const dueMs = seen.ttlSetAtMs + ttlSeconds * 1_000
      assert.ok(expiredAtMs >= dueMs - 1_000, `expired ${dueMs - expiredAtMs} ms early`)
      assert.ok(expiredAtMs <= Math.max(dueMs, restartedAtMs) + 2_000, `expired ${expiredAtMs - dueMs} ms late`)
      const gone = await call(base(), 'GET', '/v2/keys/r/ttl')
      assert.equal(gone.status, 404)
    })

    test('a waitIndex in the past answers after the restart with the same event as before', async () => {
      const again = await call(base(), 'GET', `/v2/keys/r/hist?wait=true&waitIndex=${seen.histIndex}`)
      assert.equal(again.status, 200)
      assert.deepEqual(again.body, seen.histWatch.body)
      assert.equal(again.body.action, 'set')
      assert.equal(again.body.node!.value, 'h1')
    })

    test(`data larger than one batch (${hugeValues} × ${hugeValueBytes} B + ${smallKeys} keys) survives`, async () => {
      const big = await call(base(), 'GET', '/v2/keys/r/big?recursive=true')
      const huge = await call(base(), 'GET', '/v2/keys/r/huge?recursive=true')
      assert.equal(big.status, 200)
      assert.equal(huge.status, 200)
      const nodes = new Map([...nodesByKey(big.body.node!), ...nodesByKey(huge.body.node!)])
      const wrong: string[] = []
      for (const [key, value] of seen.written) {
        if (nodes.get(key)?.value !== value) wrong.push(key)
      }
      assert.equal(seen.written.size, smallKeys + hugeValues)
      assert.deepEqual(wrong, [])
    })
  })
}

describeRestart('SIGTERM')
describeRestart('SIGKILL')
