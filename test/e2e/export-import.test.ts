/**
 * Goal: `arbor export` then `arbor import` into an empty member gives an equal tree: keys,
 * values (newlines, UTF-8), keys with special characters, directories (empty ones too), TTLs
 * (as the time left), and the hidden nodes named with `--hidden`; the export is JSON lines
 * on stdout, the summary on stderr; importing twice changes nothing; bad usage exits 2.
 *
 * Method: two one-member arbors started from source on free ports; the first is loaded over
 * plain HTTP, exported to a file, and the file imported into the second; both trees are read
 * back with recursive GETs (and hidden nodes one by one) and compared.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { removeDir, startArbor, tempDir, type ArborProcess } from '../support/arbor-process.js'
import { putAll, readNode, readTree, runArbor, treeDifferences } from '../support/arbor-cli.js'

const oddValue = 'line one\nline two\r\n\ttabbed "quoted" \\ ü 日本 🌳'
const oddKey = '/odd/a b?c#d%e&f=g+h/ünï'
const hidden = ['/_top', '/_hdir', '/app/_secret']

/** What the first member holds (beside 300 plain keys in /bulk). */
const writes: { key: string; form: Record<string, string> }[] = [
  { key: '/app/config/name', form: { value: 'arbor' } },
  { key: '/app/config/multi', form: { value: oddValue } },
  { key: oddKey, form: { value: 'special' } },
  { key: '/empty', form: { dir: 'true' } },
  { key: '/app/nested/empty', form: { dir: 'true' } },
  { key: '/ttl/key', form: { value: 'expires', ttl: '600' } },
  { key: '/ttl-dir', form: { dir: 'true', ttl: '600' } },
  { key: '/ttl-dir/child', form: { value: 'c' } },
  { key: '/_top', form: { value: 'hidden at the root' } },
  { key: '/_hdir/x', form: { value: 'x' } },
  { key: '/_hdir/sub/y', form: { value: 'y' } },
  { key: '/app/_secret', form: { value: 's3cret' } },
  { key: '/app/empty-value', form: { value: '' } },
  ...Array.from({ length: 300 }, (_, i) => ({ key: `/bulk/${String(i % 7)}/k${i}`, form: { value: `v${i}` } })),
]

let source: ArborProcess | undefined
let target: ArborProcess | undefined
const dir = tempDir('arbor-export-')
const exportFile = join(dir, 'tree.jsonl')
/** When the export began (ms): an import gives each key the TTL left at export, so the
 *  target's TTLs run later than the source's by the time since then. */
let exportedAtMs = 0

/** TTL tolerance for comparing the trees now: rounding (1 s each side) plus the time since the export. */
function ttlToleranceSeconds(): number {
  return 2 + Math.ceil((Date.now() - exportedAtMs) / 1000)
}

function members(): { source: ArborProcess; target: ArborProcess } {
  assert(source !== undefined && target !== undefined, 'the members were started in before()')
  return { source, target }
}

