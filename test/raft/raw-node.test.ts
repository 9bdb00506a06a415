/**
 * RawNode's contract with the application (raw-node.ts): what a Ready holds and when, what
 * is refused, what is logged. Method: drive one member directly, persisting each Ready into
 * a MemoryLogStorage as the member loop does. Cluster behaviour lives in the transcripts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AssertionFailure, SeededRng } from '../../src/lib/index.js'
import {
  MemoryLogStorage,
  ProposalDroppedError,
  RawNode,
  type ConfChange,
  type Logger,
  type RaftConfig,
  type Ready,
} from '../../src/raft/index.js'
import { newMessage } from '../../src/raft/message.js'

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} }

function config(id: string, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: false,
    checkQuorum: false,
    messageBytesMax: 1 << 20,
    inflightMessagesMax: 256,
    appliedIndex: 0,
    ...overrides,
  }
}

/** Persists `ready` into `storage`, then advances: the member loop without sending or applying. */
function persistAndAdvance(node: RawNode, storage: MemoryLogStorage, ready: Ready): void {
  if (ready.snapshot !== undefined) storage.applySnapshot(ready.snapshot.metadata)
  storage.append(ready.entries)
  if (ready.hardState !== undefined) storage.setHardState(ready.hardState)
  node.advance(ready)
}

function singleVoter(overrides: Partial<RaftConfig> = {}, logger: Logger = quiet): { node: RawNode; storage: MemoryLogStorage } {
  const storage = new MemoryLogStorage({ voters: ['a'] })
  const node = new RawNode(config('a', overrides), storage, new SeededRng(7), logger)
  return { node, storage }
}

test('a single voter becomes leader on campaign() and commits its no-op in the same Ready', () => {
  const { node } = singleVoter()
  node.campaign()
  const ready = node.ready()
  assert.deepEqual(ready.softState, { leaderId: 'a', role: 'leader' })
  assert.deepEqual(ready.hardState, { term: 1, vote: 'a', commit: 1 })
  assert.deepEqual(ready.entries, [{ index: 1, term: 1, type: 'normal', data: '' }])
  assert.deepEqual(ready.committedEntries, ready.entries)
  assert.deepEqual(ready.messages, [])
})

test('a single voter becomes leader by itself after its election timeout', () => {
  const { node } = singleVoter()
  for (let i = 0; i < 19; i++) node.tick()
  assert.equal(node.status().role, 'leader')
})

test('on a single voter, proposals are persisted and applied from the same Ready', () => {
  const { node, storage } = singleVoter()
  node.campaign()
  persistAndAdvance(node, storage, node.ready())
  node.propose('x')
  node.propose('y')
  const ready = node.ready()
  assert.deepEqual(ready.entries.map((e) => e.data), ['x', 'y'])
  assert.deepEqual(ready.committedEntries, ready.entries)
  assert.equal(ready.hardState?.commit, 3)
  persistAndAdvance(node, storage, ready)
  assert.equal(node.hasReady(), false)
  assert.equal(node.status().applied, 3)
})

test('a follower never hands out committed entries it has not persisted or been given', () => {
  const storage = new MemoryLogStorage({ voters: ['a', 'b'] })
  const node = new RawNode(config('b'), storage, new SeededRng(1), quiet)
  const entries = [1, 2, 3].map((index) => ({ index, term: 1, type: 'normal' as const, data: `e${index}` }))
  // The leader's commit (9) is beyond what it sent: the follower commits only up to 3 (Figure 2, rule 5).
  node.step(newMessage('app', 'a', 'b', { term: 1, index: 0, logTerm: 0, commit: 9, entries }))
  const ready = node.ready()
  assert.deepEqual(ready.entries, entries)
  assert.deepEqual(ready.committedEntries, entries)
  assert.equal(ready.hardState?.commit, 3)
})

test('propose() throws ProposalDroppedError when no leader is known', () => {
  const storage = new MemoryLogStorage({ voters: ['a', 'b', 'c'] })
  const node = new RawNode(config('a'), storage, new SeededRng(1), quiet)
  assert.throws(() => node.propose('x'), ProposalDroppedError)
  node.campaign()
  assert.equal(node.status().role, 'candidate')
  assert.throws(() => node.propose('x'), ProposalDroppedError)
})

test('a follower forwards a proposal to its leader as a prop message', () => {
  const storage = new MemoryLogStorage({ voters: ['a', 'b'] })
  const node = new RawNode(config('b'), storage, new SeededRng(1), quiet)
  node.step(newMessage('heartbeat', 'a', 'b', { term: 1 }))
  persistAndAdvance(node, storage, node.ready())
  node.propose('x')
  const [message] = node.ready().messages
  assert.equal(message?.type, 'prop')
  assert.equal(message?.to, 'a')
  assert.deepEqual(message?.entries.map((e) => e.data), ['x'])
})

