/**
 * Long-poll and streaming watches over HTTP (spec v2-api.md §11.1, §11.4, §11.5). Headers
 * are flushed at once (chunked); a long poll ends with one event; a stream writes one event
 * per chunk. A stream that already holds `watcherEventsMax` events the kernel has not taken,
 * queued behind earlier data its client has not read yet, is ended when one more event comes
 * (Q23 fix, see `StreamBacklog`), so its client re-watches with waitIndex. A closed
 * connection removes the watcher at once. When the member stops, open watches end with an
 * empty body (clients treat "200 with no body" as "watch again").
 */
import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'
import type { MemberApi } from '../server/index.js'
import type { HistoryRecord } from '../store/index.js'
import { assert } from '../lib/index.js'
import { etcdHeaders } from './render.js'

/** The open watch responses of one app, ended together when the member stops. */
export class OpenWatches {
  private readonly open = new Set<ServerResponse>()

  add(response: ServerResponse): void {
    this.open.add(response)
    response.on('close', () => this.open.delete(response))
  }

  endAll(): void {
    for (const response of this.open) response.end()
    this.open.clear()
  }
}

/** A watch request after validation. */
export interface WatchRequest {
  readonly key: string
  readonly recursive: boolean
  readonly stream: boolean
  readonly waitIndex: number
}

/**
 * Registers the watch, then takes over the response.
 * @throws V2Error 401 (history cleared) or 300 (too many watchers) before anything is sent.
 */
export function serveWatch(
  member: MemberApi,
  request: WatchRequest,
  reply: FastifyReply,
  openWatches: OpenWatches,
  watcherEventsMax: number,
): void {
  const raw = reply.raw
  const backlog = new StreamBacklog(watcherEventsMax, setImmediate)
  const onEvent = (record: HistoryRecord): boolean => {
    if (raw.writableEnded || raw.destroyed) return false
    if (!request.stream) {
      raw.end(record.json)
      return false
    }
    const fate = backlog.admit(raw.writableLength)
    if (fate === 'full') {
      raw.end()
      return false
    }
    if (fate === 'queued') raw.write(record.json, () => backlog.taken())
    else raw.write(record.json)
    return true
  }
  const options = { recursive: request.recursive, stream: request.stream, sinceIndex: request.waitIndex }
  const start = member.watch(request.key, options, onEvent)

  reply.hijack()
  const headers = { ...reply.getHeaders(), ...etcdHeaders(member, start.etcdIndex) }
  raw.writeHead(200, headers as Record<string, string>)
  raw.flushHeaders()
  for (const record of start.fromHistory) {
    if (!onEvent(record)) break
  }
  const watcher = start.watcher
  if (watcher === undefined) return
  if (raw.writableEnded) {
    watcher.remove()
    return
  }
  openWatches.add(raw)
  raw.on('close', () => watcher.remove())
}

/** What a stream does with its next event: see `StreamBacklog.admit`. */
export type StreamEventFate = 'free' | 'queued' | 'full'

/**
 * Counts the events a stream watch holds for a client that does not keep up, and says when
 * there are too many (spec v2-api.md §11.5; etcd drops a watcher whose queue of 100 is full).
 *
 * An event is *queued* when it is written in a turn that began with bytes of an earlier turn
 * still waiting for the kernel (`writableLength > 0`), and stays queued until the kernel has
 * taken it (its write callback). Events written in a turn that began with nothing waiting never
 * count: Node's HTTP response corks its socket until the end of the turn, so everything one
 * turn writes (one apply batch, one history replay) waits at least that long whatever the
 * client does, and counting it would measure the batch instead of the client. A client whose
 * socket takes each turn's events before the next turn has nothing queued; one that stops
 * reading queues every event once the kernel's buffers are full, and is ended after
 * `eventsMax` of them. What the queue holds is bounded: `eventsMax` events, plus one turn's
 * events (at most one history replay, which the history holds anyway).
 */
export class StreamBacklog {
  /** Queued events not yet taken by the kernel. Invariant: 0 ≤ queued ≤ eventsMax. */
  private queued = 0
  /** Whether the current turn began with bytes of an earlier turn waiting; undefined between turns. */
  private turnBehind: boolean | undefined = undefined

  /**
   * @param eventsMax events a stream may hold queued (`watcherEventsMax`, at least 1).
   * @param schedule  runs its callback after the current turn, once the corked writes have
   *                  gone to the kernel (`setImmediate`; tests pass their own).
   */
  constructor(
    private readonly eventsMax: number,
    private readonly schedule: (callback: () => void) => void,
  ) {
    assert(Number.isInteger(eventsMax), 'eventsMax is an integer')
    assert(eventsMax >= 1, 'eventsMax is at least 1')
    // The turn that creates the stream writes its headers and its history replay: nothing of
    // an earlier turn can be waiting yet, whatever the headers' write left in the socket.
    this.beginTurn(false)
  }

  /**
   * Decides the fate of the next event, before it is written.
   * @param waitingBytes bytes written to the response that the kernel has not taken
   *                     (`ServerResponse.writableLength`: its socket's buffer).
   * @returns `free`: write it, it does not count; `queued`: write it and call `taken()` from
   *          its write callback; `full`: do not write it and end the stream, because
   *          `eventsMax` events are queued already.
   */
  admit(waitingBytes: number): StreamEventFate {
    assert(waitingBytes >= 0, 'waiting bytes are not negative')
    if (this.turnBehind === undefined) this.beginTurn(waitingBytes > 0)
    if (this.turnBehind !== true) return 'free'
    if (this.queued >= this.eventsMax) return 'full'
    this.queued += 1
    return 'queued'
  }

  /** The kernel has taken a `queued` event (its write callback ran). */
  taken(): void {
    assert(this.queued > 0, 'a queued event is taken once')
    this.queued -= 1
  }

  private beginTurn(behind: boolean): void {
    this.turnBehind = behind
    this.schedule(() => {
      this.turnBehind = undefined
    })
  }
}
