/**
 * The receiving side of the transport: the Fastify app behind `--listen-peer-urls`.
 *
 *   POST /raft           a batch of Raft messages (application/json, wire.ts) → 204
 *   POST /raft/snapshot  one chunk of a snapshot (application/octet-stream) → 204
 *   GET  /members        the member list, for members joining an existing cluster
 *   GET  /version        `{ etcdserver, etcdcluster }`, the peer version check
 *
 * Like etcd's rafthttp handlers, a POST from another cluster is refused with 412 before its
 * body is read (`X-Etcd-Cluster-ID`), and so is one addressed to another member
 * (`X-Raft-To`). A batch is handed to `onMessages` synchronously, whole and in order, before
 * the 204 goes out; a snapshot only once its last chunk arrived. Errors are plain text, one
 * line, as Go's http.Error writes them.
 */
import { Buffer } from 'node:buffer'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger, MemberId, Message } from '../raft/index.js'
import type { PeerAppSettings } from './settings.js'
import { ChunkError, SnapshotReceiver, memorySnapshotSink, type SnapshotChunk, type SnapshotSink } from './snapshot-receiver.js'
import {
  WireError,
  decodeBatch,
  decodeSnapshotHeader,
  encodeMemberList,
  peerHeaders,
  peerPaths,
  wireVersion,
  type PeerMemberInfo,
  type PeerVersion,
} from './wire.js'

/** A snapshot received whole, for logs and metrics. */
export interface ReceivedSnapshot {
  readonly from: MemberId
  readonly index: number
  readonly term: number
  readonly bytes: number
}

/** How to build the peer app. */
export interface PeerAppOptions {
  /** Whether `memberId` was removed from the cluster: its POSTs get 410, so it stops (as in etcd). */
  isRemoved?(memberId: string): boolean
  /** This member's cluster (hex); POSTs from other clusters get 412. */
  readonly clusterId: string
  /** This member (hex); POSTs for another member get 412. */
  readonly memberId: MemberId
  /**
   * Receives the messages of one batch, in the order sent, before the sender gets its 204
   * (the member steps them into Raft). A reassembled snapshot comes as one 'snap' message
   * with its data. Should not throw; if it does, the sender gets 500 and the error is logged.
   */
  readonly onMessages: (messages: Message[]) => void
  /**
   * Told the body bytes of every POST accepted from peer `from` (batches and snapshot chunks),
   * for metrics. Must not throw.
   */
  readonly onReceived?: (from: MemberId, bytes: number) => void
  /** Told after a reassembled snapshot was handed to `onMessages`. */
  readonly onSnapshot?: (received: ReceivedSnapshot) => void
  /**
   * Where the chunks of a snapshot go as they arrive (a member stages them in its database:
   * storage's `StateStager`). Default: kept in memory, for tests.
   */
  readonly snapshotSink?: SnapshotSink
  /** The members of the cluster, for GET /members. */
  readonly members: () => readonly PeerMemberInfo[]
  readonly version: PeerVersion
  readonly settings: PeerAppSettings
  readonly logger: Logger
  /**
   * TLS for an `https://` peer URL, ready-made (certificate, key, the peers' CA, whether a
   * peer certificate is demanded); undefined serves plain HTTP. A new certificate is
   * installed with `app.server.setSecureContext(...)`.
   */
  readonly https?: HttpsServerOptions
  /** What a connecting peer's verified certificate must also say (etcd's
   *  `--peer-cert-allowed-cn` / `--peer-cert-allowed-hostname`); checked only with `https`. */
  readonly allowedPeer?: AllowedPeer
}

/** One identity check of a peer's certificate, beyond its CA's signature. */
export interface AllowedPeer {
  /** The exact Common Name; empty for any. */
  readonly commonName: string
  /** A host name the certificate must be valid for (its SANs, as a server's would be checked); empty for any. */
  readonly hostname: string
}

/**
 * Why `certificate` does not pass `allowed`, or undefined when it does. A connection without
 * a certificate never passes a non-empty check.
 */
export function peerCertificateProblem(certificate: PeerCertificate | undefined, allowed: AllowedPeer): string | undefined {
  const present = certificate !== undefined && Object.keys(certificate).length > 0
  if (allowed.commonName !== '') {
    const cn = present ? certificate.subject?.CN : undefined
    const cns = Array.isArray(cn) ? cn : cn === undefined ? [] : [cn]
    if (!cns.includes(allowed.commonName)) return `certificate CN ${JSON.stringify(cns.join(',') || null)} is not the allowed CN ${JSON.stringify(allowed.commonName)}`
  }
  if (allowed.hostname !== '') {
    if (!present) return `no certificate for the allowed hostname ${JSON.stringify(allowed.hostname)}`
    const error = checkServerIdentity(allowed.hostname, certificate)
    if (error !== undefined) return `certificate is not valid for the allowed hostname ${JSON.stringify(allowed.hostname)}: ${error.message}`
  }
  return undefined
}

