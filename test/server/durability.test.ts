/**
 * Goal: a loop turn waits for the disk exactly when Raft needs what it wrote to survive a
 * power cut before its messages leave: new entries, a snapshot, a new term, or a vote
 * (Raft Figure 2, "updated on stable storage before responding to RPCs"); a turn that only
 * moves the commit index or applies entries does not (src/server/durability.ts).
 * Method: `mustPersistDurably` over a table of Ready batches, then one follower member
 * (test/support/test-member.ts) granting a vote, whose turn is recorded as durable.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Entry, HardState, Message, Ready } from '../../src/raft/index.js'
import { mustPersistDurably, type PersistedVote } from '../../src/server/durability.js'
import { peerId, peerMessage, startTestMember, testMemberInfo } from '../support/test-member.js'

/** A Ready that carries nothing but `fields`. */
function ready(fields: Partial<Ready>): Ready {
  return { entries: [], committedEntries: [], messages: [], readStates: [], ...fields }
}

const entry: Entry = { index: 6, term: 3, type: 'normal', data: '' }
/** On disk: term 3, voted for a; the commit index is 5. */
const votedInTerm3: PersistedVote = { term: 3, vote: 'a' }
const hardState = (fields: Partial<HardState>): HardState => ({ term: 3, vote: 'a', commit: 5, ...fields })

const cases: { name: string; persisted?: PersistedVote; ready: Ready; want: boolean }[] = [
  { name: 'a turn that persists entries must sync', ready: ready({ entries: [entry] }), want: true },
  {
    name: 'a turn that persists entries must sync even when its hard state only moves the commit index',
    ready: ready({ entries: [entry], hardState: hardState({ commit: 6 }) }),
    want: true,
  },
  {
    name: 'a turn that installs a snapshot must sync',
    ready: ready({ snapshot: { metadata: { index: 9, term: 3, confState: { voters: ['a', 'b'] } }, data: new Uint8Array(0) } }),
    want: true,
  },
  {
    name: 'a turn whose hard state only moves the commit index need not sync',
    ready: ready({ hardState: hardState({ commit: 6 }), committedEntries: [entry] }),
    want: false,
  },
  { name: 'a turn that records a new term must sync', ready: ready({ hardState: hardState({ term: 4, vote: '' }) }), want: true },
  { name: 'a turn that records a new term and a vote in it must sync', ready: ready({ hardState: hardState({ term: 4, vote: 'b' }) }), want: true },
  {
    name: 'a turn that records a vote in the same term must sync',
    persisted: { term: 3, vote: '' },
    ready: ready({ hardState: hardState({ vote: 'b' }) }),
    want: true,
  },
  { name: 'a turn with the same term and vote as the disk need not sync', ready: ready({ hardState: hardState({}) }), want: false },
  {
    name: 'a turn with no hard state and no entries need not sync, whatever it sends or applies',
    ready: ready({ committedEntries: [entry], messages: [peerMessage('heartbeat', 'a', 3)], readStates: [{ index: 5, context: 'r1' }] }),
    want: false,
  },
]

for (const c of cases) {
  test(c.name, () => assert.equal(mustPersistDurably(c.ready, c.persisted ?? votedInTerm3), c.want))
}

test('a follower that grants a vote in a new term records it in a durable turn before answering', async (t) => {
  // Each message sent, with the number of transactions the member had run by then.
  const sent: { message: Message; transactions: number }[] = []
  const transactions: { log: readonly boolean[] } = { log: [] }
  const onSend = (messages: readonly Message[]) => sent.push(...messages.map((message) => ({ message, transactions: transactions.log.length })))
  const m = await startTestMember({ mode: 'follower', member: { heartbeatIntervalMs: 3_600_000 }, onSend })
  t.after(() => m.close())
  transactions.log = m.storage.transactions
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  await turn()
  // electionTicks (10) ticks without a word from the leader end its lease (thesis §6.2, §9.6):
  // from then on the member hears a candidate.
  for (let i = 0; i < 10; i++) m.raft.tick()
  m.member.receive([])
  await turn()
  assert.equal(m.member.raftTerm(), 1)
  const before = { transactions: m.storage.transactions.length, sent: sent.length }
  const last = m.log.lastIndex()
  m.member.receive([peerMessage('vote', testMemberInfo.id, 2, { index: last, logTerm: m.log.term(last) })])
  await turn()
  assert.deepEqual(m.storage.transactions.slice(before.transactions), [true], 'the turn that records the vote waits for the disk')
  const { term, vote } = m.log.initialState().hardState
  assert.deepEqual({ term, vote }, { term: 2, vote: peerId })
  const answers = sent.slice(before.sent).map(({ message, transactions: after }) => ({
    type: message.type,
    to: message.to,
    term: message.term,
    reject: message.reject,
    after,
  }))
  // The answer leaves only after the durable transaction that records the vote.
  assert.deepEqual(answers, [{ type: 'voteResp', to: peerId, term: 2, reject: false, after: before.transactions + 1 }])
})
