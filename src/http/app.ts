/**
 * The client-facing HTTP server (Fastify). Requests are dispatched by the DECODED path, as
 * Go's ServeMux does for etcd: a path needing cleaning is redirected (301) before anything
 * runs, a bad escape is a plain 400, OPTIONS anywhere is a CORS pre-flight, unknown paths are
 * Go's plain-text 404 (spec v2-api.md §1). Every request is routed to that one dispatcher
 * (`rewriteUrl`), because Fastify's router decodes and matches paths by other rules.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https'
import type { Duplex } from 'node:stream'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { ErrorCode, V2Error } from '../v2error/index.js'
import type { MemberApi } from '../server/index.js'
import * as routes from './cluster-routes.js'
import { corsHook } from './cors.js'
import { handleKeys } from './keys.js'
import { membersRoute } from './members-route.js'
import type { KeyLimits } from './key-request.js'
import { sendJson, sendPlain, sendV2Error } from './render.js'
import { htmlEscape, parseRequestTarget } from './request-path.js'
import { OpenWatches } from './watch.js'
import { MemberMetrics } from './metrics.js'
import { serveSnapshot, snapshotRoutePath, type SnapshotSource } from './snapshot-route.js'
import { Authenticator, type CredentialCacheSettings, type GuestAccess } from '../auth/index.js'
import { AuthGate } from './auth-gate.js'
import { authAllowOf, handleAuth, isAuthPath } from './auth-routes.js'
import { hostWhitelistHook } from './host-whitelist.js'

/** Settings of the client server; each comes from config. */
export interface HttpSettings {
  /** `--cors`: [] or ['*'] for any origin, else the allowed origins. */
  readonly corsOrigins: readonly string[]
  /** Largest request body read (bytes); etcd's form limit is 10 MiB. */
  readonly requestBodyBytesMax: number
  /** Events not yet flushed to a stream watcher before it is ended. */
  readonly watcherEventsMax: number
  readonly limits: KeyLimits
  /** Time allowed to receive a request's headers (ms); closes slow-loris connections. */
  readonly headersTimeoutMs: number
  /** Time allowed to receive a whole request (ms); closes stalled bodies. Watches are responses, not bounded. */
  readonly requestReceiveTimeoutMs: number
  /** Idle keep-alive connections are closed after this (ms). */
  readonly keepAliveTimeoutMs: number
  /** Largest header block, request line included (bytes); larger gets 431. */
  readonly headerBytesMax: number
  /**
   * TLS for an `https://` client URL, ready-made by the caller (certificate, key, CA,
   * whether a client certificate is demanded, versions, ciphers); undefined serves plain
   * HTTP. A new certificate is installed with `app.server.setSecureContext(...)`.
   */
  readonly tls?: HttpsServerOptions
  /** v2 auth settings (`--auth-*`); `authDefaults` when omitted. */
  readonly auth?: AuthSettings
  /** `--host-whitelist`: Host names served on plain-HTTP listeners; [] or ['*'] for any. */
  readonly hostWhitelist?: readonly string[]
}

/**
 * v2 auth settings of the client server; each comes from config. The credential cache's
 * limits (`--auth-cache-ttl-ms`, `--auth-cache-entries-max`) belong to the member's one
 * `Authenticator` (see `buildApp`), not to a listener.
 */
export interface AuthSettings {
  /** Permissions of the guest role created when auth is enabled (`--auth-guest-access`). */
  readonly guestAccess: GuestAccess
}

/** arbor's default: guest gets nothing. */
export const authDefaults: AuthSettings = { guestAccess: 'none' }

/** arbor's credential cache limits (config's defaults): verified credentials kept 60 s, 1,000 at most. */
export const credentialCacheDefaults: CredentialCacheSettings = { cacheTtlMs: 60_000, cacheEntriesMax: 1_000 }

/**
 * What a member's client listeners share, built once per member by the caller so that a
 * member with several client URLs (http and https, say) has one of each.
 */
