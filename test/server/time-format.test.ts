/**
 * Goal: times in /v2/stats are written as Go writes them: RFC 3339 with the fraction's
 * trailing zeros dropped, durations as time.Duration.String().
 * Method: tables.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { goRfc3339Nano as rfc3339Nano } from '../../src/lib/index.js'
import { goDuration } from '../../src/server/time-format.js'

test('rfc3339Nano drops trailing zeros of the fraction, and a whole second has none', () => {
  assert.equal(rfc3339Nano(Date.UTC(2026, 10, 20, 23, 36, 4, 30)), '2026-11-20T23:36:04.03Z')
  assert.equal(rfc3339Nano(Date.UTC(2026, 10, 20, 23, 36, 4, 123)), '2026-11-20T23:36:04.123Z')
  assert.equal(rfc3339Nano(Date.UTC(2026, 10, 20, 23, 36, 4, 0)), '2026-11-20T23:36:04Z')
})

test('goDuration writes hours, minutes and seconds as Go does', () => {
  const rows: [number, string][] = [
    [0, '0s'],
    [-5, '0s'],
    [1, '1ms'],
    [350, '350ms'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [60_000, '1m0s'],
    [2_384_052, '39m44.052s'],
    [3_600_000, '1h0m0s'],
    [3_723_004, '1h2m3.004s'],
  ]
  for (const [ms, want] of rows) assert.equal(goDuration(ms), want, String(ms))
})
