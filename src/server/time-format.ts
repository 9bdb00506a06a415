/** Durations rendered as etcd (Go) renders them in /v2/stats (times: lib goRfc3339Nano). */

/** A duration as Go's time.Duration.String() writes it: `39m44.052s`, `1h2m3s`, `350ms`. */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const seconds = ((ms % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '')
  return (hours > 0 ? `${hours}h` : '') + (hours > 0 || minutes > 0 ? `${minutes}m` : '') + `${seconds}s`
}
