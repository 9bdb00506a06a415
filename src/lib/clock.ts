/**
 * Time as a value passed in. Modules that decide (raft, store) never read a clock; the
 * member loop reads one and passes milliseconds down (STYLE.md §4).
 */

/** Wall-clock source in milliseconds since the Unix epoch. */
export interface Clock {
  nowMs(): number
}

/** The machine's wall clock. */
export const systemClock: Clock = { nowMs: () => Date.now() }

/** A clock that moves only when told to: for tests and the cluster simulator. */
export class FakeClock implements Clock {
  constructor(private timeMs = 1_700_000_000_000) {}
  nowMs(): number {
    return this.timeMs
  }
  /** Moves time forward by `ms` milliseconds (never backward). */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('FakeClock cannot go backward')
    this.timeMs += ms
  }
}