describe('arbor export and arbor import', () => {
  before(async () => {
    ;[source, target] = await Promise.all([startArbor(), startArbor()])
    await putAll(source.clientUrl, writes, 16)
  })
  after(async () => {
    for (const m of [source, target]) {
      if (m === undefined) continue
      assert.equal(await m.stop(), 0)
      removeDir(join(m.dataDir, '..'))
    }
    removeDir(dir)
  })

  test('export writes a header and one node per line, the summary on stderr', async () => {
    exportedAtMs = Date.now()
    const run = await runArbor(['export', '--endpoints', members().source.clientUrl, ...hidden.flatMap((h) => ['--hidden', h])], { stdoutFile: exportFile })
    assert.equal(run.code, 0, run.stderr)
    const lines = readFileSync(exportFile, 'utf8').trimEnd().split('\n')
    const header = JSON.parse(lines[0]!) as Record<string, unknown>
    assert.equal(header.format, 'arbor-export')
    assert.equal(header.version, 1)
    const nodes = lines.slice(1).map((l) => JSON.parse(l) as { key: string; dir?: boolean; value?: string; ttl?: number })
    const keys = nodes.map((n) => n.key)
    assert.equal(new Set(keys).size, keys.length, 'each node once')
    for (const [i, key] of keys.entries()) {
      const parent = key.slice(0, key.lastIndexOf('/'))
      if (parent !== '' && !hidden.includes(key)) assert.ok(keys.indexOf(parent) < i, `${parent} comes before ${key}`)
    }
    assert.deepEqual(nodes.find((n) => n.key === '/app/config/multi')?.value, oddValue)
    assert.ok(keys.includes(oddKey))
    assert.ok(keys.includes('/_hdir/sub/y'))
    const fileKeys = nodes.filter((n) => n.dir !== true).length
    assert.match(run.stderr, new RegExp(`^arbor export: wrote ${fileKeys} keys and ${nodes.length - fileKeys} directories \\(2 with a TTL\\) from `, 'm'))
  })

  test('import into an empty member gives an equal tree, hidden nodes and TTLs included', async () => {
    const { source: a, target: b } = members()
    const run = await runArbor(['import', '--endpoints', b.clientUrl, exportFile])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /; 0 directories were there already, 0 conflicts$/m)
    assert.deepEqual(treeDifferences(await readTree(a.clientUrl, '/'), await readTree(b.clientUrl, '/'), ttlToleranceSeconds()), [])
    for (const key of hidden) {
      assert.deepEqual(treeDifferences(await readTree(a.clientUrl, key), await readTree(b.clientUrl, key), ttlToleranceSeconds()), [], key)
    }
    const ttl = await readNode(b.clientUrl, '/ttl/key')
    assert.ok(ttl?.ttl !== undefined && ttl.ttl > 590 && ttl.ttl <= 600, `TTL ${ttl?.ttl}`)
    assert.equal((await readNode(b.clientUrl, '/ttl-dir/child'))?.ttl, undefined)
    assert.equal((await readNode(b.clientUrl, '/app/config/multi'))?.value, oddValue)
    assert.equal((await readNode(b.clientUrl, oddKey))?.value, 'special')
  })

  test('importing the same file again (from stdin) leaves the tree equal', async () => {
    const { source: a, target: b } = members()
    const run = await runArbor(['import', '--endpoints', b.clientUrl], { stdinFile: exportFile })
    assert.equal(run.code, 0, run.stderr)
    assert.doesNotMatch(run.stderr, /; 0 directories were there already/)
    assert.deepEqual(treeDifferences(await readTree(a.clientUrl, '/'), await readTree(b.clientUrl, '/'), ttlToleranceSeconds()), [])
  })

  test('export --hidden-from-history finds the hidden nodes the history names', async () => {
    const run = await runArbor(['export', '--endpoints', members().source.clientUrl, '--hidden-from-history'])
    assert.equal(run.code, 0, run.stderr)
    const keys = run.stdout.trimEnd().split('\n').slice(1).map((l) => (JSON.parse(l) as { key: string }).key)
    for (const key of ['/_top', '/_hdir', '/_hdir/x', '/_hdir/sub/y', '/app/_secret']) assert.ok(keys.includes(key), key)
  })

  test('export --prefix writes only that subtree', async () => {
    const run = await runArbor(['export', '--endpoints', members().source.clientUrl, '--prefix', '/app/config'])
    assert.equal(run.code, 0, run.stderr)
    const keys = run.stdout.trimEnd().split('\n').slice(1).map((l) => (JSON.parse(l) as { key: string }).key)
    assert.deepEqual(keys, ['/app/config', '/app/config/multi', '/app/config/name'])
  })

  test('a malformed line stops the import with its line number and exit 1', async () => {
    const bad = join(dir, 'bad.jsonl')
    const lines = readFileSync(exportFile, 'utf8').split('\n')
    writeFileSync(bad, [lines[0], '{"key":"/ok","value":"1"}', '{"key":"/bad","dir":true,"value":"x"}'].join('\n') + '\n')
    const run = await runArbor(['import', '--endpoints', members().target.clientUrl, bad])
    assert.equal(run.code, 1)
    assert.match(run.stderr, /^arbor import: line 3: a directory has no "value"$/m)
  })

  test('bad usage is one line on stderr and exit 2', async () => {
    for (const args of [['export', '--endpoints', 'not-a-url'], ['import', '--nope'], ['export', '--prefix', 'relative'], ['import', join(dir, 'missing.jsonl')]]) {
      const run = await runArbor(args)
      assert.equal(run.code, 2, args.join(' '))
      assert.equal(run.stdout, '')
      assert.match(run.stderr, /^arbor (export|import): [^\n]+\n$/, args.join(' '))
    }
  })
})
