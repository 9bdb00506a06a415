/**
 * Reads a v2 keys answer's JSON into `KeysResult`, checking every field it keeps, so that a
 * wrong answer fails here with a `ResponseFormatError` naming the field rather than later.
 * Nesting is walked with a stack (STYLE.md §6), never by recursion.
 */
import { ResponseFormatError } from './errors.js'
import type { KeysResult, NodeView } from './types.js'

/**
 * Decodes the body of a 2xx `/v2/keys` answer.
 * @param etcdIndex the `X-Etcd-Index` header, already parsed (undefined when absent).
 * @throws ResponseFormatError when the body is not JSON or a field has the wrong type.
 */
export function decodeKeysResult(bodyText: string, etcdIndex: number | undefined): KeysResult {
  let body: unknown
  try {
    body = JSON.parse(bodyText)
  } catch {
    throw new ResponseFormatError(`the answer is not JSON: ${bodyText.slice(0, 100)}`)
  }
  const record = asRecord(body, 'the answer')
  if (typeof record.action !== 'string') throw new ResponseFormatError('the answer has no string "action"')
  const node = decodeNode(record.node, 'node')
  const prevNode = record.prevNode === undefined || record.prevNode === null ? undefined : decodeNode(record.prevNode, 'prevNode')
  return { action: record.action, node, prevNode, etcdIndex }
}

/** A mutable node under construction: `nodes` is filled in as the stack reaches the children. */
type Building = { -readonly [K in keyof NodeView]: K extends 'nodes' ? NodeView[] | undefined : NodeView[K] }

/** Decodes one node and all its descendants; `where` names it in errors. */
export function decodeNode(raw: unknown, where: string): NodeView {
  const root = decodeFields(raw, where)
  const stack: { raw: unknown; node: Building; where: string }[] = [{ raw, node: root, where }]
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const children = (top.raw as Record<string, unknown>).nodes
    if (children === undefined || children === null) continue
    if (!Array.isArray(children)) throw new ResponseFormatError(`${top.where}.nodes is not an array`)
    top.node.nodes = children.map((child: unknown, i) => {
      const childWhere = `${top.where}.nodes[${i}]`
      const node = decodeFields(child, childWhere)
      stack.push({ raw: child, node, where: childWhere })
      return node
    })
  }
  return root
}

/** The fields of one node, without its children. */
function decodeFields(raw: unknown, where: string): Building {
  const r = asRecord(raw, where)
  const key = r.key === undefined ? '/' : r.key
  if (typeof key !== 'string' || !key.startsWith('/')) throw new ResponseFormatError(`${where}.key is not an absolute key`)
  const dir = r.dir === undefined ? false : r.dir
  if (typeof dir !== 'boolean') throw new ResponseFormatError(`${where}.dir is not a boolean`)
  if (r.value !== undefined && typeof r.value !== 'string') throw new ResponseFormatError(`${where}.value is not a string`)
  if (r.ttl !== undefined && !Number.isInteger(r.ttl)) throw new ResponseFormatError(`${where}.ttl is not an integer`)
  if (r.expiration !== undefined && typeof r.expiration !== 'string') throw new ResponseFormatError(`${where}.expiration is not a string`)
  return {
    key,
    dir,
    value: r.value as string | undefined,
    nodes: undefined,
    ttl: r.ttl as number | undefined,
    expiration: r.expiration as string | undefined,
    createdIndex: indexField(r.createdIndex, `${where}.createdIndex`),
    modifiedIndex: indexField(r.modifiedIndex, `${where}.modifiedIndex`),
  }
}

/** An index field: a non-negative integer; absent (the root's) reads as 0. */
function indexField(raw: unknown, where: string): number {
  if (raw === undefined) return 0
  if (!Number.isInteger(raw) || (raw as number) < 0) throw new ResponseFormatError(`${where} is not an index`)
  return raw as number
}

function asRecord(raw: unknown, where: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ResponseFormatError(`${where} is not an object`)
  return raw as Record<string, unknown>
}
