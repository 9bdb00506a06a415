/**
 * Sends one request exactly as written and captures what matters of the answer.
 *
 * Node's `http` client sends the path and query bytes untouched (no dot-segment removal,
 * no re-encoding), which is what the 301, `%2E%2E` and `%zz` cases need. It upper-cases
 * methods, so a lower-case method (`get`) and anything marked `raw` go over a plain TCP
 * socket with a tiny HTTP/1.1 reader instead. Every request uses its own connection.
 */
import http from 'node:http'
import net from 'node:net'
import type { BodyOutcome, ErrorOutcome, Framing, HeadOutcome, RecordedHeaders, ResponseOutcome } from './types.js'

/** A request after template expansion. */
export interface ConcreteRequest {
  readonly method: string
  /** Path plus `?query` when there is one. */
  readonly target: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
  readonly raw: boolean
}

/** Headers worth comparing (spec §1.3, §2.1, §5.2); the rest (Date, Connection) vary. */
export const recordedHeaderNames = [
  'content-type',
  'location',
  'allow',
  'x-content-type-options',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'x-etcd-index',
  'x-etcd-cluster-id',
  'x-raft-index',
  'x-raft-term',
] as const

/** Milliseconds to wait for a complete ordinary response. */
const responseTimeoutMs = 10_000

/**
 * Sends `req` to `baseUrl` (`http://host:port`) and waits for the whole answer.
 * @returns the response, or an `error` outcome when the connection failed or timed out.
 */
export function exchange(baseUrl: string, req: ConcreteRequest): Promise<ResponseOutcome | ErrorOutcome> {
  if (req.raw || req.method !== req.method.toUpperCase()) return rawExchange(baseUrl, req)
  return new Promise((resolve) => {
    const cr = openRequest(baseUrl, req)
    const timer = setTimeout(() => cr.destroy(new Error('timeout')), responseTimeoutMs)
    cr.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ kind: 'response', ...headOf(res), body: Buffer.concat(chunks).toString('utf8') })
      })
      res.on('error', (e) => {
        clearTimeout(timer)
        resolve({ kind: 'error', error: errorName(e) })
      })
    })
    cr.on('error', (e) => {
      clearTimeout(timer)
      resolve({ kind: 'error', error: errorName(e) })
    })
    cr.end(req.body)
  })
}

/** A watch in flight: its head, then its body. */
export interface WatchHandle {
  /** The response head, or why none came. */
  readonly head: HeadOutcome | ErrorOutcome
  /** Resolves with the events once the response ends or `events` lines arrived; or
   *  `pending` (with what arrived) after `timeoutMs`. Closes the connection either way. */
  body(timeoutMs: number): Promise<BodyOutcome>
  /** Closes the connection. */
  close(): void
}

/**
 * Starts a watch and returns once its head arrived (etcd flushes it at registration,
 * spec §11.1), so later writes in the group happen after the watcher exists.
 * @param events for `stream=true`: how many lines to read before closing.
 * @param headTimeoutMs how long to wait for the head.
 */
export function startWatch(
  baseUrl: string,
  req: ConcreteRequest,
  events: number | undefined,
  headTimeoutMs: number,
): Promise<WatchHandle> {
  return new Promise((resolve) => {
    const cr = openRequest(baseUrl, req)
    const body = new WatchBody(cr, events)
    const headTimer = setTimeout(() => {
      cr.destroy()
      resolve(body.handle({ kind: 'error', error: 'no response head' }))
    }, headTimeoutMs)
    cr.on('response', (res) => {
      clearTimeout(headTimer)
      body.attach(res)
      resolve(body.handle({ kind: 'head', ...headOf(res) }))
    })
    cr.on('error', (e) => {
      clearTimeout(headTimer)
      body.end()
      resolve(body.handle({ kind: 'error', error: errorName(e) }))
    })
    cr.end(req.body)
  })
}

/** Collects a watch's body and lets one waiter know when it is complete. */
class WatchBody {
  private text = ''
  private ended = false
  private wake: (() => void) | undefined

  constructor(
    private readonly cr: http.ClientRequest,
    /** Lines to read (stream=true), or undefined to read until the response ends. */
    private readonly events: number | undefined,
  ) {}

  attach(res: http.IncomingMessage): void {
    res.setEncoding('utf8')
    res.on('data', (c: string) => {
      this.text += c
      this.wake?.()
    })
    res.on('end', () => this.end())
    res.on('error', () => this.end())
  }

  end(): void {
    this.ended = true
    this.wake?.()
  }

