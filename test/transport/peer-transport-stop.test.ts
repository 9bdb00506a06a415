/**
 * Goal: `stop()` leaves nothing behind: no timer, no socket, no late callback, so a process
 * whose work is done exits by itself. Method: a child process (peer-transport-stop-child.ts)
 * stops a transport that had a one-minute retry timer, a one-minute keep-alive connection,
 * queued messages and a snapshot under way; anything left over would keep it alive for a
 * minute, far past the limit given here.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const childPath = fileURLToPath(new URL('./peer-transport-stop-child.ts', import.meta.url))
/** Far below the child's one-minute timers, far above its usual second. */
const exitLimitMs = 20_000

function runChild(): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childPath], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let killed = false
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    const guard = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, exitLimitMs)
    child.on('exit', (code) => {
      clearTimeout(guard)
      resolve({ code, stdout, stderr, killed })
    })
  })
}

test('a process whose transport and peer app were stopped exits by itself', async () => {
  const result = await runChild()
  assert.equal(result.killed, false, `the child was still running after ${exitLimitMs} ms`)
  assert.equal(result.code, 0, result.stderr)
  const report = JSON.parse(result.stdout.trim()) as { delivered: number; queuedForC: number; backoffMsForC: number; reportsAfterStop: number; resources: string[] }
  assert.equal(report.delivered, 3)
  assert.equal(report.queuedForC, 3, 'messages were waiting for the retry timer when stop came')
  assert.equal(report.backoffMsForC, 60_000)
  assert.equal(report.reportsAfterStop, 0, 'the aborted snapshot is not reported after stop')
  assert.deepEqual(report.resources.filter((r) => r === 'Timeout' || r === 'Immediate'), [])
})
