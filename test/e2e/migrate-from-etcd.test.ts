/**
 * Goal: `arbor migrate` copies a running etcd 3.4's v2 tree into a running arbor — 10,000
 * keys, directories, empty directories, hidden keys (named with `--hidden`), TTLs as the time
 * left — reports its counts, verifies the copy, and is safe to run again: a second run writes
 * nothing, and after changes on the source a third run writes only those; a key deleted on
 * the source stays on the target and is counted as "only on the target".
 *
 * Method: a private etcd (`etcd --enable-v2=true`, Debian's etcd-server) and a one-member
 * arbor on free ports; etcd is loaded over plain HTTP with 32 writes in flight; after each
 * run both trees are read back with recursive GETs (hidden nodes one by one) and compared.
 * When etcd is not installed every test fails, naming the package.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { removeDir, startArbor, type ArborProcess } from '../support/arbor-process.js'
import { putAll, readNode, readTree, runArbor, treeDifferences } from '../support/arbor-cli.js'
import { etcdBinary, startEtcd, type ServerHandle } from '../conformance/servers.js'

const installed = spawnSync(etcdBinary, ['--version']).error === undefined
/** Why every test fails when etcd cannot run here: the tests are never skipped. */
const notInstalled = `${etcdBinary} is not installed: install Debian's etcd-server package (.ci/run installs it)`

const bulkKeys = 10_000
const bulkDirs = 100
const hidden = ['/_top', '/_hdir', '/app/_secret']

const tree: { key: string; form: Record<string, string> }[] = [
  { key: '/app/config/name', form: { value: 'arbor' } },
  { key: '/app/config/multi', form: { value: 'line one\nline two ü 日本' } },
  { key: '/app/a b?c#d%e', form: { value: 'special' } },
  { key: '/empty', form: { dir: 'true' } },
  { key: '/app/nested/empty', form: { dir: 'true' } },
  { key: '/ttl/a', form: { value: 'expires', ttl: '600' } },
  { key: '/ttl/b', form: { value: 'expires too', ttl: '900' } },
  { key: '/ttl-dir', form: { dir: 'true', ttl: '600' } },
  { key: '/ttl-dir/child', form: { value: 'c' } },
  { key: '/_top', form: { value: 'hidden at the root' } },
  { key: '/_hdir/x', form: { value: 'x' } },
  { key: '/_hdir/sub/y', form: { value: 'y' } },
  { key: '/app/_secret', form: { value: 's3cret' } },
]
/** Keys and directories of `tree` (visible and hidden), counted as migrate counts them. */
const treeKeys = 10
const treeDirs = 10 // /app /app/config /empty /app/nested /app/nested/empty /ttl /ttl-dir /_hdir /_hdir/sub, and /bulk
const treeWithTtl = 3

function* bulk(): Generator<{ key: string; form: Record<string, string> }> {
  for (let i = 0; i < bulkKeys; i++) yield { key: `/bulk/d${String(i % bulkDirs).padStart(2, '0')}/k${i}`, form: { value: `value ${i}` } }
}

let etcd: ServerHandle | undefined
let arbor: ArborProcess | undefined

function sides(): { from: string; to: string } {
  assert(etcd !== undefined && arbor !== undefined, 'etcd and arbor were started in before()')
  return { from: etcd.url, to: arbor.clientUrl }
}

/** Runs `arbor migrate` from etcd to arbor with the hidden roots; asserts exit 0. */
async function migrate(): Promise<string> {
  const { from, to } = sides()
  const run = await runArbor(['migrate', '--from', from, '--to', to, ...hidden.flatMap((h) => ['--hidden', h])], { timeoutMs: 60_000 })
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout, '')
  return run.stderr
}

/** Asserts both sides hold the same tree (TTLs within 3 s), hidden roots included. */
async function assertEqualTrees(): Promise<void> {
  const { from, to } = sides()
  assert.deepEqual(treeDifferences(await readTree(from, '/'), await readTree(to, '/'), 3), [])
  for (const key of hidden) assert.deepEqual(treeDifferences(await readTree(from, key), await readTree(to, key), 3), [], key)
}

