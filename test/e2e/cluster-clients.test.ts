/**
 * Goal: python-etcd (Debian's 0.4.5), given every member of a 3-member arbor cluster and
 * `allow_reconnect=True`, keeps writing when the member it talks to — the leader — is
 * SIGKILLed: it moves to another member (from its host list and `/v2/machines`), and each
 * write succeeds, at worst after a few retries of the application's own.
 *
 * Method: a cluster of real processes (test/support/arbor-cluster.ts, `--heartbeat-interval
 * 50 --election-timeout 500 --request-timeout-ms 1500`). A Python script (below) builds
 * `etcd.Client(host=((ip, p1), (ip, p2), (ip, p3)), allow_reconnect=True, protocol='http')`
 * with the leader first, so that it talks to the leader, and writes /py/0 .. /py/N-1 in
 * order, retrying a write that raised an `etcd.EtcdException` (a refused connection once
 * every member was tried, or 300 when a write forwarded to the dead leader timed out), and
 * prints one JSON line per write. After 30 writes the leader is SIGKILLed. Every write must
 * succeed and be readable on both survivors. The interpreter is the first of
 * `/usr/bin/python3`, `python3`, `python` that can `import etcd`; when none can, the test
 * fails, naming the package to install (Debian's python3-etcd; `.ci/run` installs it).
 */
import { spawn, spawnSync } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ArborCluster, readValues } from '../support/arbor-cluster.js'

/** The first interpreter that can import python-etcd, or undefined. */
const python = ['/usr/bin/python3', 'python3', 'python'].find(
  (candidate) => spawnSync(candidate, ['-c', 'import etcd'], { stdio: 'ignore' }).status === 0,
)
/** Why every test fails when no interpreter here can import python-etcd: the tests are never skipped. */
const notInstalled = "none of /usr/bin/python3, python3, python can import etcd: install Debian's python3-etcd package (.ci/run installs it)"

const writes = 150
const killAfterWrites = 30
/** A retried write gives up after this long (s); the test then fails with the script's error. */
const writeGiveUpSeconds = 20

/** argv: comma-separated client ports (leader first), number of writes, give-up seconds. */
const script = `
import etcd, json, sys, time
ports = [int(p) for p in sys.argv[1].split(',')]
count, give_up = int(sys.argv[2]), float(sys.argv[3])
client = etcd.Client(host=tuple(('127.0.0.1', p) for p in ports), allow_reconnect=True,
                     protocol='http', read_timeout=5)
for n in range(count):
    started, errors = time.time(), []
    while True:
        try:
            result = client.write('/py/%d' % n, 'v%d' % n)
            break
        except etcd.EtcdException as e:
            errors.append('%s: %s' % (type(e).__name__, str(e)[:160]))
            if time.time() - started > give_up:
                raise
            time.sleep(0.05)
    print(json.dumps({'n': n, 'value': result.value, 'errors': errors,
                      'ms': round((time.time() - started) * 1000), 'via': client.base_uri}), flush=True)
`

/** One line the script printed. */
interface WriteSeen {
  n: number
  value: string
  errors: string[]
  ms: number
  via: string
}

let cluster: ArborCluster | undefined

describe('python-etcd against a 3-member cluster', () => {
  before(async () => {
    assert(python !== undefined, notInstalled)
    cluster = await ArborCluster.start({
      size: 3,
      heartbeatIntervalMs: 50,
      electionTimeoutMs: 500,
      extraArgs: ['--request-timeout-ms', '1500'],
    })
  })
  after(async () => {
    if (cluster !== undefined) await cluster.stop()
  })

  test('a client with allow_reconnect keeps writing when the leader it talks to is SIGKILLed', async (t) => {
    const c = cluster
    assert(c !== undefined && python !== undefined)
    const leader = await c.waitForLeader()
    const ordered = [leader, ...c.members.filter((m) => m !== leader)]
    const child = spawn(python, ['-c', script, ordered.map((m) => m.clientPort).join(','), String(writes), String(writeGiveUpSeconds)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const seen: WriteSeen[] = []
    let stderr = ''
    let pending = ''
    let killing: Promise<void> | undefined
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) seen.push(JSON.parse(line) as WriteSeen)
      if (killing === undefined && seen.length >= killAfterWrites) killing = c.kill(leader)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    clearTimeout(timer)
    await killing
    const afterKill = seen.slice(killAfterWrites)
    const retried = afterKill.filter((w) => w.errors.length > 0)
    t.diagnostic(`${seen.length} writes; after the kill of ${leader.name}: ${retried.length} needed retries, ` +
      `slowest ${Math.max(...afterKill.map((w) => w.ms))} ms; now via ${seen.at(-1)?.via}; ` +
      `errors seen: ${JSON.stringify([...new Set(retried.flatMap((w) => w.errors))].slice(0, 5))}`)
    assert.equal(code, 0, `python exited ${code}:\n${stderr}`)
    assert.notEqual(killing, undefined, 'the leader was killed')
    assert.equal(leader.running, false)
    assert.deepEqual(seen.map((w) => w.n), Array.from({ length: writes }, (_, n) => n))
    for (const write of seen) assert.equal(write.value, `v${write.n}`)
    assert.notEqual(seen.at(-1)?.via, leader.clientUrl, 'the client moved to a survivor')
    for (const member of c.members.filter((m) => m !== leader)) {
      const values = await readValues(member, 'py', { quorum: true })
      const missing = seen.filter((w) => values.get(`/py/${w.n}`) !== `v${w.n}`).map((w) => w.n)
      assert.deepEqual(missing, [], `writes missing on ${member.name}`)
    }
  })
})
