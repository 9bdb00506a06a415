/**
 * Goal: python-etcd (the `etcd` module, Debian's 0.4.5) works against arbor unchanged:
 * key reads and writes, directories, compare-and-swap, in-order keys, TTLs, watches, its
 * `etcd.Lock` recipe and the cluster views (members, leader, stats, machines).
 *
 * Method: one member is started for the whole file; each test runs one scenario of
 * `python/scenarios.py` (argv: host, port, scenario), which prints what the client saw as
 * JSON, and checks it. The same scenarios were run against etcd 3.4
 * (`/usr/bin/etcd --enable-v2=true`) to fix the expected shapes; only indexes differ, so
 * they are checked relative to each other. The interpreter is the first of `/usr/bin/python3`,
 * `python3`, `python` that can `import etcd` (a pyenv `python3` on PATH may lack it); when
 * none can, every test fails, naming the package to install (Debian's python3-etcd;
 * `.ci/run` installs it).
 */
import { spawn, spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { removeDir, startArbor, type ArborProcess } from '../support/arbor-process.js'

const scriptPath = resolve(import.meta.dirname, 'python/scenarios.py')

/** The first interpreter that can import python-etcd, or undefined. */
const python = ['/usr/bin/python3', 'python3', 'python'].find(
  (candidate) => spawnSync(candidate, ['-c', 'import etcd'], { stdio: 'ignore' }).status === 0,
)
/** Why every test fails when no interpreter here can import python-etcd: the tests are never skipped. */
const notInstalled = "none of /usr/bin/python3, python3, python can import etcd: install Debian's python3-etcd package (.ci/run installs it)"

/** What scenarios.py reports for one EtcdResult. */
interface NodeSeen {
  action: string
  key: string
  value: string | null
  dir: boolean
  newKey: boolean
  ttl: number | null
  hasExpiration: boolean
  createdIndex: number
  modifiedIndex: number
  etcdIndex: number
  prevValue: string | null
}

/** What scenarios.py reports for an etcd exception it expected. */
interface ErrorSeen {
  error: string
  errorCode: number | null
  cause: string | null
}

let member: ArborProcess | undefined

/** Runs one scenario against the member; resolves to its JSON report (60 s at most). */
function runScenario(name: string): Promise<Record<string, unknown>> {
  const arbor = member
  assert(arbor !== undefined, 'the member was started in before()')
  assert(python !== undefined)
  const port = new URL(arbor.clientUrl).port
  const child = spawn(python, [scriptPath, '127.0.0.1', port, name], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise((resolveRun, reject) => {
    child.once('close', (code) => {
      clearTimeout(timer)
      if (code === 0) return resolveRun(JSON.parse(stdout) as Record<string, unknown>)
      const { exitCode, signalCode } = arbor.child
      reject(new Error(`scenario ${name} exited ${code}:\n${stderr}\narbor (exit ${exitCode}, signal ${signalCode}):\n${arbor.output()}`))
    })
  })
}

/** A node the client saw, without its indexes (checked separately). */
function shape(node: unknown): Omit<NodeSeen, 'createdIndex' | 'modifiedIndex' | 'etcdIndex'> {
  const { createdIndex: _c, modifiedIndex: _m, etcdIndex: _e, ...rest } = node as NodeSeen
  return rest
}

function seen(node: unknown): NodeSeen {
  return node as NodeSeen
}

function plain(key: string, value: string | null, action: string, more: Partial<NodeSeen> = {}) {
  return { action, key, value, dir: false, newKey: false, ttl: null, hasExpiration: false, prevValue: null, ...more }
}

function failure(error: string, errorCode: number, cause: string): ErrorSeen {
  return { error, errorCode, cause }
}

describe('python-etcd against one arbor member', () => {
  before(async () => {
    assert(python !== undefined, notInstalled)
    member = await startArbor()
  })
  after(async () => {
    if (member === undefined) return
    assert.equal(await member.stop(), 0)
    removeDir(join(member.dataDir, '..'))
  })

  test('write, read, overwrite, delete and prevExist create/update', async () => {
    const out = await runScenario('kv')
    assert.deepEqual(shape(out.write), plain('/py/kv/a', 'one', 'set', { newKey: true }))
    assert.deepEqual(shape(out.read), plain('/py/kv/a', 'one', 'get'))
    assert.equal(seen(out.read).modifiedIndex, seen(out.write).modifiedIndex)
    assert.deepEqual(shape(out.overwrite), plain('/py/kv/a', 'two', 'set', { prevValue: 'one' }))
    assert.equal(seen(out.overwrite).modifiedIndex, seen(out.write).modifiedIndex + 1)
    assert.equal(seen(out.overwrite).etcdIndex, seen(out.overwrite).modifiedIndex)
    assert.equal(out.getValue, 'two')
    assert.equal(out.containsBefore, true)
    assert.deepEqual(shape(out.delete), plain('/py/kv/a', null, 'delete', { prevValue: 'two' }))
    assert.deepEqual(out.readDeleted, failure('EtcdKeyNotFound', 100, '/py/kv/a'))
    assert.equal(out.containsAfter, false)
    assert.deepEqual(shape(out.create), plain('/py/kv/b', 'x', 'create', { newKey: true }))
    assert.deepEqual(out.createAgain, failure('EtcdAlreadyExist', 105, '/py/kv/b'))
    assert.deepEqual(out.updateMissing, failure('EtcdKeyNotFound', 100, '/py/kv/c'))
    assert.deepEqual(shape(out.update), plain('/py/kv/b', 'x2', 'compareAndSwap', { prevValue: 'x' }))
    assert.equal(out.pop, 'x2')
  })

  test('directories: create, list, recursive leaves, and the dir/file errors', async () => {
    const out = await runScenario('dirs')
    assert.deepEqual(shape(out.mkdir), { ...plain('/py/dirs/d', null, 'set', { newKey: true }), dir: true })
    assert.deepEqual(out.children, [['/py/dirs/d/a', false], ['/py/dirs/d/sub', true]])
    assert.deepEqual(out.leaves, [['/py/dirs/d/a', '1'], ['/py/dirs/d/sub/b', '2']])
    assert.deepEqual(out.deleteDirAsFile, failure('EtcdNotFile', 102, '/py/dirs/d'))
    assert.deepEqual(out.deleteNonEmptyDir, failure('EtcdDirNotEmpty', 108, '/py/dirs/d'))
    assert.deepEqual(out.writeValueOnDir, failure('EtcdNotFile', 102, '/py/dirs/d'))
    assert.deepEqual(out.writeUnderFile, failure('EtcdNotDir', 104, '/py/dirs/d/a'))
    assert.deepEqual(shape(out.deleteRecursive), { ...plain('/py/dirs/d', null, 'delete'), dir: true })
    assert.deepEqual(out.readDeletedDir, failure('EtcdKeyNotFound', 100, '/py/dirs/d'))
  })

  test('compare-and-swap: test_and_set, prevValue, prevIndex; a failed compare raises EtcdCompareFailed', async () => {
    const out = await runScenario('cas')
    assert.deepEqual(shape(out.testAndSet), plain('/py/cas/k', 'b', 'compareAndSwap', { prevValue: 'a' }))
    assert.deepEqual(out.testAndSetFails, failure('EtcdCompareFailed', 101, '[a != b]'))
    assert.deepEqual(shape(out.prevValue), plain('/py/cas/k', 'c', 'compareAndSwap', { prevValue: 'b' }))
    assert.deepEqual(shape(out.prevIndex), plain('/py/cas/k', 'd', 'compareAndSwap', { prevValue: 'c' }))
    const current = seen(out.prevIndex).modifiedIndex
    assert.deepEqual(out.prevIndexFails, failure('EtcdCompareFailed', 101, `[${String(out.staleIndex)} != ${current}]`))
    assert.deepEqual(out.deletePrevValueFails, failure('EtcdCompareFailed', 101, '[zzz != d]'))
    assert.deepEqual(shape(out.deletePrevValue), plain('/py/cas/k', null, 'compareAndDelete', { prevValue: 'd' }))
  })

  test('append creates in-order keys that read back sorted', async () => {
    const out = await runScenario('append')
    const appended = (out.appended as unknown[]).map(seen)
    assert.deepEqual(appended.map((n) => [n.action, n.value, n.newKey]), [
      ['create', 'first', true],
      ['create', 'second', true],
      ['create', 'third', true],
    ])
    for (const node of appended) {
      assert.equal(node.key, `/py/append/q/${String(node.createdIndex).padStart(20, '0')}`)
    }
    assert.deepEqual(out.sortedKeys, appended.map((n) => n.key))
    assert.deepEqual(out.sortedValues, ['first', 'second', 'third'])
  })

  test('a key written with ttl=1 disappears (EtcdKeyNotFound); refresh keeps the value', async () => {
    const out = await runScenario('ttl')
    assert.deepEqual(shape(out.write), plain('/py/ttl/k', 'v', 'set', { newKey: true, ttl: 1, hasExpiration: true }))
    assert.deepEqual(out.gone, failure('EtcdKeyNotFound', 100, '/py/ttl/k'))
    const after = out.goneAfterSeconds as number
    assert.ok(after >= 0.5 && after <= 3, `gone after ${after} s`)
    assert.deepEqual(
      shape(out.refresh),
      plain('/py/ttl/r', 'kept', 'update', { ttl: 60, hasExpiration: true, prevValue: 'kept' }),
    )
    assert.deepEqual(shape(out.afterRefresh), plain('/py/ttl/r', 'kept', 'get', { ttl: 60, hasExpiration: true }))
  })

  test('watch: woken by a write, waitIndex in the past and the future, recursive, timeout', async () => {
    const out = await runScenario('watch')
    assert.equal(out.watcherRegistered, true)
    assert.deepEqual(shape(out.watch), plain('/py/watch/k', 'woken', 'set', { prevValue: 'start' }))
    assert.equal(seen(out.watch).modifiedIndex, out.writtenIndex)
    assert.deepEqual(out.pastWaitIndex, { ...seen(out.watch), etcdIndex: out.writtenIndex })
    assert.equal(out.futureRegistered, true)
    assert.deepEqual(shape(out.futureWaitIndex), plain('/py/watch/k', null, 'delete', { prevValue: 'woken' }))
    assert.equal(seen(out.futureWaitIndex).modifiedIndex, out.futureIndex)
    assert.equal(out.recursiveRegistered, true)
    assert.deepEqual(shape(out.recursive), plain('/py/watch/dir/deep/x', '1', 'set'))
    assert.deepEqual(out.timeout, { error: 'EtcdWatchTimedOut', errorCode: null, cause: null })
  })

  test('etcd.Lock: a second lock waits until the first is released', async () => {
    const out = await runScenario('lock')
    assert.deepEqual(out, {
      firstAcquire: true,
      firstIsAcquired: true,
      secondWatching: true,
      secondDoneBeforeRelease: false,
      secondAcquire: true,
      secondWaitedForRelease: true,
      secondIsAcquired: true,
      firstIsAcquiredAfterRelease: false,
      thirdNonBlocking: false,
      secondIsAcquiredAfterRelease: false,
      lockChildrenLeft: 0,
    })
  })

  test('members, leader, stats, machines and version describe the one member', async () => {
    assert(member !== undefined)
    const out = await runScenario('cluster')
    const members = out.members as Record<string, { id: string; name: string; peerURLs: string[]; clientURLs: string[] }>
    const ids = Object.keys(members)
    assert.equal(ids.length, 1)
    const id = ids[0]!
    const self = { id, name: 'default', peerURLs: [member.peerUrl], clientURLs: [member.clientUrl] }
    assert.deepEqual(members[id], self)
    assert.deepEqual(out.leader, self)
    assert.deepEqual(out.stats, { id, name: 'default', state: 'StateLeader' })
    assert.equal(out.leaderStatsLeader, id)
    assert.deepEqual(out.storeStatsKeys, [
      'compareAndDeleteFail', 'compareAndDeleteSuccess', 'compareAndSwapFail', 'compareAndSwapSuccess',
      'createFail', 'createSuccess', 'deleteFail', 'deleteSuccess', 'expireCount', 'getsFail', 'getsSuccess',
      'setsFail', 'setsSuccess', 'updateFail', 'updateSuccess', 'watchers',
    ])
    assert.deepEqual(out.machines, [member.clientUrl])
    assert.equal(typeof out.version, 'string')
    assert.equal(typeof out.clusterVersion, 'string')
  })
})
