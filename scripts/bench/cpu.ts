/**
 * CPU accounting for a measured window: how much the server processes, the driver (this
 * process) and everything else on the machine used, from /proc (proc(5)) and
 * `process.cpuUsage()`. The server's CPU time per operation moves less with other load than
 * throughput does (but it does move: batch sizes, cache misses and the kernel's share change).
 * Where /proc is missing (not Linux) the server and machine figures are 0.
 */
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc times (`getconf CLK_TCK`; 100 on Linux). */
const clockTicksPerSecond = 100

/** CPU used during one window. Percentages are of one core: 200 is both cores of a 2-core machine. */
export interface CpuUse {
  /** All server processes together. */
  readonly serverPercent: number
  /** The load-generating process. */
  readonly driverPercent: number
  /** Everything else on the machine (busy time minus the two above): noise. */
  readonly otherPercent: number
  /** Server CPU time per completed operation, in µs; undefined when no operation was counted. */
  readonly serverUsPerOp: number | undefined
}

/** Measures one window: `start()`, then `stop(ops)`. */
export class CpuMeter {
  private readonly pids: () => readonly number[]
  private startedAt: { wallMs: number; server: number; machine: number; driver: NodeJS.CpuUsage } | undefined

  /** @param pids the server processes, asked at start and at stop (members may exit). */
  constructor(pids: () => readonly number[]) {
    this.pids = pids
  }

  start(): void {
    this.startedAt = { wallMs: performance.now(), server: processCpuSeconds(this.pids()), machine: machineBusyCpuSeconds(), driver: process.cpuUsage() }
  }

  /** @param ops operations completed in the window, for `serverUsPerOp`; 0 when not meaningful. */
  stop(ops: number): CpuUse | undefined {
    const s = this.startedAt
    if (s === undefined) return undefined
    const wallS = (performance.now() - s.wallMs) / 1000
    if (wallS <= 0) return undefined
    const serverS = processCpuSeconds(this.pids()) - s.server
    const driverUsage = process.cpuUsage(s.driver)
    const driverS = (driverUsage.user + driverUsage.system) / 1e6
    const machineS = machineBusyCpuSeconds() - s.machine
    return {
      serverPercent: (100 * serverS) / wallS,
      driverPercent: (100 * driverS) / wallS,
      otherPercent: Math.max(0, (100 * (machineS - serverS - driverS)) / wallS),
      serverUsPerOp: ops > 0 ? (serverS * 1e6) / ops : undefined,
    }
  }
}

/**
 * CPU seconds (user + system) used so far by the processes `pids`, from /proc/<pid>/stat
 * fields 14 and 15; a process that has exited counts 0.
 */
export function processCpuSeconds(pids: readonly number[]): number {
  let ticks = 0
  for (const pid of pids) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue // exited, or not Linux: the figure is then a lower bound
    }
    // The command name (field 2) may hold spaces; the fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0)
  }
  return ticks / clockTicksPerSecond
}

/**
 * CPU seconds the whole machine has been busy (all cores; everything but idle and iowait)
 * since boot, from the `cpu` line of /proc/stat; 0 where /proc is missing.
 */
export function machineBusyCpuSeconds(): number {
  let stat: string
  try {
    stat = readFileSync('/proc/stat', 'utf8')
  } catch {
    return 0 // not Linux: no figure for other processes
  }
  const line = stat.split('\n').find((l) => l.startsWith('cpu ')) ?? ''
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal; guest time is already in user and nice.
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (ticks[i] ?? 0), 0)
  return busy / clockTicksPerSecond
}
