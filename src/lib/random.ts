/**
 * Seeded pseudo-random numbers (xoshiro128**), so that a simulator run or a Raft election
 * timeout is reproducible from its seed. Not for secrets.
 */

/** A source of random numbers. `next()` is uniform in [0, 1). */
export interface Rng {
  next(): number
  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number
}

/** xoshiro128** seeded through splitmix32 from a 32-bit integer seed. */
export class SeededRng implements Rng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor(seed: number) {
    let x = seed >>> 0
    const split = (): number => {
      x = (x + 0x9e3779b9) >>> 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.s0 = split()
    this.s1 = split()
    this.s2 = split()
    this.s3 = split()
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0
    const t = (this.s1 << 9) >>> 0
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  next(): number {
    return this.nextUint32() / 4294967296
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
