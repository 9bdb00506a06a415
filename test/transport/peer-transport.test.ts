/**
 * Goal: members exchange Raft messages over real HTTP with the guarantees the member loop
 * relies on: per-peer order, one POST per peer per event-loop turn, a bounded queue that
 * drops and counts, backoff and recovery, unreachable reports that never re-enter `send`,
 * and refusal across clusters. Method: PeerTransport and buildPeerApp on 127.0.0.1 ports;
 * every wait is on an event (a delivery, a report, `flushed()`), never on time, so each
 * outcome is certain even though the timing is not.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Message } from '../../src/raft/index.js'
import type { PeerSender } from '../../src/server/index.js'
import { closedPort, emptyAppends, message, nextTurn, startReceiver, startTransport, type Receiver } from './peer-fixture.js'

type Member = { memberId: string; receiver: Receiver; sender: ReturnType<typeof startTransport> }

async function cluster(memberIds: string[], t: { after: (fn: () => Promise<void>) => void }): Promise<Member[]> {
  const members: Member[] = []
  for (const memberId of memberIds) members.push({ memberId, receiver: await startReceiver(memberId), sender: startTransport(memberId) })
  for (const member of members) {
    for (const other of members) member.sender.transport.addPeer(other.memberId, [other.receiver.url])
  }
  t.after(async () => {
    for (const member of members) await member.sender.transport.stop()
    for (const member of members) await member.receiver.app.close()
  })
  return members
}

/** The messages `receiver` got from `from`, as (type, commit) pairs. */
function fromSender(receiver: Receiver, from: string): string[] {
  return receiver.messages().filter((m) => m.from === from).map((m) => `${m.type}:${m.commit}`)
}

test('three members exchange messages, each peer receiving in the order sent', async (t) => {
  const [a, b, c] = await cluster(['a', 'b', 'c'], t)
  assert.ok(a && b && c)
  const expected = new Map<string, string[]>()
  for (let turn = 0; turn < 10; turn++) {
    for (const [from, to] of [[a, b], [a, c], [b, a], [c, a], [b, c]] as const) {
      const messages: Message[] = [message('app', from.memberId, to.memberId, { commit: turn * 2 }), message('appResp', from.memberId, to.memberId, { commit: turn * 2 + 1 })]
      from.sender.transport.send(messages)
      const key = `${from.memberId}->${to.memberId}`
      expected.set(key, [...(expected.get(key) ?? []), ...messages.map((m) => `${m.type}:${m.commit}`)])
    }
    await nextTurn()
  }
  await Promise.all([a, b, c].map((m) => m.sender.transport.flushed()))
  for (const [key, want] of expected) {
    const [from, to] = key.split('->')
    const receiver: Receiver | undefined = [a, b, c].find((m) => m.memberId === to)?.receiver
    assert.ok(receiver && from)
    assert.deepEqual(fromSender(receiver, from), want, key)
  }
  assert.deepEqual(fromSender(b.receiver, 'c'), [])
  const stats = a.sender.transport.stats()
  assert.deepEqual(Object.keys(stats).sort(), ['b', 'c'])
  assert.equal(stats['b']?.success, 20)
  assert.equal(stats['b']?.fail, 0)
  assert.ok((stats['b']?.latencyMs.maximum ?? 0) > 0)
})

test('everything sent to a peer in one event-loop turn leaves in one POST', async (t) => {
  const [a, b] = await cluster(['a', 'b'], t)
  assert.ok(a && b)
  for (const m of emptyAppends('a', 'b', 1, 100)) a.sender.transport.send([m])
  await a.sender.transport.flushed()
  const stats = a.sender.transport.stats()['b']
  assert.equal(stats?.batches, 1)
  assert.equal(stats?.success, 100)
  assert.ok((stats?.bytes ?? 0) > 100 * 50)
  assert.equal(b.receiver.batches.all.length, 1)
  assert.deepEqual(b.receiver.messages().map((m) => m.commit), Array.from({ length: 100 }, (_, i) => i + 1))
})

test('a peer that is down: the queue keeps peerQueueMessagesMax, drops and counts the rest, and reports', async (t) => {
  const a = startTransport('a', { settings: { peerQueueMessagesMax: 8 } })
  t.after(() => a.transport.stop())
  a.transport.addPeer('b', [`http://127.0.0.1:${await closedPort()}`])
  a.transport.send(emptyAppends('a', 'b', 1, 20))
  assert.equal(a.unreachable.all.length, 0, 'send never calls back from inside itself')
  assert.deepEqual(a.transport.stats()['b']?.queued, 8)
  assert.deepEqual(a.transport.stats()['b']?.dropped, 12)
  await a.transport.flushed()
  const stats = a.transport.stats()['b']
  assert.deepEqual(
    { success: stats?.success, fail: stats?.fail, dropped: stats?.dropped, queued: stats?.queued, backoffMs: stats?.backoffMs },
    { success: 0, fail: 8, dropped: 12, queued: 0, backoffMs: 5 },
  )
  const reports = await a.unreachable.atLeast(2)
  assert.deepEqual(reports, ['b', 'b'], 'one report for the drops, one for the failed POST')
  assert.deepEqual(a.logger.messages('warn'), ['peer became inactive: batch failed'])
})

