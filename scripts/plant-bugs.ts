/**
 * Proves that the simulator catches bugs in the shipped member, not in a copy: plants each bug
 * below in a scratch copy of the sources (the real files, edited), runs the simulator there
 * (scripts/simulate.ts) over seeds 1, 2, ... up to `--seeds`, and prints the first seed that
 * caught it with its replay command. The working tree is never touched: every bug gets its
 * own copy, removed afterwards. Exit code 1 when a bug goes uncaught, or when its edit no
 * longer applies (the code it targets moved: update the edit with the code).
 *
 * Usage: npx tsx scripts/plant-bugs.ts [--seeds 1000] [--only name,name] [--keep]
 *   --keep   leave the scratch copies in place (their paths are printed) to replay a seed there
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const repoRoot = resolve(import.meta.dirname, '..')

/** One planted bug: in `file`, the text `find` (present exactly once) becomes `replace`. */
interface Bug {
  readonly name: string
  readonly what: string
  readonly file: string
  readonly find: string
  readonly replace: string
  /** Extra simulate.ts arguments (cluster size, network). */
  readonly args: readonly string[]
}

const bugs: readonly Bug[] = [
  {
    name: 'ack-before-sync',
    what: 'a turn that appends entries commits without waiting for the disk, so a write is acknowledged before its entry is synced',
    file: 'src/server/durability.ts',
    find: 'if (ready.entries.length > 0 || ready.snapshot !== undefined) return true',
    replace: 'if (ready.snapshot !== undefined) return true',
    args: ['--members', '3'],
  },
  {
    name: 'quorum-read-without-read-index',
    what: 'a quorum=true read is served from the local store without asking Raft for a read index',
    file: 'src/server/core/reads.ts',
    find: '    this.parts.raft.readIndex(context)\n',
    replace: '    this.replies.resolve(context, this.state.appliedIndex)\n',
    args: ['--members', '3'],
  },
  {
    name: 'quorum-read-before-apply',
    what: 'a quorum=true read is served as soon as its read index is known, before the member applied up to it',
    file: 'src/server/core/reads.ts',
    find: '      if (read.index > this.state.appliedIndex) continue\n',
    replace: '',
    args: ['--members', '3'],
  },
  {
    name: 'forwarded-proposal-applied-twice',
    what: 'a forwarded write that the network delivered twice is appended, and applied, twice',
    file: 'src/server/core/proposals.ts',
    find: "return message.type === 'prop' ? this.recent.filterForwarded(message) : message",
    replace: 'return message',
    args: ['--members', '3', '--duplicate-rate', '0.3'],
  },
  {
    name: 'vote-not-synced',
    what: 'a turn that records a new term or vote commits without waiting for the disk',
    file: 'src/server/durability.ts',
    find: 'return hardState !== undefined && (hardState.term !== persisted.term || hardState.vote !== persisted.vote)',
    replace: 'return false',
    args: ['--members', '3'],
  },
  {
    name: 'commit-previous-term-by-counting',
    what: "a leader commits its own previous-term entries by counting replicas (Raft §5.4.2, Figure 8)",
    file: 'src/raft/raft-log.ts',
    find: '    if (this.termIfKnown(index) !== term) return false\n',
    replace: '',
    args: ['--members', '5'],
  },
]

/** What the scratch copy needs to run the simulator. */
const copied = ['src', 'test/sim', 'test/raft', 'scripts/simulate.ts', 'package.json', 'tsconfig.json']

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1000' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
})
const seeds = Number(values.seeds)
if (!Number.isSafeInteger(seeds) || seeds < 1) throw new Error(`--seeds must be a positive integer, not ${values.seeds}`)
const only = values.only === undefined ? undefined : new Set(values.only.split(','))
const unknown = [...(only ?? [])].filter((name) => !bugs.some((b) => b.name === name))
if (unknown.length > 0) throw new Error(`unknown bug ${unknown.join(', ')}; names: ${bugs.map((b) => b.name).join(', ')}`)

/** A scratch copy of the sources with `bug` planted. @throws Error when the edit does not apply once. */
function plant(bug: Bug): string {
  const dir = mkdtempSync(join(tmpdir(), `arbor-bug-${bug.name}-`))
  for (const path of copied) cpSync(join(repoRoot, path), join(dir, path), { recursive: true })
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
  const file = join(dir, bug.file)
  const source = readFileSync(file, 'utf8')
  const found = source.split(bug.find).length - 1
  if (found !== 1) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`${bug.name}: the text to replace occurs ${found} times in ${bug.file}, not once; update the edit`)
  }
  writeFileSync(file, source.replace(bug.find, bug.replace))
  return dir
}

interface Result {
  readonly bug: Bug
  readonly caughtBy?: string
  readonly replay?: string
  readonly seconds: number
  readonly output: string
}

/** Runs the simulator in `dir` until the first failing seed. */
function hunt(bug: Bug, dir: string): Result {
  const started = performance.now()
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/simulate.ts', '--seeds', String(seeds), '--max-failures', '1', ...bug.args],
    { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  const seconds = (performance.now() - started) / 1000
  const output = `${run.stdout}${run.stderr}`
  const fail = output.split('\n').find((line) => line.startsWith('FAIL '))
  const replay = output.split('\n').find((line) => line.startsWith('replay: '))
  if (run.status !== 1 || fail === undefined) return { bug, seconds, output }
  return { bug, caughtBy: fail.slice('FAIL '.length), replay: replay?.slice('replay: '.length), seconds, output }
}

const results: Result[] = []
for (const bug of bugs.filter((b) => only === undefined || only.has(b.name))) {
  const dir = plant(bug)
  try {
    const result = hunt(bug, dir)
    results.push(result)
    if (result.caughtBy !== undefined) {
      console.log(`caught   ${bug.name} (${result.seconds.toFixed(1)} s): ${result.caughtBy}`)
      console.log(`         ${bug.what}`)
      console.log(`         replay in the planted copy: ${result.replay ?? '?'}`)
    } else {
      console.log(`MISSED   ${bug.name} (${result.seconds.toFixed(1)} s): no seed of ${seeds} caught it — ${bug.what}`)
      console.log(result.output.split('\n').slice(-15).join('\n'))
    }
    if (values.keep) console.log(`         planted copy kept: ${dir}`)
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true })
  }
}
const missed = results.filter((r) => r.caughtBy === undefined)
console.log(`\n${results.length - missed.length} of ${results.length} planted bugs caught within ${seeds} seeds`)
process.exitCode = missed.length === 0 ? 0 : 1
