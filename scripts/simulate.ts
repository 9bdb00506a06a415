/**
 * Runs the deterministic KV cluster simulation (test/sim/kv-cluster.ts) over any number of
 * seeds and reports the failing ones, each with its replay command. Every seed checks Raft's
 * safety properties after each step, convergence after the faults end, and the clients'
 * history for linearizability.
 *
 * Usage: npx tsx scripts/simulate.ts [--seeds 10000] [--from 1] [--members 3|5]
 *          [--seed S] [--steps N] [--duplicate-rate P] [--max-failures 20]
 *   --seeds N     seeds from, from + 1, ..., from + N - 1 (default 100)
 *   --members M   cluster size; both 3 and 5 for each seed when left out
 *   --seed S      run that one seed and print its summary, or its whole failure
 *   --steps N     steps with faults and client traffic per seed (default: the simulation's)
 *   --duplicate-rate P  probability that the network delivers a message twice (default 0.03)
 * Exit code 1 when a seed fails.
 */
import { parseArgs } from 'node:util'
import { KvSimulationFailure, runKvSimulation, type KvSimulationOptions } from '../test/sim/kv-cluster.js'

interface Settings {
  readonly from: number
  readonly count: number
  readonly sizes: readonly number[]
  readonly single: number | undefined
  readonly base: Partial<KvSimulationOptions>
  readonly failuresMax: number
}

function parseSettings(): Settings {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      from: { type: 'string', default: '1' },
      members: { type: 'string' },
      seed: { type: 'string' },
      steps: { type: 'string' },
      'duplicate-rate': { type: 'string' },
      'max-failures': { type: 'string', default: '20' },
    },
    strict: true,
  })
  const sizes = values.members === undefined ? [3, 5] : [positive('members', values.members)]
  const base: Partial<KvSimulationOptions> = {
    ...(values.steps === undefined ? {} : { steps: positive('steps', values.steps) }),
    ...(values['duplicate-rate'] === undefined ? {} : { duplicateRate: probability('duplicate-rate', values['duplicate-rate']) }),
  }
  return {
    from: integer('from', values.from),
    count: positive('seeds', values.seeds),
    sizes,
    single: values.seed === undefined ? undefined : integer('seed', values.seed),
    base,
    failuresMax: positive('max-failures', values['max-failures']),
  }
}

function integer(name: string, text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} must be an integer, not ${text}`)
  return n
}

function positive(name: string, text: string): number {
  const n = integer(name, text)
  if (n < 1) throw new Error(`--${name} must be at least 1`)
  return n
}

function probability(name: string, text: string): number {
  const p = Number(text)
  if (!(p >= 0 && p < 1)) throw new Error(`--${name} must be a number in [0, 1)`)
  return p
}

/** One seed, every size, printing the summary or the whole failure. */
function runOne(settings: Settings, seed: number): boolean {
  let ok = true
  for (const members of settings.sizes) {
    try {
      console.log(JSON.stringify(runKvSimulation({ ...settings.base, seed, members })))
    } catch (error) {
      if (!(error instanceof KvSimulationFailure)) throw error
      console.log(error.message)
      ok = false
    }
  }
  return ok
}

/** Many seeds: a progress line every 10%, then the failures, first one in full. */
function runMany(settings: Settings): boolean {
  const started = performance.now()
  const failures: KvSimulationFailure[] = []
  const runs = settings.count * settings.sizes.length
  let done = 0
  for (let seed = settings.from; seed < settings.from + settings.count; seed++) {
    for (const members of settings.sizes) {
      try {
        runKvSimulation({ ...settings.base, seed, members })
      } catch (error) {
        if (!(error instanceof KvSimulationFailure)) throw error
        failures.push(error)
        console.log(`FAIL ${error.message.split('\n')[0] ?? ''}`)
      }
      done++
      if (done % Math.max(1, Math.floor(runs / 10)) === 0) {
        console.log(`${done}/${runs} runs, ${failures.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s`)
      }
      if (failures.length >= settings.failuresMax) return report(failures, done, started)
    }
  }
  return report(failures, done, started)
}

function report(failures: readonly KvSimulationFailure[], runs: number, started: number): boolean {
  const seconds = (performance.now() - started) / 1000
  console.log(`${runs} runs in ${seconds.toFixed(1)} s (${((seconds * 1000) / Math.max(1, runs)).toFixed(1)} ms each), ${failures.length} failed`)
  const first = failures[0]
  if (first === undefined) return true
  console.log(`\nfirst failure:\n${first.message}`)
  const replays = failures.map((f) => {
    const replay = f.message.split('\n').find((line) => line.startsWith('replay: ')) ?? ''
    return `  ${replay.slice('replay: '.length)}   # ${f.kind}`
  })
  console.log(`\nfailing runs:\n${replays.join('\n')}`)
  return false
}

const settings = parseSettings()
const ok = settings.single === undefined ? runMany(settings) : runOne(settings, settings.single)
process.exitCode = ok ? 0 : 1