/**
 * Builds the peer app. The caller listens (`app.listen({ host, port })`) and closes it;
 * closing drops any snapshot being reassembled.
 */
export function buildPeerApp(options: PeerAppOptions): FastifyInstance {
  const { settings } = options
  const app = Fastify({
    logger: false,
    bodyLimit: settings.raftBodyBytesMax,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    requestTimeout: settings.requestReceiveTimeoutMs,
    // Peers keep connections open; closing the app must not wait for them to go idle.
    forceCloseConnections: true,
    return503OnClosing: true,
    exposeHeadRoutes: false,
    ...(options.https === undefined ? {} : { https: { ...options.https, handshakeTimeout: settings.requestReceiveTimeoutMs } }),
  })
  const allowed = options.allowedPeer
  if (options.https !== undefined && allowed !== undefined && (allowed.commonName !== '' || allowed.hostname !== '')) {
    // Checked once per connection, right after the handshake and before any request is
    // read: a peer with another identity never reaches a route.
    app.server.on('secureConnection', (socket: TLSSocket) => {
      const problem = peerCertificateProblem(socket.getPeerCertificate(), allowed)
      if (problem === undefined) return
      options.logger.warn({ remoteAddress: socket.remoteAddress, error: problem }, 'peer connection refused')
      socket.destroy()
    })
  }
  const receiver = new SnapshotReceiver(options.snapshotSink ?? memorySnapshotSink(), settings)
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  app.addHook('onRequest', async (_request, reply) => {
    reply.header(peerHeaders.clusterId, options.clusterId)
  })
  app.addHook('onClose', async () => receiver.clear())
  app.setErrorHandler((error, request, reply) => replyError(options.logger, error, request, reply))
  app.setNotFoundHandler((_request, reply) => sendText(reply, 404, '404 page not found'))

  const refuseStrangers = (request: FastifyRequest, reply: FastifyReply) => refusal(options, request, reply)
  app.post(peerPaths.raft, { onRequest: refuseStrangers }, (request, reply) => {
    const batch = decodeBatch(request.body)
    const refuse = (status: number, text: string) => {
      options.logger.warn({ from: batch.from, error: text }, 'peer batch refused')
      return sendText(reply, status, text)
    }
    if (batch.version !== wireVersion) return refuse(412, `incompatible wire version ${batch.version}, this member speaks ${wireVersion}`)
    if (batch.clusterId !== options.clusterId) return refuse(412, clusterMismatch(options.clusterId, batch.clusterId))
    if (batch.to !== options.memberId) return refuse(412, toMismatch(options.memberId, batch.to))
    const stranger = batch.messages.find((message) => message.to !== options.memberId)
    if (stranger !== undefined) return refuse(400, `a ${stranger.type} message in the batch is for ${stranger.to}`)
    options.onMessages([...batch.messages])
    options.onReceived?.(batch.from, bodyBytes(request))
    return reply.code(204).send()
  })
  app.post(peerPaths.snapshot, { onRequest: refuseStrangers, bodyLimit: settings.snapshotChunkBytesMax }, (request, reply) => {
    const chunk = chunkOf(request, options.memberId)
    const outcome = receiver.accept(chunk)
    options.onReceived?.(chunk.from, chunk.data.byteLength)
    if (outcome.kind === 'complete') deliverSnapshot(options, outcome.message, outcome.receivedBytes)
    return reply.code(204).send()
  })
  app.get(peerPaths.members, (_request, reply) => {
    return reply.type('application/json').send(encodeMemberList(options.members()))
  })
  app.get(peerPaths.version, (_request, reply) => {
    const { etcdserver, etcdcluster } = options.version
    return reply.type('application/json').send(JSON.stringify({ etcdserver, etcdcluster }))
  })
  return app
}

/**
 * The size of a request body already read and parsed (JSON is parsed, so its text is gone):
 * its Content-Length, which Fastify checked against the bytes received. 0 when absent (chunked).
 */
function bodyBytes(request: FastifyRequest): number {
  const length = Number(request.headers['content-length'])
  return Number.isSafeInteger(length) && length > 0 ? length : 0
}

