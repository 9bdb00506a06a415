/**
 * The data of a normal Raft entry, as written by the member that proposed it
 * (ARCHITECTURE.md decision 1: the entry carries the full request and the proposer's time).
 *
 * Text form, one header line then the request's JSON:
 *   `r <requestId> <timeMs>\n<StoreRequest JSON>`  a client write
 *   `x <timeMs>`                                   a TTL sweep ("sync"; decision 2)
 *   `u <requestId>\n<AuthCommand JSON>`            a v2 auth change (users, roles, enable);
 *                                                  passwords in it are bcrypt hashes already
 *   `a <memberId>\n<{name, clientUrls} JSON>`       a member publishes its attributes
 *                                                  (as etcd does at start, so every member
 *                                                  lists every client URL)
 * The request id sits in the header so that the member that proposed an entry can match it
 * to its waiting client without parsing the JSON.
 */
import { assert } from '../lib/index.js'
import type { StoreRequest } from '../store/index.js'
import type { AuthCommand } from '../auth/index.js'

/** A decoded entry payload; a write's request stays JSON text (`json`) until it is applied. */
export type Proposal =
  | { readonly kind: 'write'; readonly requestId: string; readonly timeMs: number; readonly json: string }
  | { readonly kind: 'expire'; readonly timeMs: number }
  | { readonly kind: 'attributes'; readonly memberId: string; readonly name: string; readonly clientUrls: string[] }
  | { readonly kind: 'auth'; readonly requestId: string; readonly command: AuthCommand }

/** Encodes a client write. `requestId` holds no space or newline. */
export function encodeWrite(requestId: string, timeMs: number, request: StoreRequest): string {
  return `r ${requestId} ${timeMs}\n${JSON.stringify(request)}`
}

/** Encodes a TTL sweep at the leader's `timeMs`. */
export function encodeExpire(timeMs: number): string {
  return `x ${timeMs}`
}

/** Encodes a member's published attributes. */
export function encodeAttributes(memberId: string, name: string, clientUrls: readonly string[]): string {
  return `a ${memberId}\n${JSON.stringify({ name, clientUrls })}`
}

/** Encodes a v2 auth change. `requestId` holds no space or newline. */
export function encodeAuth(requestId: string, command: AuthCommand): string {
  return `u ${requestId}\n${JSON.stringify(command)}`
}

/** Decodes an entry's data (never ''; the leader's no-op is skipped before). */
export function decodeProposal(data: string): Proposal {
  if (data.startsWith('u ')) {
    const headerEnd = data.indexOf('\n')
    assert(headerEnd > 2, 'auth entry without a body')
    return { kind: 'auth', requestId: data.slice(2, headerEnd), command: JSON.parse(data.slice(headerEnd + 1)) as AuthCommand }
  }
  if (data.startsWith('a ')) {
    const headerEnd = data.indexOf('\n')
    assert(headerEnd > 2, 'attributes entry without a body')
    const attributes = JSON.parse(data.slice(headerEnd + 1)) as { name: string; clientUrls: string[] }
    return { kind: 'attributes', memberId: data.slice(2, headerEnd), name: attributes.name, clientUrls: attributes.clientUrls }
  }
  if (data.startsWith('x ')) {
    const timeMs = Number(data.slice(2))
    assert(Number.isSafeInteger(timeMs), 'expire entry without a time')
    return { kind: 'expire', timeMs }
  }
  assert(data.startsWith('r '), 'unknown entry kind')
  const headerEnd = data.indexOf('\n')
  assert(headerEnd > 0, 'write entry without a body')
  const [, requestId, time] = data.slice(0, headerEnd).split(' ')
  const timeMs = Number(time)
  assert(requestId !== undefined && requestId !== '', 'write entry without a request id')
  assert(Number.isSafeInteger(timeMs), 'write entry without a time')
  return { kind: 'write', requestId, timeMs, json: data.slice(headerEnd + 1) }
}

/**
 * The request id in a client write's or auth change's entry data (`r <requestId> <timeMs>\n…`,
 * `u <requestId>\n…`), read from the header without parsing the request; undefined for any
 * other entry.
 */
export function requestIdOf(data: string): string | undefined {
  if (data.startsWith('u ')) {
    const end = data.indexOf('\n', 2)
    return end > 2 ? data.slice(2, end) : undefined
  }
  if (!data.startsWith('r ')) return undefined
  const end = data.indexOf(' ', 2)
  return end > 2 ? data.slice(2, end) : undefined
}
