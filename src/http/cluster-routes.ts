/**
 * The endpoints beside the key space (spec v2-api.md §12): /version, /health, /v2/stats/*,
 * /v2/members, /v2/machines. Bodies, content types and trailing newlines as etcd writes them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { goJsonString } from '../lib/index.js'
import type { MemberApi, MemberInfo } from '../server/index.js'
import { sendJson, sendMessage, sendMethodNotAllowed } from './render.js'

/** etcd's version answer; arbor speaks the 3.4 API. */
const versionBody = '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}'

/** A route handler after dispatch; returns the reply it sent. */
export type RouteHandler = (
  member: MemberApi,
  request: FastifyRequest,
  reply: FastifyReply,
  rest: string,
) => FastifyReply | Promise<FastifyReply>

/** `{"id":..,"name":..,"peerURLs":[..],"clientURLs":[..]}` */
export function memberJson(m: MemberInfo): string {
  const urls = (list: readonly string[]) => '[' + list.map(goJsonString).join(',') + ']'
  return `{"id":${goJsonString(m.id)},"name":${goJsonString(m.name)},"peerURLs":${urls(m.peerUrls)},"clientURLs":${urls(m.clientUrls)}}`
}

const json = sendJson

export const versionRoute: RouteHandler = (_member, request, reply) => {
  if (request.method !== 'GET') return sendMethodNotAllowed(reply, 'GET')
  return json(reply, 200, versionBody)
}

export const healthRoute: RouteHandler = (member, request, reply) => {
  if (request.method !== 'GET') return sendMethodNotAllowed(reply, 'GET')
  const healthy = member.healthy()
  reply.header('content-type', 'text/plain; charset=utf-8')
  return reply.code(healthy ? 200 : 503).send(healthy ? '{"health":"true"}' : '{"health":"false"}\n')
}

export const statsSelfRoute: RouteHandler = (member, request, reply) => {
  if (request.method !== 'GET') return sendMethodNotAllowed(reply, 'GET')
  return json(reply, 200, JSON.stringify(member.selfStats()))
}

export const statsStoreRoute: RouteHandler = (member, request, reply) => {
  if (request.method !== 'GET') return sendMethodNotAllowed(reply, 'GET')
  return json(reply, 200, JSON.stringify(member.storeStats()))
}

export const statsLeaderRoute: RouteHandler = (member, request, reply) => {
  if (request.method !== 'GET') return sendMethodNotAllowed(reply, 'GET')
  const stats = member.leaderStats()
  if (stats === undefined) return sendMessage(reply, 403, 'not current leader')
  return json(reply, 200, JSON.stringify(stats))
}

export const machinesRoute: RouteHandler = (member, request, reply) => {
  if (request.method !== 'GET' && request.method !== 'HEAD') return sendMethodNotAllowed(reply, 'GET,HEAD')
  const urls = member.members().flatMap((m) => m.clientUrls).sort()
  return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(urls.join(', '))
}