export interface SharedParts {
  /** Serves `/arbor/v1/snapshot`; the route is absent without it. */
  readonly snapshots?: SnapshotSource
  /**
   * The member's one credential checker: a credential verified through one listener is
   * trusted on the others without a second bcrypt. One of the app's own (with
   * `credentialCacheDefaults`) when omitted.
   */
  readonly authenticator?: Authenticator
}

const allMethods = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS']

type Dispatch = { kind: 'keys' } | { kind: 'auth' } | { kind: 'route'; handler: routes.RouteHandler; rest: string }

const exactRoutes = new Map<string, routes.RouteHandler>([
  ['/version', routes.versionRoute],
  ['/health', routes.healthRoute],
  ['/v2/stats/self', routes.statsSelfRoute],
  ['/v2/stats/store', routes.statsStoreRoute],
  ['/v2/stats/leader', routes.statsLeaderRoute],
  ['/v2/machines', routes.machinesRoute],
])

/** Which handler serves a decoded path (Go ServeMux patterns of etcd's client port). */
function dispatchOf(path: string): Dispatch | undefined {
  if (path === '/v2/keys' || path.startsWith('/v2/keys/')) return { kind: 'keys' }
  if (isAuthPath(path)) return { kind: 'auth' }
  if (path === '/v2/members' || path === '/v2/members/') return { kind: 'route', handler: membersRoute, rest: '' }
  if (path.startsWith('/v2/members/')) return { kind: 'route', handler: membersRoute, rest: path.slice(12) }
  const handler = exactRoutes.get(path)
  return handler === undefined ? undefined : { kind: 'route', handler, rest: '' }
}

/**
 * Builds the client app for `member`. The caller listens (`app.listen`) and closes it.
 * `metrics`: the member's one `MemberMetrics`, shared by every client listener of the member
 * (a member with two client URLs counts its requests in one place); one of its own when omitted.
 * `shared`: the member's other per-member parts (`SharedParts`).
 * Errors reaching Fastify: body too large → 400/210 `http: POST too large`; anything
 * unexpected → 500/300, logged with its stack.
 */
