/**
 * What the transport counts per peer, for `/v2/stats/leader` (etcd v2stats FollowerStats:
 * success and fail counts, and the latency of answered requests) and for logs and metrics.
 */

/** Round trips of answered batch POSTs (ms). All 0 until the first answer. */
export interface LatencyStats {
  /** The last round trip. */
  readonly current: number
  readonly average: number
  /** Population standard deviation. */
  readonly standardDeviation: number
  readonly minimum: number
  readonly maximum: number
}

/** Counters of one peer since it was added. Message counts exclude snapshots. */
export interface PeerStats {
  /** Messages in batches the peer answered 204. */
  readonly success: number
  /** Messages in batches that failed (network error, timeout, refusal); they are lost. */
  readonly fail: number
  /** Messages refused because the peer's queue was full; they are lost. */
  readonly dropped: number
  /** Batch POSTs the peer answered 204. */
  readonly batches: number
  /** Request body bytes the peer accepted (batches and snapshot chunks). */
  readonly bytes: number
  /** Messages waiting now. */
  readonly queued: number
  /** Delay before the next attempt after failures (ms); 0 while the peer answers. */
  readonly backoffMs: number
  /** Snapshots delivered whole, and snapshots whose transfer failed. */
  readonly snapshotsSent: number
  readonly snapshotsFailed: number
  readonly latencyMs: LatencyStats
}

/**
 * Running latency statistics (Welford's online mean and variance, so that no sample list
 * grows and no sum of squares loses precision).
 */
export class LatencyRecorder {
  private count = 0
  private mean = 0
  private squaredDeviations = 0
  private last = 0
  private min = 0
  private max = 0

  /** Adds one round trip (ms, ≥ 0). */
  record(ms: number): void {
    this.count += 1
    const delta = ms - this.mean
    this.mean += delta / this.count
    this.squaredDeviations += delta * (ms - this.mean)
    this.last = ms
    this.min = this.count === 1 ? ms : Math.min(this.min, ms)
    this.max = this.count === 1 ? ms : Math.max(this.max, ms)
  }

  snapshot(): LatencyStats {
    const variance = this.count === 0 ? 0 : this.squaredDeviations / this.count
    return {
      current: this.last,
      average: this.mean,
      standardDeviation: Math.sqrt(Math.max(0, variance)),
      minimum: this.min,
      maximum: this.max,
    }
  }
}