test('proposeConfChange writes a confChange entry with the JSON of the change; one at a time', () => {
  const { node, storage } = singleVoter()
  node.campaign()
  persistAndAdvance(node, storage, node.ready())
  const cc: ConfChange = { type: 'addNode', memberId: 'b', context: '{"name":"b"}' }
  node.proposeConfChange(cc)
  assert.throws(() => node.proposeConfChange({ type: 'addNode', memberId: 'c', context: '' }), ProposalDroppedError)
  const ready = node.ready()
  assert.deepEqual(ready.entries, [{ index: 2, term: 1, type: 'confChange', data: JSON.stringify(cc) }])
  assert.deepEqual(node.applyConfChange(cc), { voters: ['a', 'b'] })
  persistAndAdvance(node, storage, ready)
  // Applied: the next change is accepted.
  node.proposeConfChange({ type: 'removeNode', memberId: 'b', context: '' })
})

test('a leader that applies its own removal steps down', () => {
  const { node, storage } = singleVoter()
  node.campaign()
  persistAndAdvance(node, storage, node.ready())
  assert.deepEqual(node.applyConfChange({ type: 'removeNode', memberId: 'a', context: '' }), { voters: [] })
  assert.equal(node.status().role, 'follower')
  assert.throws(() => node.propose('x'), ProposalDroppedError)
})

test('ready() twice without advance() is a bug; hasReady() is false while a Ready is out', () => {
  const { node } = singleVoter()
  node.campaign()
  node.ready()
  assert.equal(node.hasReady(), false)
  assert.throws(() => node.ready(), AssertionFailure)
})

test('messages for another member, or of a local-only type, are dropped', () => {
  const storage = new MemoryLogStorage({ voters: ['a', 'b'] })
  const node = new RawNode(config('a'), storage, new SeededRng(1), quiet)
  node.step(newMessage('app', 'b', 'c', { term: 5 }))
  node.step(newMessage('hup', 'b', 'a'))
  assert.equal(node.status().term, 0)
  assert.equal(node.status().role, 'follower')
})

test('a restarted member hands out only the committed entries after its appliedIndex', () => {
  const storage = new MemoryLogStorage({ voters: ['a'] })
  storage.append([1, 2, 3].map((index) => ({ index, term: 1, type: 'normal' as const, data: `e${index}` })))
  storage.setHardState({ term: 1, vote: 'a', commit: 3 })
  const node = new RawNode(config('a', { appliedIndex: 1 }), storage, new SeededRng(1), quiet)
  const ready = node.ready()
  assert.deepEqual(ready.committedEntries.map((e) => e.index), [2, 3])
  assert.equal(ready.hardState, undefined)
  assert.deepEqual(ready.entries, [])
})

test('election timeouts are drawn from [electionTicks, 2 × electionTicks)', () => {
  const seen = new Set<number>()
  for (let seed = 0; seed < 200; seed++) {
    const storage = new MemoryLogStorage({ voters: ['a', 'b', 'c'] })
    const node = new RawNode(config('a'), storage, new SeededRng(seed), quiet)
    let ticks = 0
    while (node.status().role === 'follower') {
      node.tick()
      ticks++
    }
    seen.add(ticks)
  }
  assert.deepEqual([...seen].sort((x, y) => x - y), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
})

test('status() reports progress on a leader only', () => {
  const { node } = singleVoter()
  assert.equal(node.status().progress, undefined)
  node.campaign()
  assert.deepEqual(node.status().progress, { a: { matchIndex: 1, nextIndex: 2, state: 'replicate' } })
})

test('role, term and leader changes are logged at info level with fields', () => {
  const lines: { fields: object; message: string }[] = []
  const logger: Logger = { ...quiet, info: (fields, message) => lines.push({ fields, message }) }
  const { node } = singleVoter({}, logger)
  node.campaign()
  const leader = lines.find((l) => l.message === 'became leader')
  assert.deepEqual(leader?.fields, { id: 'a', term: 1, leaderId: 'a' })
  assert.ok(lines.some((l) => l.message === 'became candidate'))
})

test('a read on a single voter is answered in the next Ready at the commit index', () => {
  const { node, storage } = singleVoter()
  node.campaign()
  persistAndAdvance(node, storage, node.ready())
  node.readIndex('r1')
  assert.deepEqual(node.ready().readStates, [{ index: 1, context: 'r1' }])
})

test('an acknowledgement of entries a newer leader cut before the Ready is never handed out', () => {
  const storage = new MemoryLogStorage({ voters: ['a', 'b', 'c'] })
  const node = new RawNode(config('c'), storage, new SeededRng(7), quiet)
  const entry = (index: number, term: number) => ({ index, term, type: 'normal' as const, data: `e${index}t${term}` })
  // The leader of term 1 appends entries 1..2; the follower acknowledges index 2 (not yet handed out).
  node.step(newMessage('app', 'a', 'c', { term: 1, index: 0, logTerm: 0, entries: [entry(1, 1), entry(2, 1)], commit: 0 }))
  // In the same turn, the leader of term 2 cuts entry 2 (it holds 1 and its own 2).
  node.step(newMessage('app', 'b', 'c', { term: 2, index: 1, logTerm: 1, entries: [entry(2, 2)], commit: 0 }))
  const ready = node.ready()
  assert.deepEqual(ready.entries.map((e) => `${e.index}/${e.term}`), ['1/1', '2/2'])
  const acks = ready.messages.filter((m) => m.type === 'appResp' && !m.reject).map((m) => `${m.to} term ${m.term} index ${m.index}`)
  assert.deepEqual(acks, ['b term 2 index 2'], 'only the newer leader hears an acknowledgement, of what is persisted')
})
