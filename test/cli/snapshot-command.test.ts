/**
 * `arbor snapshot` usage errors: each is one line on stderr and exit code 2, before anything
 * is read or written; a file that cannot be read is exit 1. Method: the CLI from the sources
 * as a child process.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tmpdir } from 'node:os'

const mainTs = resolve(import.meta.dirname, '../../src/cli/main.ts')
const tsxLoader = import.meta.resolve('tsx')

function arbor(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', tsxLoader, mainTs, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr })
    })
  })
}

const dataDir = join(tmpdir(), `arbor-never-created-${process.pid}`)

const cases = [
  { args: ['snapshot'], code: 2, stderr: /^arbor snapshot: missing command: save, status or restore$/ },
  { args: ['snapshot', 'copy', 'f'], code: 2, stderr: /^arbor snapshot: unknown command 'copy'/ },
  { args: ['snapshot', 'save'], code: 2, stderr: /^arbor snapshot: missing required argument 'file'$/ },
  { args: ['snapshot', 'status', 'f', '--bogus'], code: 2, stderr: /^arbor snapshot: unknown option '--bogus'/ },
  { args: ['snapshot', 'status', 'f', '-w', 'yaml'], code: 2, stderr: /^arbor snapshot: --write-out must be table or json, not "yaml"$/ },
  { args: ['snapshot', 'save', 'f', '--endpoints', ''], code: 2, stderr: /^arbor snapshot: --endpoints is empty$/ },
  { args: ['snapshot', 'restore', 'f', '--data-dir', dataDir, '--name', 'x', '--initial-cluster', 'y=http://127.0.0.1:2380'], code: 2, stderr: /^arbor snapshot: --initial-cluster has no member named "x"$/ },
  { args: ['snapshot', 'restore', 'f', '--data-dir', dataDir, '--initial-cluster', 'nonsense'], code: 2, stderr: /^arbor snapshot: invalid --initial-cluster: expected name=URL/ },
  { args: ['snapshot', 'restore', 'f', '--data-dir', dataDir, '--initial-cluster', 'default=http://127.0.0.1:9', '--initial-advertise-peer-urls', 'http://127.0.0.1:8'], code: 2, stderr: /^arbor snapshot: --initial-cluster lists http:\/\/127\.0\.0\.1:9 for "default", --initial-advertise-peer-urls says http:\/\/127\.0\.0\.1:8$/ },
  { args: ['snapshot', 'status', join(dataDir, 'missing.db')], code: 1, stderr: /^arbor snapshot: cannot read .*missing\.db: ENOENT$/ },
  { args: ['snapshot', 'restore', join(dataDir, 'missing.db'), '--data-dir', dataDir], code: 1, stderr: /^arbor snapshot: cannot read .*missing\.db: ENOENT$/ },
]

for (const c of cases) {
  test(`arbor ${c.args.join(' ')} → exit ${c.code}`, async () => {
    const outcome = await arbor(c.args)
    assert.equal(outcome.code, c.code, outcome.stderr)
    assert.equal(outcome.stderr.split('\n').length, 2, `one line: ${outcome.stderr}`)
    assert.match(outcome.stderr.trim(), c.stderr)
    assert.equal(existsSync(dataDir), false)
  })
}
