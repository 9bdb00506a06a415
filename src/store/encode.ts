/**
 * Go-compatible JSON of v2 nodes and events, byte for byte as etcd 3.4 writes them
 * (spec v2-api.md §1.4, §4.1, §4.2, §4.5; etcd v2store node_extern.go and event.go).
 */
import { assert, goJsonString, goRfc3339Nano } from '../lib/index.js'
import { ROOT_KEY } from './key-path.js'
import type { Action, EtcdIndex, NodeRecord } from './types.js'

/**
 * A node as it appears in a body (etcd's NodeExtern). Fields render in this order, each
 * omitted when "empty": `key` (undefined for the root), `value` (undefined to leave it out;
 * '' is rendered), `dir` (only `true`), `expiration` and `ttl` (from `expiresAtMs`), `nodes`
 * (left out when empty), `modifiedIndex` and `createdIndex` (left out when 0: the root).
 */
export interface NodeView {
  readonly key: string | undefined
  readonly value: string | undefined
  readonly dir: boolean
  /** Absolute expiry in ms since the epoch; null for a permanent node. */
  readonly expiresAtMs: number | null
  /** Listed children, ascending by UTF-8 bytes of key; undefined or [] for none. */
  readonly nodes: readonly NodeView[] | undefined
  readonly modifiedIndex: EtcdIndex
  readonly createdIndex: EtcdIndex
}

/**
 * The view of a stored node without children: the shape of a `prevNode`, of a `get` on a
 * file, and of a listed child. `value` is shown for files when `withValue`; never for
 * directories. The root has no key and no indexes (spec §4.4, Q1).
 */
export function nodeView(node: NodeRecord, withValue: boolean): NodeView {
  return {
    key: node.key === ROOT_KEY ? undefined : node.key,
    value: withValue && !node.dir ? node.value : undefined,
    dir: node.dir,
    expiresAtMs: node.expiresAtMs,
    nodes: undefined,
    modifiedIndex: node.modifiedIndex,
    createdIndex: node.createdIndex,
  }
}

/**
 * An event body with its trailing newline: `{"action":..,"node":{..},"prevNode":{..}}\n`.
 * `ttl` fields are computed against `nowMs` (ms since the epoch).
 */
export function encodeEvent(
  action: Action,
  node: NodeView | undefined,
  prevNode: NodeView | undefined,
  nowMs: number,
): string {
  let json = `{"action":${goJsonString(action)}`
  if (node !== undefined) json += `,"node":${encodeNode(node, nowMs)}`
  if (prevNode !== undefined) json += `,"prevNode":${encodeNode(prevNode, nowMs)}`
  return `${json}}\n`
}

/** The body of a write answered with `noValueOnSuccess=true`: `{"action":"set"}\n` (spec §4.6). */
export function encodeActionOnly(action: Action): string {
  return `{"action":${goJsonString(action)}}\n`
}

/**
 * One node object, nested `nodes` included. Walks the tree with an explicit stack of
 * pending output (strings) and nodes still to open, so depth costs no call stack.
 */
export function encodeNode(root: NodeView, nowMs: number): string {
  let out = ''
  const work: Array<NodeView | string> = [root]
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    if (typeof item === 'string') {
      out += item
      continue
    }
    const head = headFields(item, nowMs)
    const tail = tailFields(item)
    const children = item.nodes ?? []
    if (children.length === 0) {
      out += `{${[...head, ...tail].join(',')}}`
      continue
    }
    out += `{${[...head, '"nodes":['].join(',')}`
    work.push(tail.length === 0 ? ']}' : `],${tail.join(',')}}`)
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]
      assert(child !== undefined)
      work.push(child)
      if (i > 0) work.push(',')
    }
  }
  return out
}

/** The fields before `nodes`: key, value, dir, expiration, ttl. */
function headFields(view: NodeView, nowMs: number): string[] {
  const fields: string[] = []
  if (view.key !== undefined) fields.push(`"key":${goJsonString(view.key)}`)
  if (view.value !== undefined) fields.push(`"value":${goJsonString(view.value)}`)
  if (view.dir) fields.push('"dir":true')
  if (view.expiresAtMs !== null) {
    fields.push(`"expiration":"${goRfc3339Nano(view.expiresAtMs)}"`)
    const ttl = ttlSecondsAt(view.expiresAtMs, nowMs)
    if (ttl !== 0) fields.push(`"ttl":${ttl}`)
  }
  return fields
}

/** The fields after `nodes`: modifiedIndex, createdIndex (omitted when 0). */
function tailFields(view: NodeView): string[] {
  const fields: string[] = []
  if (view.modifiedIndex !== 0) fields.push(`"modifiedIndex":${view.modifiedIndex}`)
  if (view.createdIndex !== 0) fields.push(`"createdIndex":${view.createdIndex}`)
  return fields
}

/**
 * Seconds left before `expiresAtMs`, rounded as etcd does (node.go expirationAndTTL): the
 * whole seconds, plus one when a positive fraction remains. Negative once expired
 * (-2.5 s gives -2); 0 means the field is left out.
 */
export function ttlSecondsAt(expiresAtMs: number, nowMs: number): number {
  const leftMs = expiresAtMs - nowMs
  return Math.trunc(leftMs / 1000) + (leftMs % 1000 > 0 ? 1 : 0)
}
