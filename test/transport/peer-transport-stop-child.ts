/**
 * Child process of peer-transport-stop.test.ts: leaves every kind of pending work a
 * transport can have (a keep-alive connection, a retry timer of one minute, queued messages,
 * a snapshot transfer under way), stops it all, and then must exit on its own. Prints one
 * JSON line, with the resources still active right after stop (sockets may still be
 * closing; timers must be gone).
 */
import { closedPort, emptyAppends, nextTurn, snapMessage, startReceiver, startTransport } from './peer-fixture.js'

const b = await startReceiver('b')
const a = startTransport('a', { settings: { backoffInitialMs: 60_000, backoffMaxMs: 60_000, keepAliveTimeoutMs: 60_000 } })
a.transport.addPeer('b', [b.url])
a.transport.addPeer('c', [`http://127.0.0.1:${await closedPort()}`])
a.transport.send([...emptyAppends('a', 'b', 1, 3), ...emptyAppends('a', 'c', 1, 3)])
await a.transport.flushed()
a.transport.send(emptyAppends('a', 'c', 4, 3))
a.transport.send([snapMessage('a', 'b', new Uint8Array(4 * 1024 * 1024))])
await nextTurn()
const before = a.transport.stats()
await a.transport.stop()
await b.app.close()
const resources = process.getActiveResourcesInfo()
console.log(
  JSON.stringify({
    delivered: b.messages().length,
    queuedForC: before['c']?.queued,
    backoffMsForC: before['c']?.backoffMs,
    reportsAfterStop: a.snapshots.all.length,
    resources,
  }),
)
