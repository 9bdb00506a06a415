/**
 * The wire format between members: a batch of Raft messages as JSON text, and the headers
 * and paths of the peer port. Header names follow etcd's rafthttp (`X-Etcd-Cluster-ID`,
 * `X-Server-From`, `X-Raft-To`); the snapshot chunk headers are arbor's own.
 *
 * A batch names its cluster, sender and recipient in the body as well as in the headers:
 * the headers let the receiver refuse a batch before reading it, the body keeps a logged or
 * captured batch self-describing. Entry data are strings already (JSON text in arbor);
 * snapshot data are bytes, written as base64 when a snapshot travels inside a batch (the
 * transport itself sends snapshots as raw chunks: snapshot-sender.ts).
 *
 * Everything read from the wire is checked field by field: a peer is another process, so a
 * malformed batch is a `WireError` (400), never an assertion.
 */
import { Buffer } from 'node:buffer'
import { assert } from '../lib/index.js'
import type { Entry, Message, MessageType, MemberId, Snapshot, SnapshotMetadata } from '../raft/index.js'

/** Version of this format; a receiver refuses any other with 412 (incompatible peer). */
export const wireVersion = 1

/** Paths of the peer port (`--listen-peer-urls`). */
export const peerPaths = {
  /** POST: one batch of Raft messages (application/json). */
  raft: '/raft',
  /** POST: one chunk of a snapshot (application/octet-stream). */
  snapshot: '/raft/snapshot',
  /** GET: the member list, for members joining with `--initial-cluster-state existing`. */
  members: '/members',
  /** GET: `{ etcdserver, etcdcluster }`, the peer version check. */
  version: '/version',
} as const

/** Header names (lower case, as Node hands them out). */
export const peerHeaders = {
  /** Cluster of the sender (hex); a member refuses other clusters with 412. */
  clusterId: 'x-etcd-cluster-id',
  /** Member id of the sender (hex). */
  from: 'x-server-from',
  /** Member id of the recipient (hex); a member refuses batches for another with 412. */
  to: 'x-raft-to',
  /** Identifies one snapshot transfer from one sender: every chunk of it carries the same. */
  snapshotTransfer: 'x-arbor-snapshot-transfer',
  /** Byte offset of this chunk in the snapshot data. */
  snapshotOffset: 'x-arbor-snapshot-offset',
  /** On the last chunk only: `1` (Raft §7's `done`); the receiver then installs what it staged. */
  snapshotDone: 'x-arbor-snapshot-done',
  /** On the first chunk only: the 'snap' message without its data, as base64url JSON. */
  snapshotMessage: 'x-arbor-snapshot-message',
} as const

/** One POST /raft body: messages from one member to another, in the order they were sent. */
export interface MessageBatch {
  readonly version: number
  readonly clusterId: string
  readonly from: MemberId
  readonly to: MemberId
  readonly messages: readonly Message[]
}

/** A cluster member as GET /members lists it; the same shape as the server's `MemberInfo`. */
export interface PeerMemberInfo {
  /** etcd member ID: lower-case hex, no padding. */
  readonly id: string
  /** '' until the member has started and published its name. */
  readonly name: string
  readonly peerUrls: readonly string[]
  readonly clientUrls: readonly string[]
}

/** What GET /version answers (etcd's version.Versions). */
export interface PeerVersion {
  readonly etcdserver: string
  readonly etcdcluster: string
}

/** A batch or message that does not have the wire shape. The peer app answers 400. */
export class WireError extends Error {
  override readonly name = 'WireError'
}

/** Message types that travel between members; the local ones ('hup', 'beat', ...) never do. */
const wireTypes: ReadonlySet<MessageType> = new Set<MessageType>([
  'prop', 'app', 'appResp', 'vote', 'voteResp', 'preVote', 'preVoteResp', 'snap',
  'heartbeat', 'heartbeatResp', 'readIndex', 'readIndexResp', 'transferLeader', 'timeoutNow',
])

/** Whether `type` may be sent to another member. */
export function isWireType(type: MessageType): boolean {
  return wireTypes.has(type)
}

/** JSON text of `batch`. Snapshot data inside it become base64. */
export function encodeBatch(batch: MessageBatch): string {
  return JSON.stringify({ ...batch, messages: batch.messages.map(wireMessage) })
}

/**
 * Checks and converts a parsed POST /raft body.
 * @throws WireError naming the first field that is missing or of the wrong type.
 */
export function decodeBatch(value: unknown): MessageBatch {
  const body = record(value, 'batch')
  const messages = array(body.messages, 'messages')
  return {
    version: integer(body.version, 'version'),
    clusterId: string(body.clusterId, 'clusterId'),
    from: string(body.from, 'from'),
    to: string(body.to, 'to'),
    messages: messages.map((item, i) => decodeMessage(item, `messages[${i}]`)),
  }
}

/** The first-chunk header of a snapshot transfer: `message` without its data, base64url JSON. */
export function encodeSnapshotHeader(message: Message): string {
  assert(message.type === 'snap', 'snapshot header: not a snap message')
  assert(message.snapshot !== undefined, 'snapshot header: the snap message has no snapshot')
  const withoutData: Message = { ...message, snapshot: { metadata: message.snapshot.metadata, data: new Uint8Array(0) } }
  return Buffer.from(JSON.stringify(wireMessage(withoutData)), 'utf8').toString('base64url')
}

