/**
 * Goal: etcd's own command-line client, `etcdctl` in v2 mode (Debian's 3.4 build), works
 * against arbor unchanged: the same stdout, the same exit codes, the same error lines.
 *
 * Method: one member is started for the whole file; each test runs `etcdctl` as a child
 * process (ETCDCTL_API=2, `--endpoints <clientUrl> --no-sync` unless the test is about the
 * member sync) and checks what a user would see. Expected outputs were taken from etcd 3.4
 * (`/usr/bin/etcd --enable-v2=true`) running the same commands; only the indexes differ,
 * and those are read from arbor's own `X-Etcd-Index`. When `etcdctl` is not installed every
 * test fails, naming the package to install (Debian's etcd-client; `.ci/run` installs it).
 */
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { removeDir, startArbor, type ArborProcess } from '../support/arbor-process.js'

/** What one run of `etcdctl` printed and how it ended. */
interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const installed = spawnSync('etcdctl', ['--version'], { env: { ...process.env, ETCDCTL_API: '2' } }).error === undefined
/** Why every test fails when `etcdctl` cannot run here: the tests are never skipped. */
const notInstalled = "etcdctl is not installed: install Debian's etcd-client package (.ci/run installs it)"

let member: ArborProcess | undefined

function arbor(): ArborProcess {
  assert(member !== undefined, 'the member was started in before()')
  return member
}

