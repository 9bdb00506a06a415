/**
 * The data-directory lock: one process per directory, a stale lock of a dead process taken
 * over, and many processes racing for one directory leaving exactly one winner. Races use
 * real child processes started at once.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { lockDataDir } from '../../src/cli/data-dir-lock.js'

const lockModule = resolve(import.meta.dirname, '../../src/cli/data-dir-lock.ts')

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'arbor-lock-'))
}

test('a free directory is claimed with this PID and released at exit', () => {
  const dir = tempDir()
  const release = lockDataDir(dir)
  assert.equal(readFileSync(join(dir, 'arbor.pid'), 'utf8'), `${process.pid}\n`)
  release()
  assert.equal(existsSync(join(dir, 'arbor.pid')), false)
})

test('a directory held by a live process is refused, naming it', () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'arbor.pid'), `${process.ppid}\n`)
  assert.throws(() => lockDataDir(dir), new RegExp(`in use by process ${process.ppid}`))
})

test('a lock left by a dead process, or with no PID in it, is taken over', () => {
  for (const content of ['999999999\n', '', 'garbage']) {
    const dir = tempDir()
    writeFileSync(join(dir, 'arbor.pid'), content)
    const release = lockDataDir(dir)
    assert.equal(readFileSync(join(dir, 'arbor.pid'), 'utf8'), `${process.pid}\n`)
    release()
  }
})

/** Starts `count` processes that each try to claim `dir` and hold it for a while. */
async function race(dir: string, count: number): Promise<string[]> {
  const script = `
    import { lockDataDir } from ${JSON.stringify(lockModule)}
    try { lockDataDir(${JSON.stringify(dir)}); console.log('won') } catch (e) { console.log('lost') }
    setTimeout(() => {}, 1500)`
  const runs = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    return new Promise<string>((done) => child.on('exit', () => done(out.trim())))
  })
  return Promise.all(runs)
}

test('processes racing for a free or a stale directory: exactly one wins', async () => {
  const free = tempDir()
  const stale = tempDir()
  writeFileSync(join(stale, 'arbor.pid'), '999999999\n')
  for (const dir of [free, stale]) {
    const outcomes = await race(dir, 6)
    assert.equal(outcomes.filter((o) => o === 'won').length, 1, outcomes.join(','))
    assert.equal(outcomes.filter((o) => o === 'lost').length, 5, outcomes.join(','))
  }
})
