/**
 * Writing etcd's answers: v2 error bodies, the etcd headers, the plain-text answers of Go's
 * net/http (spec v2-api.md §5.2, §6.1, §6.4).
 */
import type { FastifyReply } from 'fastify'
import { goJsonString } from '../lib/index.js'
import { errorMessages, httpStatusOf, type V2Error } from '../v2error/index.js'
import type { MemberApi } from '../server/index.js'

/** The body etcd writes for a v2 error: fields in order, `cause` omitted when empty, '\n'. */
export function errorBody(error: V2Error): string {
  const cause = error.detail === '' ? '' : `,"cause":${goJsonString(error.detail)}`
  const message = goJsonString(errorMessages[error.errorCode])
  return `{"errorCode":${error.errorCode},"message":${message}${cause},"index":${error.index}}\n`
}

/** Sends a key-space error: status by code, `X-Etcd-Index` = the body's index, no X-Raft-*. */
export function sendV2Error(reply: FastifyReply, member: MemberApi, error: V2Error): FastifyReply {
  return reply
    .code(httpStatusOf(error.errorCode))
    .header('content-type', 'application/json')
    .header('x-etcd-cluster-id', member.clusterId)
    .header('x-etcd-index', String(error.index))
    .send(Buffer.from(errorBody(error)))
}

/** The headers of a successful key-space answer (spec §5.2). */
export function etcdHeaders(member: MemberApi, etcdIndex: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-etcd-cluster-id': member.clusterId,
    'x-etcd-index': String(etcdIndex),
    'x-raft-index': String(member.raftIndex()),
    'x-raft-term': String(member.raftTerm()),
  }
}

/** Go's http.Error: a plain-text body with a newline. */
export function sendPlain(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(text + '\n')
}

/** 405 as etcd's handlers write it, with the methods the path allows. */
export function sendMethodNotAllowed(reply: FastifyReply, allow: string): FastifyReply {
  return sendPlain(reply.header('allow', allow), 405, 'Method Not Allowed')
}

/** `{"message":"..."}` errors of the members and stats handlers (no trailing newline). */
export function sendMessage(reply: FastifyReply, status: number, message: string, member?: MemberApi): FastifyReply {
  if (member !== undefined) reply.header('x-etcd-cluster-id', member.clusterId)
  return sendJson(reply, status, `{"message":${goJsonString(message)}}`)
}

/**
 * Sends `body` as `application/json` exactly (etcd sends no charset). A Buffer, because
 * Fastify appends `; charset=utf-8` to JSON content types of string payloads.
 */
export function sendJson(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(body))
}
