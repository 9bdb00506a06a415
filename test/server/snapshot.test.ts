/**
 * Goal: the snapshot a leader sends to a member behind its compacted log carries the
 * configuration in effect at the snapshot's index (a member added since the last compaction
 * is a voter in it, thesis §4.1) and stands at the index of the state read, a state that
 * cannot be read neither stops the leader nor sends a snapshot, and a member that installs a snapshot reaches exactly the members it lists.
 * Method: in-memory members (test/support/test-member.ts) whose storage reads or installs
 * a stand-in state; Raft messages from the new member are stepped in by hand.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Message } from '../../src/raft/index.js'
import type { MemberInfo } from '../../src/server/index.js'
import type { StoreRequest } from '../../src/store/index.js'
import { peerId, peerMessage, startTestMember, testMemberInfo, type TestMember } from '../support/test-member.js'

const set = (key: string): StoreRequest => ({ op: 'set', key, value: 'v', dir: false, ttlSeconds: null, refresh: false })
const turn = () => new Promise((resolve) => setImmediate(resolve))

/**
 * A one-member leader that keeps 20 entries behind its applied index and compacts every 2
 * (snapshotCount / 10), then adds a member (the change commits with the one voter before it):
 * the new member is behind the compacted log from the start, and the last compaction, one
 * entry before the change, recorded the configuration without it.
 */
async function leaderWithNewMember(sent: Message[], stateData: () => Uint8Array): Promise<{ m: TestMember; added: MemberInfo }> {
  const m = await startTestMember({ member: { snapshotCount: 20, heartbeatIntervalMs: 3_600_000 }, onSend: (messages) => sent.push(...messages) })
  m.storage.openStateReader = () => {
    const data = stateData()
    let read = false
    return {
      appliedIndex: m.storage.appliedIndex(),
      next: () => (read ? undefined : ((read = true), data)),
      close: () => {},
    }
  }
  for (let i = 0; i < 30; i++) await m.member.write(set(`/k${i}`))
  // Compaction happens every second entry: line the change up just after one.
  if (m.log.snapshot().metadata.index !== m.member.loopStats().appliedIndex - 20) await m.member.write(set('/align'))
  assert.ok(m.log.firstIndex() > 1, 'the log is compacted')
  const added = await m.member.addMember(['http://new-member:2380'])
  return { m, added }
}

/** The new member refuses the leader's probe: it has no log at all. */
function refuseProbe(m: TestMember, from: string): void {
  m.member.receive([{ ...peerMessage('appResp', testMemberInfo.id, m.member.raftTerm(), { reject: true, index: m.log.lastIndex(), rejectHint: 0 }), from }])
}

test('a snapshot sent to a member added after the last compaction lists it among the voters', async (t) => {
  const sent: Message[] = []
  const { m, added } = await leaderWithNewMember(sent, () => new TextEncoder().encode('state'))
  t.after(() => m.close())
  refuseProbe(m, added.id)
  await turn()
  const snap = sent.find((message) => message.type === 'snap' && message.to === added.id)
  assert.ok(snap?.snapshot !== undefined, 'a snapshot was sent to the new member')
  assert.deepEqual([...snap.snapshot.metadata.confState.voters].sort(), [added.id, testMemberInfo.id].sort())
  assert.equal(snap.snapshot.metadata.index, m.member.loopStats().appliedIndex)
  assert.deepEqual(new TextDecoder().decode(snap.snapshot.data), 'state')
})

test('a snapshot whose state cannot be read is not sent, and the leader keeps serving', async (t) => {
  const sent: Message[] = []
  const { m, added } = await leaderWithNewMember(sent, () => {
    throw new RangeError('Invalid string length')
  })
  t.after(() => m.close())
  refuseProbe(m, added.id)
  await turn()
  await turn()
  assert.equal(sent.filter((message) => message.type === 'snap').length, 0)
  // The member is alive and still leads; its store still answers.
  assert.equal(m.member.selfStats().state, 'StateLeader')
  assert.equal(JSON.parse(m.member.get('/k5', { recursive: false, sorted: false }).json).node.key, '/k5')
})

test('a member that installs a snapshot asks its transport to reach exactly the members the snapshot lists', async (t) => {
  const told: (readonly MemberInfo[])[] = []
  const m = await startTestMember({ mode: 'follower', member: { heartbeatIntervalMs: 3_600_000 }, onSetPeers: (members) => told.push(members) })
  t.after(() => m.close())
  const third: MemberInfo = { id: 'c0c0c0c0c0c0c0c0', name: 'n3', peerUrls: ['http://n3:2380'], clientUrls: [] }
  m.storage.importState = () => m.storage.upsertMember(third)
  const voters = [testMemberInfo.id, peerId, third.id]
  const snapshot = { metadata: { index: 10, term: 1, confState: { voters } }, data: new Uint8Array(0) }
  m.member.receive([peerMessage('snap', testMemberInfo.id, 1, { snapshot })])
  await turn()
  assert.equal(m.member.loopStats().appliedIndex, 10)
  assert.deepEqual(told.at(-1)?.map((member) => member.id).sort(), [...voters].sort())
})
