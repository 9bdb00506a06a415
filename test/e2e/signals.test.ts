/**
 * Goal: arbor stops the way an operator expects. SIGTERM and SIGINT end open watches (a
 * long poll and a stream get their 200 with an empty body, which clients take as "watch
 * again") and exit 0; a bad flag or a bad config file is one line on stderr and exit code 2,
 * with no stack trace and nothing on stdout.
 *
 * Method: real processes. Members come from test/support/arbor-process.ts; the bad-input
 * cases run `node --import tsx src/cli/main.ts ...` directly and wait for it to exit.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { removeDir, startArbor, tempDir } from '../support/arbor-process.js'

const mainTs = resolve(import.meta.dirname, '../../src/cli/main.ts')
/** tsx's loader by URL, so the command can run from an empty directory (where a mistaken
 *  start could not leave a data directory in the repository). */
const tsxLoader = import.meta.resolve('tsx')

/** Runs the arbor command with `args` (in an empty temp dir) until it exits (20 s at most). */
function runArbor(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cwd = tempDir('arbor-signals-cwd-')
  const child = spawn(process.execPath, ['--import', tsxLoader, mainTs, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  return new Promise((resolveRun) => {
    child.once('close', (code) => {
      clearTimeout(timer)
      removeDir(cwd)
      resolveRun({ code, stdout, stderr })
    })
  })
}

/** Asserts exit 2, empty stdout, and exactly one `arbor: ...` line on stderr matching `pattern`. */
function assertOneLineError(run: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(run.code, 2, `exit code; stderr: ${run.stderr}`)
  assert.equal(run.stdout, '')
  const lines = run.stderr.split('\n')
  assert.deepEqual(lines.slice(1), [''], `one line on stderr, got:\n${run.stderr}`)
  assert.match(lines[0]!, /^arbor: /)
  assert.match(lines[0]!, pattern)
  assert.doesNotMatch(run.stderr, /\n\s+at /)
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} ends an open long-poll and stream watch with 200 and an empty body, then exits 0`, async (t) => {
    const member = await startArbor()
    t.after(async () => {
      await member.kill()
      removeDir(join(member.dataDir, '..'))
    })
    const longPoll = await fetch(`${member.clientUrl}/v2/keys/sig/k?wait=true`)
    const stream = await fetch(`${member.clientUrl}/v2/keys/sig?wait=true&recursive=true&stream=true`)
    assert.equal(longPoll.status, 200)
    assert.equal(stream.status, 200)
    const stats = (await (await fetch(`${member.clientUrl}/v2/stats/store`)).json()) as { watchers: number }
    assert.equal(stats.watchers, 2)
    const stoppedAt = Date.now()
    const code = await member.stop(signal)
    const bodies = await Promise.all([longPoll.text(), stream.text()])
    assert.equal(code, 0, member.output())
    assert.equal(member.child.signalCode, null)
    assert.deepEqual(bodies, ['', ''])
    assert.ok(Date.now() - stoppedAt < 5_000, 'stopped within 5 s')
  })
}

test('an unknown flag exits 2 with one line on stderr', async () => {
  assertOneLineError(await runArbor(['--no-such-flag']), /--no-such-flag/)
})

test('a flag with a bad value exits 2 with one line on stderr', async () => {
  assertOneLineError(await runArbor(['--heartbeat-interval', 'abc']), /heartbeat-interval/)
})

test('a config file that is not YAML exits 2 with one line on stderr', async (t) => {
  const dir = tempDir('arbor-signals-config-')
  t.after(() => removeDir(dir))
  const path = join(dir, 'bad.yaml')
  writeFileSync(path, 'name: [unclosed\nheartbeat-interval: {\n')
  assertOneLineError(await runArbor(['--config-file', path]), /bad\.yaml/)
})

test('a config file with a bad value exits 2 with one line on stderr', async (t) => {
  const dir = tempDir('arbor-signals-config-')
  t.after(() => removeDir(dir))
  const path = join(dir, 'bad-value.yaml')
  writeFileSync(path, 'name: m1\nheartbeat-interval: abc\n')
  assertOneLineError(await runArbor(['--config-file', path]), /heartbeat-interval/)
})

test('a config file that does not exist exits 2 with one line on stderr', async (t) => {
  const dir = tempDir('arbor-signals-config-')
  t.after(() => removeDir(dir))
  assertOneLineError(await runArbor(['--config-file', join(dir, 'missing.yaml')]), /missing\.yaml/)
})