export function buildApp(
  member: MemberApi,
  settings: HttpSettings,
  logger?: FastifyBaseLogger,
  metrics: MemberMetrics = new MemberMetrics(member),
  shared: SharedParts = {},
): FastifyInstance {
  const openWatches = new OpenWatches()
  member.onStop(() => openWatches.endAll())
  const app = Fastify({
    ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
    // No per-request log lines: at 10k+ requests/s they would cost a third of the throughput.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.requestBodyBytesMax,
    exposeHeadRoutes: false,
    return503OnClosing: false,
    serverFactory: (handler) => serverWith(handler, settings),
    // Every request is routed to the one dispatcher below, which reads the original target
    // (`request.originalUrl`) by Go's rules. Fastify's router would otherwise decode the path
    // itself and refuse what Go accepts (`%FF`, an invalid UTF-8 escape, is a key for etcd).
    rewriteUrl: () => '/',
    // Should the router still fail on a target, answer as Go does for an unreadable one.
    frameworkErrors: (_error, _request, reply) => sendBadRequest(reply),
    // Node's parser refuses methods it does not know (`FOO`, `get`) before any route;
    // etcd's handlers answer them 405 (spec §2.1), so the answer is written on the socket.
    clientErrorHandler: (error, socket) => answerClientError(error as unknown as Error & { code?: string; rawPacket?: Buffer }, socket, settings.corsOrigins),
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  const hostWhitelist = settings.hostWhitelist ?? []
  // As etcd: only plain-HTTP listeners check the Host (a TLS client already checked the name).
  if (settings.tls === undefined && hostWhitelist.length > 0 && !hostWhitelist.includes('*')) {
    app.addHook('onRequest', hostWhitelistHook(hostWhitelist, logger))
  }
  app.addHook('onRequest', corsHook(settings.corsOrigins))
  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      reply.header('connection', 'close')
      const tooLarge = new V2Error(ErrorCode.InvalidForm, 'http: POST too large', 0)
      return drainBody(request.raw, 4 * settings.requestBodyBytesMax).then(() => sendV2Error(reply, member, tooLarge))
    }
    // Fastify refuses Content-Types it cannot parse (`text`, ``, `;;;`) before any handler;
    // Go reads no form from them (or answers 210 for what mime.ParseMediaType refuses), so
    // the request is served as if it had no body and the handler applies Go's rules.
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return serve(request, reply)
    if (error instanceof V2Error) return sendV2Error(reply, member, error)
    if (error.statusCode !== undefined && error.statusCode < 500) return sendPlain(reply, error.statusCode, `${error.statusCode} Bad Request`)
    reply.log.error({ err: error }, 'request failed')
    return sendV2Error(reply, member, new V2Error(ErrorCode.RaftInternal, error.message, 0))
  })
  const authSettings = settings.auth ?? authDefaults
  const authenticator = shared.authenticator ?? new Authenticator(member.auth, credentialCacheDefaults, () => member.nowMs())
  const gate = new AuthGate(member, authenticator, metrics, logger)
  const authContext = { member, gate, guestAccess: authSettings.guestAccess }
  const keysContext = { member, limits: { ...settings.limits, watcherEventsMax: settings.watcherEventsMax }, openWatches, metrics, gate }

  const serve = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    // Go rejects a bad escape while reading the request line, before etcd's CORS handler.
    const target = parseRequestTarget(request.originalUrl)
    if (target === undefined) return sendBadRequest(reply)
    if (request.method === 'OPTIONS') return reply.code(200).header('content-length', '0').send()
    if (target.redirectTo !== undefined) return redirect(request, reply, target.redirectTo)
    if (target.path === '/metrics') return metrics.serve(reply)
    if (target.path === snapshotRoutePath && shared.snapshots !== undefined) {
      // The copy holds every key and the users' password hashes: root only while auth is on
      // (etcd requires admin rights for a snapshot).
      if (!(await gate.isRoot(request))) return sendJson(reply, 401, '{"message":"Insufficient credentials"}')
      return serveSnapshot(shared.snapshots, request, reply)
    }
    const dispatch = dispatchOf(target.path)
    if (dispatch === undefined) return sendPlain(reply, 404, '404 page not found')
    if (dispatch.kind === 'keys') return handleKeys(keysContext, request, reply, target.path, target.rawQuery)
    if (dispatch.kind === 'auth') return handleAuth(authContext, request, reply, target.path)
    // Membership changes need the root role while auth is on (etcd hasWriteRootAccess).
    if (dispatch.handler === membersRoute && ['POST', 'PUT', 'DELETE'].includes(request.method) && !(await gate.isRoot(request))) {
      return sendJson(reply, 401, '{"message":"Insufficient credentials"}')
    }
    return dispatch.handler(member, request, reply, dispatch.rest)
  }
  app.route({ method: allMethods, url: '/', handler: serve })
  app.setNotFoundHandler(serve) // methods outside allMethods (TRACE ...) reach it too
  return app
}

/**
 * Answers a request Node's parser refused. An unknown method on a known path gets etcd's 405
 * with the path's Allow list (404 on other paths); anything else Go's plain 400. The
 * connection is closed either way: the parser cannot go on after an error.
 */
function answerClientError(error: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex, corsOrigins: readonly string[]): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  let head = plainClose(statusOfClientError(error.code))
  if (error.code === 'HPE_INVALID_METHOD' && error.rawPacket !== undefined) {
    const requestLine = error.rawPacket.toString('latin1').split('\r\n', 1)[0] ?? ''
    const parts = /^[!-~]{1,32} (\S+) HTTP\/1\.[01]$/.exec(requestLine)
    if (parts === null) {
      socket.end(head)
      return
    }
    const target = parseRequestTarget(parts[1] ?? '/')
    const allow = target === undefined ? undefined : allowOf(target.path)
    const cors = corsOrigins.length === 0 || corsOrigins.includes('*') ? corsHeaderLines : ''
    const body = allow === undefined ? '404 page not found\n' : 'Method Not Allowed\n'
    const status = allow === undefined ? '404 Not Found' : '405 Method Not Allowed'
    head =
      `HTTP/1.1 ${status}\r\n${cors}${allow === undefined ? '' : `Allow: ${allow}\r\n`}` +
      `Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
  }
  socket.end(head)
}

/** Node's own statuses for what its parser refuses: 431 for headers over the limit, 408 for timeouts. */
function statusOfClientError(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large'
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout'
  return '400 Bad Request'
}

function plainClose(status: string): string {
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`
}