test('after failures the delay doubles; when the peer comes back, queued messages arrive and the delay resets', async (t) => {
  const port = await closedPort()
  const a = startTransport('a')
  let b: Receiver | undefined
  t.after(async () => {
    await a.transport.stop()
    await b?.app.close()
  })
  a.transport.addPeer('b', [`http://127.0.0.1:${port}`])

  a.transport.send(emptyAppends('a', 'b', 1, 1))
  await a.transport.flushed()
  assert.equal(a.transport.stats()['b']?.backoffMs, 5)
  a.transport.send(emptyAppends('a', 'b', 2, 1))
  await a.transport.flushed()
  assert.equal(a.transport.stats()['b']?.backoffMs, 10)

  b = await startReceiver('b', { port })
  a.transport.send(emptyAppends('a', 'b', 3, 2))
  const [batch] = await b.batches.atLeast(1)
  assert.deepEqual(batch?.map((m) => m.commit), [3, 4])
  await a.transport.flushed()
  const stats = a.transport.stats()['b']
  assert.deepEqual({ success: stats?.success, fail: stats?.fail, backoffMs: stats?.backoffMs }, { success: 2, fail: 2, backoffMs: 0 })
  assert.deepEqual(a.unreachable.all, ['b', 'b'], 'one report per failed POST')
  assert.deepEqual(a.logger.messages('info').slice(-1), ['peer became active'])
})

test('a peer with several URLs is tried at the next one after a failure', async (t) => {
  const b = await startReceiver('b')
  const a = startTransport('a')
  t.after(async () => {
    await a.transport.stop()
    await b.app.close()
  })
  a.transport.addPeer('b', [`http://127.0.0.1:${await closedPort()}`, b.url])
  a.transport.send(emptyAppends('a', 'b', 1, 1))
  await a.transport.flushed()
  a.transport.send(emptyAppends('a', 'b', 2, 1))
  await a.transport.flushed()
  assert.deepEqual(b.messages().map((m) => m.commit), [2])
})

test('updatePeer moves a peer to its new URL', async (t) => {
  const b = await startReceiver('b')
  const a = startTransport('a')
  t.after(async () => {
    await a.transport.stop()
    await b.app.close()
  })
  a.transport.addPeer('b', [`http://127.0.0.1:${await closedPort()}`])
  a.transport.send(emptyAppends('a', 'b', 1, 1))
  await a.transport.flushed()
  a.transport.updatePeer('b', [b.url])
  a.transport.send(emptyAppends('a', 'b', 2, 1))
  await a.transport.flushed()
  assert.deepEqual(b.messages().map((m) => m.commit), [2])
  assert.deepEqual(a.transport.peerList(), [{ memberId: 'b', peerUrls: [b.url] }])
})

test('a removed peer gets nothing more; messages to it are dropped and logged once', async (t) => {
  const [a, b] = await cluster(['a', 'b'], t)
  assert.ok(a && b)
  a.sender.transport.send(emptyAppends('a', 'b', 1, 1))
  await a.sender.transport.flushed()
  await a.sender.transport.removePeer('b')
  a.sender.transport.send(emptyAppends('a', 'b', 2, 3))
  await a.sender.transport.flushed()
  assert.deepEqual(b.receiver.messages().map((m) => m.commit), [1])
  assert.equal(a.sender.transport.hasPeer('b'), false)
  assert.deepEqual(a.sender.transport.stats(), {})
  assert.deepEqual(a.sender.logger.messages('warn'), ['message dropped: unknown peer'])
})

test('a member of another cluster refuses the batch with 412: nothing is delivered, the peer is reported unreachable', async (t) => {
  const b = await startReceiver('b', { clusterId: 'aaaaaaaaaaaaaaaa' })
  const a = startTransport('a')
  t.after(async () => {
    await a.transport.stop()
    await b.app.close()
  })
  a.transport.addPeer('b', [b.url])
  a.transport.send(emptyAppends('a', 'b', 1, 3))
  assert.deepEqual(await a.unreachable.atLeast(1), ['b'])
  assert.deepEqual(b.messages(), [])
  assert.equal(a.transport.stats()['b']?.fail, 3)
  const warning = a.logger.lines.find((line) => line.level === 'warn')
  assert.match(JSON.stringify(warning?.fields), /peer answered 412: cluster ID mismatch/)
  assert.deepEqual(b.logger.messages('warn'), ['peer request refused: cluster ID mismatch'])
})

test('addPeer ignores this member itself; send refuses local message types and messages to itself', (t) => {
  const a = startTransport('a')
  t.after(() => a.transport.stop())
  a.transport.addPeer('a', ['http://127.0.0.1:1'])
  assert.deepEqual(a.transport.peerList(), [])
  assert.throws(() => a.transport.send([message('hup', 'a', 'b')]), /local message type/)
  assert.throws(() => a.transport.send([message('app', 'a', 'a')]), /never sends to itself/)
  assert.throws(() => a.transport.addPeer('b', []), RangeError)
  assert.throws(() => a.transport.addPeer('b', ['ftp://127.0.0.1:1']), RangeError)
})

test('after stop, send does nothing and no callback runs', async () => {
  const a = startTransport('a')
  a.transport.addPeer('b', [`http://127.0.0.1:${await closedPort()}`])
  a.transport.send(emptyAppends('a', 'b', 1, 3))
  await a.transport.stop()
  a.transport.send(emptyAppends('a', 'b', 4, 3))
  await nextTurn()
  assert.deepEqual(a.unreachable.all, [])
  assert.deepEqual(a.transport.stats(), {})
})

test("PeerTransport fits the server's PeerSender port as it is", (t) => {
  const a = startTransport('a')
  t.after(() => a.transport.stop())
  const port: PeerSender = a.transport
  port.send([])
  assert.deepEqual(a.transport.stats(), {})
})
