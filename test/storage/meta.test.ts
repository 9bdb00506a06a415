/**
 * The member's identity and membership tables: the applied index only moves forward, ids
 * are written once, members list by numeric id, and removed ids are remembered (etcd answers
 * 410 for them). Method: a fresh database per test, reopened where a restart matters.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { MemberMeta, type MemberRecord } from '../../src/storage/index.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

function member(id: string, name = `m-${id}`): MemberRecord {
  return { id, name, peerUrls: [`http://10.0.0.1:2380`, `http://[::1]:2380`], clientUrls: [`http://10.0.0.1:2379`] }
}

test('a new member has applied nothing and no identity', () => {
  const meta = new MemberMeta(temp.open())
  assert.equal(meta.appliedIndex(), 0)
  assert.equal(meta.memberId(), undefined)
  assert.equal(meta.clusterId(), undefined)
  assert.deepEqual(meta.listMembers(), [])
  assert.deepEqual(meta.removedMemberIds(), [])
})

test('the applied index moves forward and never back', () => {
  const meta = new MemberMeta(temp.open())
  meta.setAppliedIndex(5)
  meta.setAppliedIndex(5)
  meta.setAppliedIndex(9)
  assert.throws(() => meta.setAppliedIndex(8))
  assert.equal(meta.appliedIndex(), 9)
})

test('member and cluster ids are written once; the same id again is accepted, another refused', () => {
  const meta = new MemberMeta(temp.open())
  meta.setMemberId('8e9e05c52164694d')
  meta.setClusterId('cdf818194e3a8c32')
  meta.setMemberId('8e9e05c52164694d')
  assert.throws(() => meta.setMemberId('1'))
  assert.throws(() => meta.setClusterId('2'))
  assert.equal(meta.memberId(), '8e9e05c52164694d')
  assert.equal(meta.clusterId(), 'cdf818194e3a8c32')
})

test('members list by numeric id (hex without padding), and an upsert replaces', () => {
  const meta = new MemberMeta(temp.open())
  for (const id of ['100', 'ff', 'a', '2b']) meta.upsertMember(member(id))
  meta.upsertMember({ id: 'ff', name: 's255', peerUrls: ['http://10.0.0.9:2380'], clientUrls: [] })
  assert.deepEqual(
    meta.listMembers().map((m) => m.id),
    ['a', '2b', 'ff', '100'],
  )
  assert.deepEqual(meta.listMembers()[2], { id: 'ff', name: 's255', peerUrls: ['http://10.0.0.9:2380'], clientUrls: [] })
  assert.deepEqual(meta.listMembers()[0], member('a'))
})

test('a removed member leaves the list and is remembered for good', () => {
  const meta = new MemberMeta(temp.open())
  meta.upsertMember(member('a1'))
  meta.upsertMember(member('b2'))
  meta.removeMember('a1')
  assert.deepEqual(
    meta.listMembers().map((m) => m.id),
    ['b2'],
  )
  assert.equal(meta.isRemoved('a1'), true)
  assert.equal(meta.isRemoved('b2'), false)
  assert.deepEqual(meta.removedMemberIds(), ['a1'])
  assert.throws(() => meta.upsertMember(member('a1')))
})

test('identity, applied index and membership survive a restart', () => {
  const path = temp.newPath()
  const db = temp.open(path)
  const meta = new MemberMeta(db)
  meta.setMemberId('a1')
  meta.setClusterId('c0ffee')
  meta.setAppliedIndex(42)
  meta.upsertMember(member('a1'))
  meta.upsertMember(member('b2'))
  meta.removeMember('b2')
  temp.close(db)

  const reopened = new MemberMeta(temp.open(path))
  assert.deepEqual(
    {
      memberId: reopened.memberId(),
      clusterId: reopened.clusterId(),
      appliedIndex: reopened.appliedIndex(),
      members: reopened.listMembers(),
      removed: reopened.removedMemberIds(),
    },
    { memberId: 'a1', clusterId: 'c0ffee', appliedIndex: 42, members: [member('a1')], removed: ['b2'] },
  )
})
