/**
 * Members start like a server: any number of them start at once from one install, run the
 * built package (`dist/`, made once at install) and never write into it. Method: three
 * members of one cluster run `dist/src/cli/main.js`; ten times, all three are killed with
 * SIGKILL together and started again together; each round every member must serve, every
 * write acknowledged before the kill must be there, and no file of `dist/` may change.
 */
import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, test } from 'node:test'
import { ArborCluster, builtMainJs, v2Request } from '../support/arbor-cluster.js'

const distDir = resolve(import.meta.dirname, '../../dist')
const rounds = 10

/** Every file under `dir` with its size and modification time. */
function listing(dir: string): Map<string, string> {
  const files = new Map<string, string>()
  const stack = [dir]
  for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
    for (const name of readdirSync(path)) {
      const child = join(path, name)
      const stat = statSync(child)
      if (stat.isDirectory()) stack.push(child)
      else files.set(child, `${stat.size}:${stat.mtimeMs}`)
    }
  }
  return files
}

let cluster: ArborCluster | undefined
after(async () => {
  await cluster?.stop()
})

test('three members killed together and restarted together, ten rounds: all serve, no write lost, dist/ untouched', async () => {
  assert.ok(statSync(builtMainJs).isFile(), 'dist/ is built at install (npm ci runs `prepare`)')
  const before = listing(distDir)
  cluster = await ArborCluster.start({ size: 3, entry: 'built' })
  const acknowledged: string[] = []
  for (let round = 1; round <= rounds; round++) {
    const writer = cluster.members[round % 3]!
    const key = `/round/${round}`
    const put = await v2Request(writer.clientUrl, 'PUT', `/v2/keys${key}`, { form: `value=${round}`, timeoutMs: 10_000 })
    assert.equal(put.status, 201, `round ${round}: ${put.text}`)
    acknowledged.push(key)

    await Promise.all(cluster.members.map((m) => cluster!.kill(m)))
    for (const member of cluster.members) {
      assert.equal(member.exit.signal, 'SIGKILL', `${member.name} was still running at the kill:\n${member.output()}`)
    }
    await Promise.all(cluster.members.map((m) => cluster!.restart(m)))
    await cluster.waitForLeader()
    for (const member of cluster.members) {
      for (const k of acknowledged) {
        const got = await v2Request(member.clientUrl, 'GET', `/v2/keys${k}?quorum=true`, { timeoutMs: 10_000 })
        assert.equal(got.status, 200, `round ${round}, ${member.name}, ${k}: ${got.text}`)
      }
    }
  }
  for (const member of cluster.members) {
    assert.doesNotMatch(member.output(), /SyntaxError|does not provide an export/, member.name)
  }
  assert.deepEqual(listing(distDir), before, 'no member wrote into dist/')
})