/**
 * Reads the first-chunk header back; the message's snapshot data are empty.
 * @throws WireError when the header is not base64url JSON of a 'snap' message with a snapshot.
 */
export function decodeSnapshotHeader(header: string): Message {
  if (!/^[A-Za-z0-9_-]*$/.test(header)) throw new WireError('snapshot message header: not base64url')
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
  } catch {
    throw new WireError('snapshot message header: not JSON')
  }
  const message = decodeMessage(value, 'snapshot message')
  if (message.type !== 'snap') throw new WireError('snapshot message header: type is not snap')
  if (message.snapshot === undefined) throw new WireError('snapshot message header: no snapshot')
  return message
}

/** A message as JSON sees it: snapshot data as base64. */
function wireMessage(message: Message): object & { snapshot?: object } {
  const { snapshot, ...rest } = message
  if (snapshot === undefined) return rest
  const data = Buffer.from(snapshot.data.buffer, snapshot.data.byteOffset, snapshot.data.byteLength)
  return { ...rest, snapshot: { metadata: snapshot.metadata, data: data.toString('base64') } }
}

/** Checks and converts one message; `path` names it in errors. */
function decodeMessage(value: unknown, path: string): Message {
  const m = record(value, path)
  const type = string(m.type, `${path}.type`) as MessageType
  if (!wireTypes.has(type)) throw new WireError(`${path}.type: ${JSON.stringify(type)} is not a peer message type`)
  const message: Message = {
    type,
    from: string(m.from, `${path}.from`),
    to: string(m.to, `${path}.to`),
    term: integer(m.term, `${path}.term`),
    logTerm: integer(m.logTerm, `${path}.logTerm`),
    index: integer(m.index, `${path}.index`),
    entries: array(m.entries, `${path}.entries`).map((item, i) => decodeEntry(item, `${path}.entries[${i}]`)),
    commit: integer(m.commit, `${path}.commit`),
    reject: boolean(m.reject, `${path}.reject`),
    rejectHint: integer(m.rejectHint, `${path}.rejectHint`),
    context: string(m.context, `${path}.context`),
  }
  if (m.snapshot === undefined) return message
  return { ...message, snapshot: decodeSnapshot(m.snapshot, `${path}.snapshot`) }
}

function decodeEntry(value: unknown, path: string): Entry {
  const e = record(value, path)
  const type = string(e.type, `${path}.type`)
  if (type !== 'normal' && type !== 'confChange') throw new WireError(`${path}.type: ${JSON.stringify(type)} is not an entry type`)
  return {
    index: integer(e.index, `${path}.index`),
    term: integer(e.term, `${path}.term`),
    type,
    data: string(e.data, `${path}.data`),
  }
}

function decodeSnapshot(value: unknown, path: string): Snapshot {
  const s = record(value, path)
  const metadata = record(s.metadata, `${path}.metadata`)
  const confState = record(metadata.confState, `${path}.metadata.confState`)
  const voters = array(confState.voters, `${path}.metadata.confState.voters`)
  const decoded: SnapshotMetadata = {
    index: integer(metadata.index, `${path}.metadata.index`),
    term: integer(metadata.term, `${path}.metadata.term`),
    confState: { voters: voters.map((v, i) => string(v, `${path}.metadata.confState.voters[${i}]`)) },
  }
  return { metadata: decoded, data: base64Bytes(string(s.data, `${path}.data`), `${path}.data`) }
}

function base64Bytes(text: string, path: string): Uint8Array {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new WireError(`${path}: not base64`)
  const buffer = Buffer.from(text, 'base64')
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WireError(`${path}: not an object`)
  return value as Record<string, unknown>
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new WireError(`${path}: not an array`)
  return value
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new WireError(`${path}: not a string`)
  return value
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new WireError(`${path}: not a boolean`)
  return value
}

/** A term, an index or a version: a non-negative safe integer. */
function integer(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new WireError(`${path}: not a non-negative integer`)
  }
  return value
}

/** GET /members' body: etcd's JSON member list (`peerURLs`, `clientURLs`). */
export function encodeMemberList(members: readonly PeerMemberInfo[]): string {
  return JSON.stringify(members.map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls })))
}

/** Reads GET /members' body back. @throws WireError naming the first bad field. */
export function decodeMemberList(value: unknown): PeerMemberInfo[] {
  return array(value, 'members').map((item, i) => {
    const m = record(item, `members[${i}]`)
    const urls = (field: string) => array(m[field], `members[${i}].${field}`).map((u, j) => string(u, `members[${i}].${field}[${j}]`))
    return { id: string(m.id, `members[${i}].id`), name: string(m.name, `members[${i}].name`), peerUrls: urls('peerURLs'), clientUrls: urls('clientURLs') }
  })
}

/** Reads GET /version's body back. @throws WireError */
export function decodeVersion(value: unknown): PeerVersion {
  const v = record(value, 'version')
  return { etcdserver: string(v.etcdserver, 'etcdserver'), etcdcluster: string(v.etcdcluster, 'etcdcluster') }
}
