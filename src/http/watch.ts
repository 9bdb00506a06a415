/**
 * Long-poll and streaming watches over HTTP (spec v2-api.md §11.1, §11.4, §11.5). Headers
 * are flushed at once (chunked); a long poll ends with one event; a stream writes one event
 * per chunk. A stream watcher with more than `watcherEventsMax` events not yet taken by the
 * kernel is ended (Q23 fix), so its client re-watches with waitIndex. A closed connection
 * removes the watcher at once. When the member stops, open watches end with an empty body
 * (clients treat "200 with no body" as "watch again").
 */
import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'
import type { MemberApi } from '../server/index.js'
import type { HistoryRecord } from '../store/index.js'
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
  let unflushed = 0
  const onEvent = (record: HistoryRecord): boolean => {
    if (raw.writableEnded || raw.destroyed) return false
    if (!request.stream) {
      raw.end(record.json)
      return false
    }
    if (unflushed >= watcherEventsMax) {
      raw.end()
      return false
    }
    unflushed += 1
    raw.write(record.json, () => {
      unflushed -= 1
    })
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