  handle(head: WatchHandle['head']): WatchHandle {
    return { head, close: () => this.cr.destroy(), body: (timeoutMs) => this.wait(timeoutMs) }
  }

  private complete(): boolean {
    return this.ended || (this.events !== undefined && countLines(this.text) >= this.events)
  }

  private wait(timeoutMs: number): Promise<BodyOutcome> {
    return new Promise((settle) => {
      const finish = (): void => {
        clearTimeout(timer)
        this.wake = undefined
        const pending = !this.complete()
        this.cr.destroy()
        settle({ kind: 'body', body: this.events === undefined ? this.text : firstLines(this.text, this.events), pending })
      }
      const timer = setTimeout(finish, timeoutMs)
      this.wake = () => {
        if (this.complete()) finish()
      }
      this.wake()
    })
  }
}

function openRequest(baseUrl: string, req: ConcreteRequest): http.ClientRequest {
  const url = new URL(baseUrl)
  const headers: Record<string, string> = { ...req.headers }
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body))
  return http.request({
    host: url.hostname,
    port: Number(url.port),
    method: req.method,
    path: req.target,
    headers,
    agent: false,
    setHost: true,
  })
}

function headOf(res: http.IncomingMessage): { status: number; headers: RecordedHeaders; framing: Framing } {
  const headers: RecordedHeaders = {}
  for (const name of recordedHeaderNames) {
    const v = res.headers[name]
    if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v
  }
  return { status: res.statusCode ?? 0, headers, framing: framingOf(res.headers) }
}

function framingOf(headers: http.IncomingHttpHeaders): Framing {
  if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) return 'chunked'
  if (headers['content-length'] !== undefined) return 'length'
  return 'none'
}

function countLines(text: string): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n += 1
  return n
}

function firstLines(text: string, n: number): string {
  let end = 0
  for (let k = 0; k < n; k++) {
    const i = text.indexOf('\n', end)
    if (i === -1) return text
    end = i + 1
  }
  return text.slice(0, end)
}

function errorName(e: unknown): string {
  const code = (e as { code?: unknown }).code
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'no answer'
  if (e instanceof Error && e.message === 'socket hang up') return 'no answer'
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e)
}

/** The raw-socket path: writes the request bytes itself and reads until the server closes. */
function rawExchange(baseUrl: string, req: ConcreteRequest): Promise<ResponseOutcome | ErrorOutcome> {
  const url = new URL(baseUrl)
  const lines = [`${req.method} ${req.target} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close']
  for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`)
  if (req.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(req.body)}`)
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1')
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), responseTimeoutMs)
    let settled = false
    const settle = (o: ResponseOutcome | ErrorOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(o)
    }
    socket.on('connect', () => socket.end(req.body === undefined ? head : Buffer.concat([head, Buffer.from(req.body)])))
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', (e) => settle(chunks.length === 0 ? { kind: 'error', error: errorName(e) } : parseRaw(Buffer.concat(chunks), req.method)))
    socket.on('close', () => settle(chunks.length === 0 ? { kind: 'error', error: 'no answer' } : parseRaw(Buffer.concat(chunks), req.method)))
  })
}

/** Parses a whole HTTP/1.1 response read until close (Content-Length or chunked). */
function parseRaw(data: Buffer, method: string): ResponseOutcome | ErrorOutcome {
  const split = data.indexOf('\r\n\r\n')
  if (split === -1) return { kind: 'error', error: 'truncated response head' }
  const headLines = data.subarray(0, split).toString('latin1').split('\r\n')
  const status = Number((headLines[0] ?? '').split(' ')[1])
  const all: http.IncomingHttpHeaders = {}
  for (const line of headLines.slice(1)) {
    const c = line.indexOf(':')
    if (c > 0) all[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim()
  }
  const headers: RecordedHeaders = {}
  for (const name of recordedHeaderNames) {
    const v = all[name]
    if (typeof v === 'string') headers[name] = v
  }
  const framing = framingOf(all)
  let body = data.subarray(split + 4)
  if (method.toUpperCase() === 'HEAD') body = Buffer.alloc(0)
  else if (framing === 'chunked') body = dechunk(body)
  else if (framing === 'length') body = body.subarray(0, Number(all['content-length']))
  return { kind: 'response', status, headers, framing, body: body.toString('utf8') }
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = data.indexOf('\r\n', at)
    if (eol === -1) break
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16)
    if (!(size > 0)) break
    parts.push(data.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(parts)
}
