/** Time rendered as etcd (Go) renders it in /v2/stats. */

/** RFC 3339 in UTC with the fraction's trailing zeros dropped (Go's RFC3339Nano). */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString() // 2026-11-20T23:36:04.030Z
  const [whole, fraction] = iso.slice(0, -1).split('.')
  const trimmed = (fraction ?? '').replace(/0+$/, '')
  return trimmed === '' ? `${whole}Z` : `${whole}.${trimmed}Z`
}

/** A duration as Go's time.Duration.String() writes it: `39m44.052s`, `1h2m3s`, `350ms`. */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const seconds = ((ms % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '')
  return (hours > 0 ? `${hours}h` : '') + (hours > 0 || minutes > 0 ? `${minutes}m` : '') + `${seconds}s`
}
