/**
 * `/v2/members` (spec v2-api.md §12.1; etcd v2http/client.go membersHandler): GET lists the
 * members, `leader` names the leader, POST adds a member, PUT replaces a member's peer URLs,
 * DELETE removes one. Membership changes go through the Raft log (thesis §4.1).
 * Errors are `{"message":...}` without a trailing newline; successes end with '\n'.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { MembershipError, type MemberApi } from '../server/index.js'
import { memberJson } from './cluster-routes.js'
import { sendJson, sendMessage, sendMethodNotAllowed, sendPlain } from './render.js'

/** Handles `/v2/members` (`rest` '') and `/v2/members/<rest>`. */
export async function membersRoute(
  member: MemberApi,
  request: FastifyRequest,
  reply: FastifyReply,
  rest: string,
): Promise<FastifyReply> {
  switch (request.method) {
    case 'GET':
      reply.header('x-etcd-cluster-id', member.clusterId)
      if (rest === '') return sendJson(reply, 200, `{"members":[${member.members().map(memberJson).join(',')}]}\n`)
      if (rest === 'leader') {
        const leader = member.leader()
        if (leader === undefined) return sendMessage(reply, 503, 'During election')
        return sendJson(reply, 200, memberJson(leader) + '\n')
      }
      return sendMessage(reply, 404, 'Not found')
    case 'POST':
    case 'PUT':
    case 'DELETE':
      // etcd's members handler answers a PUT or DELETE without an id with a bare 405.
      if (request.method !== 'POST' && rest === '') return sendPlain(reply.header('x-etcd-cluster-id', member.clusterId), 405, 'Method Not Allowed')
      if (request.method === 'POST' && rest !== '') return sendMessage(reply, 404, 'Not found', member)
      return changeMembership(member, request, reply, rest)
    default:
      return sendMethodNotAllowed(reply, 'GET,POST,DELETE,PUT')
  }
}

async function changeMembership(member: MemberApi, request: FastifyRequest, reply: FastifyReply, id: string): Promise<FastifyReply> {
  reply.header('x-etcd-cluster-id', member.clusterId)
  try {
    if (request.method === 'DELETE') {
      await member.removeMember(id)
      return reply.code(204).send()
    }
    const peerUrls = peerUrlsOf(request)
    if (request.method === 'PUT') {
      await member.updateMember(id, peerUrls)
      return reply.code(204).send()
    }
    const added = await member.addMember(peerUrls)
    return sendJson(reply, 201, memberJson(added) + '\n')
  } catch (error) {
    if (error instanceof MembershipError) return sendMessage(reply, error.status, error.message)
    throw error
  }
}

/**
 * The `peerURLs` of a `{"peerURLs":[...]}` body, validated as etcd's types.NewURLs does.
 * @throws MembershipError 415 (not JSON), 400 (bad JSON, bad or no URLs)
 */
function peerUrlsOf(request: FastifyRequest): string[] {
  const contentType = request.headers['content-type'] ?? ''
  if (contentType.split(';', 1)[0]?.trim().toLowerCase() !== 'application/json') {
    throw new MembershipError(415, `Bad Content-Type ${contentType}, accept application/json`)
  }
  const text = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : ''
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new MembershipError(400, goJsonErrorOf(text))
  }
  const urls = typeof parsed === 'object' && parsed !== null ? (parsed as { peerURLs?: unknown }).peerURLs : undefined
  if (urls !== undefined && urls !== null && !(Array.isArray(urls) && urls.every((u) => typeof u === 'string'))) {
    throw new MembershipError(400, 'json: cannot unmarshal peerURLs: expected an array of strings')
  }
  const list = (urls ?? []) as string[]
  if (list.length === 0) throw new MembershipError(400, 'no valid URLs given')
  for (const url of list) checkPeerUrl(url)
  return list
}

/** etcd's URL rules for peer URLs (pkg/types/urls.go). @throws MembershipError 400 */
function checkPeerUrl(url: string): void {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(url)
  const scheme = match?.[1]?.toLowerCase()
  if (match === null || !['http', 'https', 'unix', 'unixs'].includes(scheme ?? '')) {
    throw new MembershipError(400, `URL scheme must be http, https, unix, or unixs: ${url}`)
  }
  if (!/^(\[[^\]]+\]|[^:]+):[0-9]+$/.test(match[2] ?? '')) {
    throw new MembershipError(400, `URL address does not have the form "host:port": ${url}`)
  }
  if ((match[3] ?? '') !== '') throw new MembershipError(400, `URL must not contain a path: ${url}`)
}

/** The text Go's encoding/json gives for the commonest malformed bodies. */
function goJsonErrorOf(text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') return 'unexpected end of JSON input'
  try {
    JSON.parse(trimmed + ']}')
    return 'unexpected end of JSON input'
  } catch {
    // not merely truncated
  }
  for (const suffix of ['"]}', '}', '"}', ']']) {
    try {
      JSON.parse(trimmed + suffix)
      return 'unexpected end of JSON input'
    } catch {
      // try the next ending
    }
  }
  const first = trimmed[0] ?? ''
  return `invalid character '${first}' looking for beginning of value`
}
