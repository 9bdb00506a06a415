/**
 * `forceNewCluster` rewrites a member's durable log as etcd's restartAsStandaloneNode does:
 * entries after the commit index are discarded, one removeNode entry per other member
 * (including one added by a committed, unapplied entry) is appended at the current term and
 * committed, and the configuration becomes the member alone. Method: a real SQLite log.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { forceNewCluster } from '../../src/server/index.js'
import { SqliteLogStore } from '../../src/storage/index.js'
import { TempDatabases } from '../storage/temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

const member = (id: string) => ({ id, name: `n-${id}`, peerUrls: [`http://${id}:2380`], clientUrls: [] })
const addNode = (id: string) => JSON.stringify({ type: 'addNode', memberId: id, context: JSON.stringify({ requestId: 'r', member: member(id) }) })

test('uncommitted entries go, the others are removed through committed entries, the configuration is the member alone', () => {
  const log = new SqliteLogStore(temp.open())
  log.append([
    { index: 1, term: 1, type: 'normal', data: '' },
    { index: 2, term: 2, type: 'normal', data: '' },
    { index: 3, term: 2, type: 'confChange', data: addNode('d4') },
    { index: 4, term: 3, type: 'normal', data: 'not committed' },
    { index: 5, term: 3, type: 'normal', data: 'not committed' },
  ])
  log.setHardState({ term: 4, vote: 'b2', commit: 3 })
  log.setConfState({ voters: ['a1', 'b2', 'c3'] })
  const done = forceNewCluster(log, [member('a1'), member('b2'), member('c3')], 'a1', 2)
  assert.deepEqual(done, { discarded: 2, removed: ['b2', 'c3', 'd4'], commit: 6 })
  assert.equal(log.lastIndex(), 6)
  const appended = log.entries(4, 7, Infinity)
  assert.deepEqual(appended.map((e) => [e.index, e.term, e.type, JSON.parse(e.data).type, JSON.parse(e.data).memberId]), [
    [4, 4, 'confChange', 'removeNode', 'b2'],
    [5, 4, 'confChange', 'removeNode', 'c3'],
    [6, 4, 'confChange', 'removeNode', 'd4'],
  ])
  assert.deepEqual(JSON.parse(JSON.parse(appended[0]!.data).context), { requestId: '', member: member('b2') })
  assert.deepEqual(log.initialState(), { hardState: { term: 4, vote: 'b2', commit: 6 }, confState: { voters: ['a1'] } })
})

test('a member already alone keeps its committed log and appends nothing', () => {
  const log = new SqliteLogStore(temp.open())
  log.append([{ index: 1, term: 1, type: 'normal', data: '' }, { index: 2, term: 1, type: 'normal', data: 'x' }])
  log.setHardState({ term: 1, vote: 'a1', commit: 2 })
  log.setConfState({ voters: ['a1'] })
  assert.deepEqual(forceNewCluster(log, [member('a1')], 'a1', 2), { discarded: 0, removed: [], commit: 2 })
  assert.equal(log.lastIndex(), 2)
})