describe('arbor migrate from etcd 3.4', () => {
  before(async () => {
    assert(installed, notInstalled)
    ;[etcd, arbor] = await Promise.all([startEtcd(), startArbor()])
    await putAll(etcd.url, tree, 8)
    await putAll(etcd.url, bulk(), 32)
  })
  after(async () => {
    await etcd?.stop()
    if (arbor !== undefined) {
      assert.equal(await arbor.stop(), 0)
      removeDir(join(arbor.dataDir, '..'))
    }
  })

  test('the first run copies everything, reports the counts and verifies', async (t) => {
    const report = await migrate()
    t.diagnostic(report)
    const keys = bulkKeys + treeKeys
    const dirs = bulkDirs + treeDirs
    assert.match(report, new RegExp(`^arbor migrate: read ${keys} keys and ${dirs} directories \\(${treeWithTtl} with a TTL, 3 hidden roots\\) in `, 'm'))
    assert.match(report, new RegExp(`^arbor migrate: created ${keys + dirs}, updated 0, unchanged 0, skipped 0 `, 'm'))
    assert.match(report, new RegExp(`^arbor migrate: verified ${keys + dirs} nodes: 0 differ, 0 only on the target, 0 expiring$`, 'm'))
    await assertEqualTrees()
    const { to } = sides()
    assert.equal((await readNode(to, '/app/config/multi'))?.value, 'line one\nline two ü 日本')
    const ttl = await readNode(to, '/ttl/b')
    assert.ok(ttl?.ttl !== undefined && ttl.ttl > 850 && ttl.ttl <= 900, `TTL ${ttl?.ttl}`)
    assert.equal((await readNode(to, '/ttl-dir/child'))?.ttl, undefined)
    assert.deepEqual(await readNode(to, '/empty'), { key: '/empty', dir: true, value: undefined, ttl: undefined })
  })

  test('a second run writes nothing and the trees stay equal', async (t) => {
    const report = await migrate()
    t.diagnostic(report)
    const nodes = bulkKeys + treeKeys + bulkDirs + treeDirs
    assert.match(report, new RegExp(`^arbor migrate: created 0, updated 0, unchanged ${nodes}, skipped 0 `, 'm'))
    await assertEqualTrees()
  })

  test('after changes on the source, a run writes only those; a deleted key stays on the target', async () => {
    const { from, to } = sides()
    await putAll(from, [
      { key: '/bulk/d00/k0', form: { value: 'changed' } },
      { key: '/new/key', form: { value: 'new' } },
      { key: '/ttl/a', form: { value: 'expires', ttl: '300' } },
    ], 1)
    const deleted = await fetch(`${from}/v2/keys/bulk/d01/k1`, { method: 'DELETE' })
    assert.equal(deleted.status, 200)
    await deleted.text()
    const report = await migrate()
    // /new is created, /new/key too; k0's value and /ttl/a's TTL are updated.
    assert.match(report, /^arbor migrate: created 2, updated 2, unchanged \d+, skipped 0 /m)
    assert.match(report, /^arbor migrate: verified \d+ nodes: 0 differ, 1 only on the target, 0 expiring$/m)
    assert.equal((await readNode(to, '/bulk/d00/k0'))?.value, 'changed')
    assert.equal((await readNode(to, '/bulk/d01/k1'))?.value, 'value 1')
    const ttl = await readNode(to, '/ttl/a')
    assert.ok(ttl?.ttl !== undefined && ttl.ttl <= 300, `TTL ${ttl?.ttl}`)
  })

  test('--hidden-from-history also copies the hidden nodes the last 1000 events name', async () => {
    const { from, to } = sides()
    await putAll(from, [
      { key: '/locks/_lease', form: { value: 'holder', ttl: '600' } },
      { key: '/_late/_inner/k', form: { value: 'deep' } },
      { key: '/_gone', form: { value: 'soon deleted' } },
    ], 1)
    const deleted = await fetch(`${from}/v2/keys/_gone`, { method: 'DELETE' })
    await deleted.text()
    const run = await runArbor(['migrate', '--from', from, '--to', to, '--hidden-from-history'], { timeoutMs: 60_000 })
    assert.equal(run.code, 0, run.stderr)
    // /locks/_lease, /_late, /_late/_inner and /_gone (deleted: reported, skipped).
    assert.match(run.stderr, /^arbor migrate: found 4 more hidden roots in the source's event history$/m)
    assert.match(run.stderr, /^arbor migrate: not on the source: \/_gone$/m)
    assert.deepEqual(await readNode(to, '/locks/_lease').then((n) => n?.value), 'holder')
    assert.ok(((await readNode(to, '/locks/_lease'))?.ttl ?? 0) > 590)
    assert.deepEqual(await readNode(to, '/_late/_inner/k'), { key: '/_late/_inner/k', dir: false, value: 'deep', ttl: undefined })
    assert.equal(await readNode(to, '/_gone'), undefined)
  })

  test('bad usage is one line on stderr and exit 2', async () => {
    for (const args of [['migrate'], ['migrate', '--from', 'http://127.0.0.1:1'], ['migrate', '--from', 'ftp://x', '--to', 'http://y'], ['migrate', '--from', 'http://x', '--to', 'http://y', '--concurrency', '0']]) {
      const run = await runArbor(args)
      assert.equal(run.code, 2, args.join(' '))
      assert.match(run.stderr, /^arbor migrate: [^\n]+\n$/, args.join(' '))
    }
  })
})
