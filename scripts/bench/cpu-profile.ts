/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and ranks functions by self time:
 * the time the sampled stack had that function on top. Samples are weighted by their
 * `timeDeltas` (µs), so an uneven sampling interval does not skew the ranking. Functions are
 * merged by name, file and line, since V8 makes one profile node per call path.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'

/** The parts of the `.cpuprofile` format (Chrome DevTools Protocol `Profiler.Profile`) read here. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  }[]
  readonly samples: readonly number[]
  /** µs since the previous sample; the first is since `startTime`. */
  readonly timeDeltas: readonly number[]
}

/** One function's share of the profile. */
export interface SelfTime {
  /** `name (file:line)`, with the file relative to `root`; line numbers from 1. */
  readonly where: string
  readonly selfMs: number
  /** Of all sampled time, idle included, in percent. */
  readonly percent: number
}

/**
 * The `top` functions by self time in `file`, and the total sampled time in ms.
 * @param root paths under it are shown relative to it.
 */
export function topSelfTime(file: string, top: number, root: string): { total: number; functions: SelfTime[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const whereById = new Map<number, string>()
  for (const node of profile.nodes) {
    const frame = node.callFrame
    const path = frame.url.startsWith('file://') ? relative(root, new URL(frame.url).pathname) : frame.url
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName
    whereById.set(node.id, path === '' ? name : `${name} (${path}:${frame.lineNumber + 1})`)
  }
  const selfUs = new Map<string, number>()
  let totalUs = 0
  profile.samples.forEach((id, i) => {
    // The delta after sample i is the time it stood for; the last sample has none and counts 0.
    const us = profile.timeDeltas[i + 1] ?? 0
    const where = whereById.get(id) ?? `node ${id}`
    selfUs.set(where, (selfUs.get(where) ?? 0) + us)
    totalUs += us
  })
  const functions = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, us]) => ({ where, selfMs: us / 1000, percent: totalUs > 0 ? (100 * us) / totalUs : 0 }))
  return { total: totalUs / 1000, functions }
}

/** The `.cpuprofile` files in `dir`, full paths, in name order. */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .map((name) => join(dir, name))
}
