/**
 * Goal: streaming a state snapshot takes memory bounded by the chunk size, not by the state:
 * an 80 MB state goes from one database to another in 64 KiB chunks while the JavaScript
 * heap and the buffers outside it grow by far less than the state's size.
 * Method: two SQLite databases; the leader's reader hands chunks straight to the follower's
 * stager (what the transport does, without the network); `process.memoryUsage()` is sampled
 * after every chunk, against its value before the transfer. The bound is generous (a quarter
 * of the state) so that a loaded machine's lazy garbage collection cannot fail it, while a
 * copy built whole (at least the state's size) would.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { MemberMeta, SqliteStoreBackend, StateStager, openStateReader } from '../../src/storage/index.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

const keyCount = 80_000
const valueBytes = 1_000
const stateBytes = keyCount * valueBytes
const chunkBytes = 64 * 1024

/** JavaScript heap plus array buffers (bytes): what a state held in memory would grow. */
function used(): number {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

test(`an ${stateBytes / 1e6} MB state streams in ${chunkBytes / 1024} KiB chunks within bounded memory`, () => {
  const leader = temp.open()
  const tree = new SqliteStoreBackend(leader)
  const value = 'v'.repeat(valueBytes)
  leader.transaction(() => {
    tree.putNode({ key: '/big', dir: true, value: '', createdIndex: 1, modifiedIndex: 1, expiresAtMs: null })
    for (let i = 0; i < keyCount; i++) {
      tree.putNode({ key: `/big/${String(i).padStart(6, '0')}`, dir: false, value, createdIndex: i + 2, modifiedIndex: i + 2, expiresAtMs: null })
    }
    new MemberMeta(leader).setAppliedIndex(keyCount + 1)
  })
  const follower = temp.open()
  const stager = new StateStager(follower)
  const baseline = used()
  let peak = 0
  let chunks = 0
  let bytes = 0
  const reader = openStateReader(leader, chunkBytes)
  stager.begin('t1')
  for (let chunk = reader.next(); chunk !== undefined; chunk = reader.next()) {
    stager.write('t1', chunk)
    chunks += 1
    bytes += chunk.byteLength
    peak = Math.max(peak, used() - baseline)
  }
  reader.close()
  stager.install(stager.finish('t1'))
  assert.ok(bytes > stateBytes, `${bytes} bytes streamed`)
  assert.ok(chunks > stateBytes / chunkBytes, `${chunks} chunks`)
  assert.ok(peak < stateBytes / 4, `memory grew by ${(peak / 1e6).toFixed(1)} MB while streaming ${(bytes / 1e6).toFixed(1)} MB`)
  assert.equal(new SqliteStoreBackend(follower).children('/big').length, keyCount)
  assert.equal(new MemberMeta(follower).appliedIndex(), keyCount + 1)
  console.log(`streamed ${(bytes / 1e6).toFixed(1)} MB in ${chunks} chunks; memory grew by ${(peak / 1e6).toFixed(1)} MB at most`)
})
