/**
 * The data of a normal Raft entry, as written by the member that proposed it
 * (ARCHITECTURE.md decision 1: the entry carries the full request and the proposer's time).
 *
 * Text form, one header line then the request's JSON:
 *   `r <requestId> <timeMs>\n<StoreRequest JSON>`  a client write
 *   `x <timeMs> <keysMax>`                         a TTL sweep ("sync"; decision 2) of at
 *                                                  most keysMax due keys (`x <timeMs>`,
 *                                                  written before the bound: all of them)
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
  | { readonly kind: 'expire'; readonly timeMs: number; readonly keysMax: number }
  | { readonly kind: 'attributes'; readonly memberId: string; readonly name: string; readonly clientUrls: string[] }
  | { readonly kind: 'auth'; readonly requestId: string; readonly command: AuthCommand }

/** Encodes a client write. `requestId` holds no space or newline. */
export function encodeWrite(requestId: string, timeMs: number, request: StoreRequest): string {
  return `r ${requestId} ${timeMs}\n${JSON.stringify(request)}`
}

/** Encodes a TTL sweep at the leader's `timeMs` of at most `keysMax` due keys. */
export function encodeExpire(timeMs: number, keysMax: number): string {
  assert(Number.isSafeInteger(keysMax), 'encodeExpire: keysMax must be an integer')
  assert(keysMax >= 1, 'encodeExpire: keysMax must be at least 1')
  return `x ${timeMs} ${keysMax}`
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
    const [time, max] = data.slice(2).split(' ')
    const timeMs = Number(time)
    const keysMax = max === undefined ? Number.POSITIVE_INFINITY : Number(max)
    assert(Number.isSafeInteger(timeMs), 'expire entry without a time')
    assert(keysMax === Number.POSITIVE_INFINITY || (Number.isSafeInteger(keysMax) && keysMax >= 1), 'expire entry with a bad bound')
    return { kind: 'expire', timeMs, keysMax }
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