const corsHeaderLines =
  'Access-Control-Allow-Headers: accept, content-type, authorization\r\n' +
  'Access-Control-Allow-Methods: POST, GET, OPTIONS, PUT, DELETE\r\n' +
  'Access-Control-Allow-Origin: *\r\n'

/** The Allow list etcd's handler for `path` sends with a 405, or undefined for an unknown path. */
function allowOf(path: string): string | undefined {
  const dispatch = dispatchOf(path)
  if (dispatch === undefined) return undefined
  if (dispatch.kind === 'keys') return 'HEAD,GET,PUT,POST,DELETE'
  if (dispatch.kind === 'auth') return authAllowOf(path)
  if (dispatch.handler === membersRoute) return 'GET,POST,DELETE,PUT'
  if (dispatch.handler === routes.machinesRoute) return 'GET,HEAD'
  return 'GET'
}

/** Longest wait for the rest of a refused body before answering anyway (Go lingers 500 ms). */
const drainTimeMaxMs = 1_000

/**
 * Reads and drops what is left of a request body, at most `bytesMax` more bytes, before the
 * answer is sent: closing a connection with unread data resets it, and a client still
 * sending would lose the answer (Go waits a moment before closing; Node does not).
 * Resolves when the body ended, the connection closed, `bytesMax` was passed, or after
 * `drainTimeMaxMs` (for a client that waits for the answer before sending its body).
 */
function drainBody(request: IncomingMessage, bytesMax: number): Promise<void> {
  return new Promise((resolve) => {
    if (request.complete || request.readableEnded || request.destroyed) return resolve()
    let read = 0
    const timer = setTimeout(() => done(), drainTimeMaxMs)
    const done = (): void => {
      clearTimeout(timer)
      request.off('data', onData)
      request.off('end', done)
      request.off('close', done)
      request.off('error', done)
      resolve()
    }
    const onData = (chunk: Buffer): void => {
      read += chunk.length
      if (read > bytesMax) done()
    }
    request.on('data', onData)
    request.once('end', done)
    request.once('close', done)
    request.once('error', done)
    request.resume()
  })
}

/** Go's answer to a request line it cannot parse: plain text, no CORS, connection closed. */
function sendBadRequest(reply: FastifyReply): FastifyReply {
  reply.removeHeader('access-control-allow-origin')
  reply.removeHeader('access-control-allow-methods')
  reply.removeHeader('access-control-allow-headers')
  reply.header('connection', 'close')
  return reply.code(400).header('content-type', 'text/plain; charset=utf-8').send('400 Bad Request')
}

/** Go's http.Redirect with 301: an HTML anchor for GET and HEAD, an empty body otherwise. */
function redirect(request: FastifyRequest, reply: FastifyReply, location: string): FastifyReply {
  reply.code(301).header('location', location)
  if (request.method !== 'GET' && request.method !== 'HEAD') return reply.header('content-length', '0').send()
  const body = `<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n`
  return reply.header('content-type', 'text/html; charset=utf-8').send(body)
}

function serverWith(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  settings: HttpSettings,
): Server {
  const options = {
    maxHeaderSize: settings.headerBytesMax,
    headersTimeout: settings.headersTimeoutMs,
    requestTimeout: settings.requestReceiveTimeoutMs,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (default 30 s, which would let a
    // slow-loris connection live up to 40 s under a 10 s headers timeout).
    connectionsCheckingInterval: 1_000,
  }
  if (settings.tls === undefined) return createServer(options, handler)
  // An https.Server is an http.Server to Fastify: same request and response objects. A TLS
  // handshake must also finish within the headers timeout, so a client that stalls in it
  // cannot hold a socket longer than one that stalls in its headers.
  const server = createHttpsServer({ ...options, ...settings.tls, handshakeTimeout: settings.headersTimeoutMs }, handler)
  return server as unknown as Server
}
