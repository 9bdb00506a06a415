/** Times rendered as etcd (Go) renders them. */
import { assert } from './assert.js'

/**
 * RFC 3339 in UTC with the fraction's trailing zeros dropped, as Go's RFC3339Nano:
 * 1795218066900 → '2026-11-20T23:41:06.9Z'; a whole second has no fraction. Used for a
 * node's `expiration` and the start times of /v2/stats.
 *
 * @param ms integer ms since the epoch, within years 1970..9999.
 */
export function goRfc3339Nano(ms: number): string {
  assert(Number.isSafeInteger(ms), 'time in ms is an integer')
  const iso = new Date(ms).toISOString()
  assert(iso.length === 24, 'time within years 0000..9999')
  const fraction = iso.slice(20, 23).replace(/0+$/, '')
  return fraction === '' ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${fraction}Z`
}