/** Refuses a POST from another cluster or for another member before its body is read. */
async function refusal(options: PeerAppOptions, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const clusterId = headerOf(request, peerHeaders.clusterId)
  if (clusterId !== options.clusterId) {
    options.logger.warn({ from: headerOf(request, peerHeaders.from), clusterId, localClusterId: options.clusterId }, 'peer request refused: cluster ID mismatch')
    return sendText(reply, 412, clusterMismatch(options.clusterId, clusterId))
  }
  const from = headerOf(request, peerHeaders.from)
  if (from !== undefined && options.isRemoved?.(from) === true) {
    return sendText(reply, 410, 'the member has been permanently removed from the cluster')
  }
  const to = headerOf(request, peerHeaders.to)
  if (to !== options.memberId) {
    options.logger.warn({ from: headerOf(request, peerHeaders.from), to, memberId: options.memberId }, 'peer request refused: to field mismatch')
    return sendText(reply, 412, toMismatch(options.memberId, to))
  }
  return undefined
}

function clusterMismatch(local: string, remote: string | undefined): string {
  const theirs = remote === undefined ? 'no X-Etcd-Cluster-ID' : `cluster ${remote}`
  return `cluster ID mismatch: this member belongs to cluster ${local}, the request comes from ${theirs}`
}

function toMismatch(local: string, remote: string | undefined): string {
  return `to field mismatch: this member is ${local}, the request is for ${remote ?? 'no X-Raft-To'}`
}

/**
 * The chunk a POST /raft/snapshot carries, from its headers and body.
 * @throws WireError (400) on a missing or malformed header, or a message for someone else.
 */
function chunkOf(request: FastifyRequest, memberId: MemberId): SnapshotChunk {
  const from = headerOf(request, peerHeaders.from)
  const transferId = headerOf(request, peerHeaders.snapshotTransfer)
  if (from === undefined || from === '') throw new WireError(`missing ${peerHeaders.from}`)
  if (transferId === undefined || transferId === '' || transferId.length > 128) throw new WireError(`missing or malformed ${peerHeaders.snapshotTransfer}`)
  const offset = byteCount(headerOf(request, peerHeaders.snapshotOffset), peerHeaders.snapshotOffset)
  const doneHeader = headerOf(request, peerHeaders.snapshotDone)
  if (doneHeader !== undefined && doneHeader !== '1') throw new WireError(`malformed ${peerHeaders.snapshotDone}`)
  const done = doneHeader === '1'
  const body: unknown = request.body
  const data = Buffer.isBuffer(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : new Uint8Array(0)
  const header = headerOf(request, peerHeaders.snapshotMessage)
  if (header === undefined) return { from, transferId, offset, done, data }
  const message = decodeSnapshotHeader(header)
  if (message.to !== memberId) throw new WireError(`the snapshot message is for ${message.to}`)
  if (message.from !== from) throw new WireError(`the snapshot message is from ${message.from}, the request from ${from}`)
  return { from, transferId, offset, done, message, data }
}

function deliverSnapshot(options: PeerAppOptions, message: Message, bytes: number): void {
  const snapshot = message.snapshot
  const received: ReceivedSnapshot = {
    from: message.from,
    index: snapshot?.metadata.index ?? 0,
    term: snapshot?.metadata.term ?? 0,
    bytes,
  }
  options.logger.info(received, 'snapshot received')
  options.onMessages([message])
  options.onSnapshot?.(received)
}

/** A non-negative decimal integer header. @throws WireError */
function byteCount(value: string | undefined, name: string): number {
  if (value === undefined || !/^[0-9]{1,15}$/.test(value)) throw new WireError(`missing or malformed ${name}`)
  return Number(value)
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return typeof value === 'string' ? value : undefined
}

/** Answers `status` with one line of text, as Go's http.Error does. */
function sendText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(`${text}\n`)
}

/** Maps an error to its answer: a peer's mistake is 4xx and a warning; anything else is 500, logged with its stack. */
function replyError(logger: Logger, error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const from = headerOf(request, peerHeaders.from)
  if (error instanceof WireError) {
    logger.warn({ from, url: request.url, error: error.message }, 'peer request refused: malformed')
    return sendText(reply, 400, error.message)
  }
  if (error instanceof ChunkError) {
    logger.warn({ from, url: request.url, error: error.message }, 'snapshot chunk refused')
    return sendText(reply, error.statusCode, error.message)
  }
  const statusCode = (error as { statusCode?: unknown }).statusCode
  const message = error instanceof Error ? error.message : String(error)
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    logger.warn({ from, url: request.url, statusCode, error: message }, 'peer request refused')
    return sendText(reply, statusCode, message)
  }
  logger.error({ from, url: request.url, error: message, stack: error instanceof Error ? error.stack : undefined }, 'peer request failed')
  return sendText(reply, 500, 'internal error')
}
