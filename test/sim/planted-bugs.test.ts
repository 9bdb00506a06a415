/**
 * Goal: the simulator catches bugs in the shipped member, not in a copy of it. Each of six
 * bugs — a write acknowledged before its entry is synced, a quorum read served without
 * ReadIndex or before its read index is applied, a forwarded write applied twice, a vote not
 * synced, a leader committing earlier-term entries by counting replicas — is planted in a
 * scratch copy of the real sources, and the simulator must report it within 1,000 seeds.
 * Method: runs scripts/plant-bugs.ts (which never touches the working tree) and reads its
 * report: every bug caught, each by a named seed with a replay command.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

const repoRoot = resolve(import.meta.dirname, '../..')

test('every planted bug is caught by a seed of the simulator, which the report names', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/plant-bugs.ts', '--seeds', '1000'], { cwd: repoRoot, encoding: 'utf8' })
  const output = `${run.stdout}${run.stderr}`
  process.stdout.write(output.split('\n').filter((line) => line.startsWith('caught') || line.startsWith('MISSED') || / of \d+ planted/.test(line)).map((line) => `# ${line}\n`).join(''))
  assert.equal(run.status, 0, output)
  const caught = output.split('\n').filter((line) => line.startsWith('caught '))
  const names = caught.map((line) => line.split(/\s+/)[1])
  assert.deepEqual(names, [
    'ack-before-sync',
    'quorum-read-without-read-index',
    'quorum-read-before-apply',
    'forwarded-proposal-applied-twice',
    'vote-not-synced',
    'commit-previous-term-by-counting',
  ])
  for (const line of caught) assert.match(line, /: seed \d+ \([35] members\), step \d+: (durability|linearizability|leader commit rule|invariant)/)
  assert.match(output, /6 of 6 planted bugs caught within 1000 seeds/)
  assert.equal(output.split('\n').filter((line) => line.includes('replay in the planted copy: npx tsx scripts/simulate.ts --seed ')).length, 6)
})