/** Spawns `etcdctl` (v2 API) against the member; `sync: true` leaves out `--no-sync`. */
function spawnEtcdctl(args: readonly string[], options: { sync?: boolean } = {}) {
  const global = ['--endpoints', arbor().clientUrl, ...(options.sync === true ? [] : ['--no-sync'])]
  const env: NodeJS.ProcessEnv = { ...process.env, ETCDCTL_API: '2' }
  delete env.ETCDCTL_ENDPOINTS
  delete env.ETCDCTL_PEERS
  return spawn('etcdctl', [...global, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Runs `etcdctl` to completion (killed after 10 s). */
function etcdctl(args: readonly string[], options: { sync?: boolean } = {}): Promise<Run> {
  const child = spawnEtcdctl(args, options)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** The member's `X-Etcd-Index` now (from a GET of the root). */
async function etcdIndex(): Promise<number> {
  const response = await fetch(`${arbor().clientUrl}/v2/keys/`)
  await response.text()
  return Number(response.headers.get('x-etcd-index'))
}

/** Waits until the member counts at least `count` watchers (so a write cannot race them). */
async function waitForWatchers(count: number): Promise<void> {
  const deadline = Date.now() + 5_000
  while (Date.now() < deadline) {
    const response = await fetch(`${arbor().clientUrl}/v2/stats/store`)
    const stats = (await response.json()) as { watchers: number }
    if (stats.watchers >= count) return
    await new Promise((r) => setTimeout(r, 20))
  }
  assert.fail(`fewer than ${count} watchers registered within 5 s`)
}

/** Asserts a successful run that printed exactly `stdout`. */
function assertPrinted(run: Run, stdout: string): void {
  assert.deepEqual(run, { code: 0, stdout, stderr: '' })
}

/** Asserts etcdctl's failure shape: exit 4, nothing on stdout, one `Error:` line. */
async function assertError(run: Run, line: string): Promise<void> {
  assert.deepEqual(run, { code: 4, stdout: '', stderr: `Error:  ${line} [${await etcdIndex()}]\n` })
}

describe('etcdctl (API v2) against one arbor member', () => {
  before(async () => {
    assert(installed, notInstalled)
    member = await startArbor()
  })
  after(async () => {
    if (member === undefined) return
    assert.equal(await member.stop(), 0)
    removeDir(join(member.dataDir, '..'))
  })

  test('set prints the value and get reads it back', async () => {
    assertPrinted(await etcdctl(['set', '/e/a', '1']), '1\n')
    assertPrinted(await etcdctl(['get', '/e/a']), '1\n')
  })

  test('get without --no-sync first syncs the member list, then reads', async () => {
    assertPrinted(await etcdctl(['get', '/e/a'], { sync: true }), '1\n')
  })

  test('get of a missing key exits 4 with "100: Key not found"', async () => {
    await assertError(await etcdctl(['get', '/e/missing']), '100: Key not found (/e/missing)')
  })

  test('mk creates a key; mk on an existing key exits 4 with "105: Key already exists"', async () => {
    assertPrinted(await etcdctl(['mk', '/x', '1']), '1\n')
    await assertError(await etcdctl(['mk', '/x', '2']), '105: Key already exists (/x)')
    assertPrinted(await etcdctl(['get', '/x']), '1\n')
  })

  test('mk --in-order creates sequential keys under a directory', async () => {
    assertPrinted(await etcdctl(['mk', '--in-order', '/e/queue', 'first']), 'first\n')
    assertPrinted(await etcdctl(['mk', '--in-order', '/e/queue', 'second']), 'second\n')
    const listed = await etcdctl(['ls', '--sort', '/e/queue'])
    assert.equal(listed.code, 0)
    const keys = listed.stdout.trimEnd().split('\n')
    assert.equal(keys.length, 2)
    for (const key of keys) assert.match(key, /^\/e\/queue\/\d{20}$/)
    assert.ok(keys[0]! < keys[1]!)
    assertPrinted(await etcdctl(['get', keys[0]!]), 'first\n')
    assertPrinted(await etcdctl(['get', keys[1]!]), 'second\n')
  })

  test('mkdir creates a directory; again exits 4 with "105: Key already exists"', async () => {
    assertPrinted(await etcdctl(['mkdir', '/e/dir']), '')
    await assertError(await etcdctl(['mkdir', '/e/dir']), '105: Key already exists (/e/dir)')
    assertPrinted(await etcdctl(['ls', '--sort', '-p', '/e']), '/e/a\n/e/dir/\n/e/queue/\n')
  })

  test('update changes an existing key; on a missing key exits 4 with "100: Key not found"', async () => {
    assertPrinted(await etcdctl(['update', '/e/a', '2']), '2\n')
    assertPrinted(await etcdctl(['get', '/e/a']), '2\n')
    await assertError(await etcdctl(['update', '/e/nope', '2']), '100: Key not found (/e/nope)')
  })

  test('rm prints the previous value; rm of a directory exits 4 with "102: Not a file"', async () => {
    assertPrinted(await etcdctl(['rm', '/e/a']), 'PrevNode.Value: 2\n')
    await assertError(await etcdctl(['get', '/e/a']), '100: Key not found (/e/a)')
    await assertError(await etcdctl(['rm', '/e/dir']), '102: Not a file (/e/dir)')
    await assertError(await etcdctl(['rm', '/e/a']), '100: Key not found (/e/a)')
  })

  test('rmdir removes an empty directory and refuses a non-empty one with "108"', async () => {
    assertPrinted(await etcdctl(['set', '/e/full/k', 'v']), 'v\n')
    await assertError(await etcdctl(['rmdir', '/e/full']), '108: Directory not empty (/e/full)')
    assertPrinted(await etcdctl(['rmdir', '/e/dir']), '')
    await assertError(await etcdctl(['ls', '/e/dir']), '100: Key not found (/e/dir)')
    assertPrinted(await etcdctl(['rm', '--recursive', '/e/full']), '')
    await assertError(await etcdctl(['ls', '/e/full']), '100: Key not found (/e/full)')
  })

  test('ls --recursive lists the whole subtree; --sort orders it; -p marks directories', async () => {
    for (const key of ['/l/b', '/l/a', '/l/c/z', '/l/c/y', '/l/d/e/f']) {
      assertPrinted(await etcdctl(['set', key, 'v']), 'v\n')
    }
    const sorted = ['/l/a', '/l/b', '/l/c', '/l/c/y', '/l/c/z', '/l/d', '/l/d/e', '/l/d/e/f']
    assertPrinted(await etcdctl(['ls', '--sort', '--recursive', '/l']), sorted.join('\n') + '\n')
    const unsorted = await etcdctl(['ls', '--recursive', '/l'])
    assert.equal(unsorted.code, 0)
    assert.deepEqual(unsorted.stdout.trimEnd().split('\n').sort(), sorted)
    assertPrinted(await etcdctl(['ls', '--sort', '-p', '/l']), '/l/a\n/l/b\n/l/c/\n/l/d/\n')
    assertPrinted(await etcdctl(['ls', '--sort', '/l/c']), '/l/c/y\n/l/c/z\n')
  })

  test('set --ttl shows the TTL in extended output, and the key expires', async () => {
    assertPrinted(await etcdctl(['set', '--ttl', '5', '/e/ttl5', 'v']), 'v\n')
    const extended = await etcdctl(['-o', 'extended', 'get', '/e/ttl5'])
    assert.equal(extended.code, 0)
    assert.match(extended.stdout, /^Key: \/e\/ttl5\nCreated-Index: \d+\nModified-Index: \d+\nTTL: [45]\nIndex: \d+\n\nv\n$/)
    assertPrinted(await etcdctl(['set', '--ttl', '1', '/e/ttl1', 'v']), 'v\n')
    const deadline = Date.now() + 5_000
    let last = await etcdctl(['get', '/e/ttl1'])
    while (last.code === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      last = await etcdctl(['get', '/e/ttl1'])
    }
    await assertError(last, '100: Key not found (/e/ttl1)')
  })

  test('set --swap-with-value swaps on a match and exits 4 with "101: Compare failed" otherwise', async () => {
    assertPrinted(await etcdctl(['set', '/e/s', 'old']), 'old\n')
    assertPrinted(await etcdctl(['set', '--swap-with-value', 'old', '/e/s', 'new']), 'new\n')
    await assertError(await etcdctl(['set', '--swap-with-value', 'old', '/e/s', 'newer']), '101: Compare failed ([old != new])')
    assertPrinted(await etcdctl(['get', '/e/s']), 'new\n')
  })

  test('set --swap-with-index swaps on the current index only', async () => {
    const json = await etcdctl(['-o', 'json', 'get', '/e/s'])
    const index = (JSON.parse(json.stdout) as { node: { modifiedIndex: number } }).node.modifiedIndex
    await assertError(
      await etcdctl(['set', '--swap-with-index', String(index - 1), '/e/s', 'x']),
      `101: Compare failed ([${index - 1} != ${index}])`,
    )
    assertPrinted(await etcdctl(['set', '--swap-with-index', String(index), '/e/s', 'x']), 'x\n')
  })

  test('-o json prints the same node as the HTTP API', async () => {
    const run = await etcdctl(['-o', 'json', 'get', '/e/s'])
    assert.equal(run.code, 0)
    const response = await fetch(`${arbor().clientUrl}/v2/keys/e/s`)
    const body = (await response.json()) as { node: Record<string, unknown> }
    assert.deepEqual(JSON.parse(run.stdout), { action: 'get', node: { ...body.node, nodes: null }, prevNode: null })
  })

  test('watch waits for the next change, prints the new value and exits', async () => {
    const child = spawnEtcdctl(['watch', '/e/w'])
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await waitForWatchers(1)
    assertPrinted(await etcdctl(['set', '/e/w', 'woken']), 'woken\n')
    assert.equal(await exited, 0)
    clearTimeout(timer)
    assert.equal(stdout, 'woken\n')
  })

  test('watch --after-index answers at once from the event history', async () => {
    assertPrinted(await etcdctl(['set', '/e/h', 'first']), 'first\n')
    assertPrinted(await etcdctl(['set', '/e/h', 'second']), 'second\n')
    const index = await etcdIndex()
    assertPrinted(await etcdctl(['watch', '--after-index', String(index - 2), '/e/h']), 'first\n')
    assertPrinted(await etcdctl(['watch', '--after-index', String(index - 1), '/e/h']), 'second\n')
  })

  test('watch --recursive wakes on a change below the directory', async () => {
    const child = spawnEtcdctl(['watch', '--recursive', '/e/tree'])
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await waitForWatchers(1)
    assertPrinted(await etcdctl(['set', '/e/tree/deep/k', 'leaf']), 'leaf\n')
    assert.equal(await exited, 0)
    clearTimeout(timer)
    assert.equal(stdout, '[set] /e/tree/deep/k\nleaf\n')
  })

  test('member list shows the one member as leader with its URLs', async () => {
    const response = await fetch(`${arbor().clientUrl}/v2/members`)
    const { members } = (await response.json()) as { members: { id: string }[] }
    assert.equal(members.length, 1)
    const id = members[0]!.id
    assertPrinted(
      await etcdctl(['member', 'list']),
      `${id}: name=default peerURLs=${arbor().peerUrl} clientURLs=${arbor().clientUrl} isLeader=true\n`,
    )
  })

  test('cluster-health reports the member and the cluster healthy', async () => {
    const response = await fetch(`${arbor().clientUrl}/v2/members`)
    const { members } = (await response.json()) as { members: { id: string }[] }
    const id = members[0]!.id
    assertPrinted(
      await etcdctl(['cluster-health']),
      `member ${id} is healthy: got healthy result from ${arbor().clientUrl}\ncluster is healthy\n`,
    )
  })
})
