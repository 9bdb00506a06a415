/**
 * Goal: a forwarded write that the network delivers twice enters the log once
 * (src/server/recent-proposals.ts), and the memory of request ids stays bounded.
 * Method: RecentProposals on hand-made entries and 'prop' messages; then a one-member leader
 * that receives the same forwarded proposal twice.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Entry, Message } from '../../src/raft/index.js'
import { encodeExpire, encodeWrite } from '../../src/server/proposal.js'
import { RecentProposals } from '../../src/server/recent-proposals.js'
import type { StoreRequest } from '../../src/store/index.js'
import { peerId, peerMessage, startTestMember, testMemberInfo } from '../support/test-member.js'

const set = (key: string): StoreRequest => ({ op: 'set', key, value: 'v', dir: false, ttlSeconds: null, refresh: false })
const write = (requestId: string, key = '/k'): Entry => ({ index: 0, term: 0, type: 'normal', data: encodeWrite(requestId, 1_000, set(key)) })
const prop = (...entries: Entry[]): Message => peerMessage('prop', testMemberInfo.id, 0, { entries })

describe('RecentProposals', () => {
  test('a proposal seen before is dropped whole; a new one passes and is remembered', () => {
    const recent = new RecentProposals(8)
    const message = prop(write('a.1'))
    assert.equal(recent.filterForwarded(message), message)
    assert.equal(recent.filterForwarded(message), undefined)
    assert.equal(recent.has('a.1'), true)
  })

  test('only the copies are taken out of a batch; entries without a request id always pass', () => {
    const recent = new RecentProposals(8)
    recent.noteEntries([write('a.1')])
    const sweep: Entry = { index: 0, term: 0, type: 'normal', data: encodeExpire(5, 1) }
    const filtered = recent.filterForwarded(prop(write('a.1'), sweep, write('a.2')))
    assert.deepEqual(filtered?.entries.map((e) => e.data), [sweep.data, write('a.2').data])
    assert.equal(recent.filterForwarded(prop(sweep))?.entries.length, 1)
  })

  test('ids of entries in the log count as seen', () => {
    const recent = new RecentProposals(8)
    recent.noteEntries([{ ...write('b.7'), index: 3, term: 1 }, { index: 4, term: 1, type: 'normal', data: '' }])
    assert.equal(recent.filterForwarded(prop(write('b.7'))), undefined)
  })

  test('it remembers the latest `capacity` ids and forgets the oldest first', () => {
    const recent = new RecentProposals(3)
    recent.noteEntries(['1', '2', '3', '4'].map((n) => write(`c.${n}`)))
    assert.deepEqual(['1', '2', '3', '4'].map((n) => recent.has(`c.${n}`)), [false, true, true, true])
    recent.noteEntries([write('c.3')]) // seen again: still one slot
    recent.noteEntries([write('c.5')])
    assert.deepEqual(['2', '3', '4', '5'].map((n) => recent.has(`c.${n}`)), [false, true, true, true])
  })

  test('a capacity below 1 is refused', () => {
    assert.throws(() => new RecentProposals(0))
  })
})

test('a leader that receives the same forwarded write twice applies it once', async (t) => {
  const m = await startTestMember()
  t.after(() => m.close())
  const forwarded: Message = { ...prop(write(`${peerId}.x.1`, '/dup')), term: m.member.raftTerm() }
  m.member.receive([forwarded])
  m.member.receive([forwarded])
  await new Promise((resolve) => setImmediate(resolve))
  await m.member.write(set('/after'))
  const dup = JSON.parse(m.member.get('/dup', { recursive: false, sorted: false }).json) as { node: { modifiedIndex: number } }
  assert.equal(dup.node.modifiedIndex, 1)
  assert.equal(m.member.etcdIndex(), 2, 'one index for /dup, one for /after')
})
