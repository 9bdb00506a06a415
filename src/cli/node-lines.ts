/**
 * The tree as JSON lines, the format of `arbor export` and `arbor import` (README, "Moving
 * from etcd"): a header line, then one node per line, parents before their children.
 *
 *   {"format":"arbor-export","version":1,"endpoint":"http://127.0.0.1:2379","prefix":"/","etcdIndex":42,"exportedAt":"2026-12-05T09:00:00.000Z"}
 *   {"key":"/app","dir":true,"createdIndex":4,"modifiedIndex":4}
 *   {"key":"/app/name","value":"arbor","createdIndex":5,"modifiedIndex":5}
 *   {"key":"/app/lock","value":"me","ttl":30,"expiration":"2026-12-05T09:00:30.1Z","createdIndex":6,"modifiedIndex":6}
 *
 * `key`, `dir` and `value` say what to create; `ttl` is the TTL in seconds left when the node
 * was read (an import gives it that TTL again, counted from the import); `expiration`,
 * `createdIndex` and `modifiedIndex` are the source's, for reference, and never written.
 * Unknown fields are refused, so that a newer format is never half understood.
 */
import { assert } from '../lib/index.js'
import type { NodeView } from '../client/index.js'

/** The format's name and version, in the header line. */
export const exportFormat = { name: 'arbor-export', version: 1 } as const

/** The first line of an export. */
export interface ExportHeader {
  readonly format: typeof exportFormat.name
  readonly version: typeof exportFormat.version
  /** The member the tree was read from. */
  readonly endpoint: string
  /** The subtree exported: `/` for all of it. */
  readonly prefix: string
  /** The source's `X-Etcd-Index` when the export began (undefined when it sent none). */
  readonly etcdIndex: number | undefined
  /** When the export began, ISO 8601 in UTC. */
  readonly exportedAt: string
}

/** One node line. Invariant: `value` is a string exactly when `dir` is false. */
export interface ExportedNode {
  readonly key: string
  readonly dir: boolean
  readonly value: string | undefined
  /** Seconds left when exported; undefined for a node without TTL. */
  readonly ttl: number | undefined
  readonly expiration: string | undefined
  readonly createdIndex: number | undefined
  readonly modifiedIndex: number | undefined
}

/** A line that is not in the format; `lineNumber` counts from 1 (the header). */
export class NodeLineError extends Error {
  override readonly name = 'NodeLineError'
  constructor(
    readonly lineNumber: number,
    readonly reason: string,
  ) {
    super(`line ${lineNumber}: ${reason}`)
  }
}

/** The header line for an export (no newline). */
export function encodeHeaderLine(header: Omit<ExportHeader, 'format' | 'version'>): string {
  return JSON.stringify({ format: exportFormat.name, version: exportFormat.version, ...header })
}

/** The line for `node` (no newline); the root is never a line. */
export function encodeNodeLine(node: NodeView): string {
  assert(node.key !== '/')
  assert(node.dir === (node.value === undefined))
  return JSON.stringify({
    key: node.key,
    dir: node.dir ? true : undefined,
    value: node.value,
    ttl: node.ttl,
    expiration: node.expiration,
    createdIndex: node.createdIndex,
    modifiedIndex: node.modifiedIndex,
  })
}

/**
 * Reads the header line.
 * @throws NodeLineError when it is not an `arbor-export` header of a version this reads.
 */
export function parseHeaderLine(text: string, lineNumber: number): ExportHeader {
  const r = parseObject(text, lineNumber)
  if (r.format !== exportFormat.name) throw new NodeLineError(lineNumber, `not an ${exportFormat.name} header (no "format":"${exportFormat.name}")`)
  if (r.version !== exportFormat.version) throw new NodeLineError(lineNumber, `format version ${JSON.stringify(r.version)} is not ${exportFormat.version}`)
  const etcdIndex = r.etcdIndex === undefined ? undefined : integerField(r, 'etcdIndex', lineNumber, 0)
  return {
    format: exportFormat.name,
    version: exportFormat.version,
    endpoint: typeof r.endpoint === 'string' ? r.endpoint : '',
    prefix: typeof r.prefix === 'string' ? r.prefix : '/',
    etcdIndex,
    exportedAt: typeof r.exportedAt === 'string' ? r.exportedAt : '',
  }
}

const nodeFields = new Set(['key', 'dir', 'value', 'ttl', 'expiration', 'createdIndex', 'modifiedIndex'])

/**
 * Reads one node line.
 * @throws NodeLineError naming the line and what is wrong: not a JSON object, an unknown
 *         field, a key that is not a clean absolute key below the root, a value on a
 *         directory or none on a file, a TTL that is not a positive integer.
 */
export function parseNodeLine(text: string, lineNumber: number): ExportedNode {
  const r = parseObject(text, lineNumber)
  for (const field of Object.keys(r)) {
    if (!nodeFields.has(field)) throw new NodeLineError(lineNumber, `unknown field "${field}"`)
  }
  if (typeof r.key !== 'string') throw new NodeLineError(lineNumber, '"key" must be a string')
  const keyProblem = problemWithKey(r.key)
  if (keyProblem !== undefined) throw new NodeLineError(lineNumber, `key ${JSON.stringify(r.key)} ${keyProblem}`)
  if (r.dir !== undefined && typeof r.dir !== 'boolean') throw new NodeLineError(lineNumber, '"dir" must be true or false')
  const dir = r.dir === true
  if (dir && r.value !== undefined) throw new NodeLineError(lineNumber, 'a directory has no "value"')
  if (!dir && typeof r.value !== 'string') throw new NodeLineError(lineNumber, 'a key needs a string "value"')
  if (r.expiration !== undefined && typeof r.expiration !== 'string') throw new NodeLineError(lineNumber, '"expiration" must be a string')
  return {
    key: r.key,
    dir,
    value: r.value as string | undefined,
    ttl: r.ttl === undefined ? undefined : integerField(r, 'ttl', lineNumber, 1),
    expiration: r.expiration as string | undefined,
    createdIndex: r.createdIndex === undefined ? undefined : integerField(r, 'createdIndex', lineNumber, 0),
    modifiedIndex: r.modifiedIndex === undefined ? undefined : integerField(r, 'modifiedIndex', lineNumber, 0),
  }
}

/** Why `key` cannot be a node's key, or undefined when it can. */
function problemWithKey(key: string): string | undefined {
  if (!key.startsWith('/')) return 'does not start with "/"'
  if (key === '/') return 'is the root, which is never a line'
  const segments = key.slice(1).split('/')
  if (segments.some((s) => s === '')) return 'has an empty segment'
  if (segments.some((s) => s === '.' || s === '..')) return 'has a "." or ".." segment'
  return undefined
}

function parseObject(text: string, lineNumber: number): Record<string, unknown> {
  if (text.trim() === '') throw new NodeLineError(lineNumber, 'empty line')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new NodeLineError(lineNumber, `not JSON: ${(error as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new NodeLineError(lineNumber, 'not a JSON object')
  return value as Record<string, unknown>
}

function integerField(r: Record<string, unknown>, field: string, lineNumber: number, min: number): number {
  const value = r[field]
  if (!Number.isSafeInteger(value) || (value as number) < min) throw new NodeLineError(lineNumber, `"${field}" must be an integer of at least ${min}`)
  return value as number
}

/**
 * Reads an export line by line: the header first, then the nodes, one at a time, so that any
 * size passes through the memory of one line.
 * @param onHeader called with the header before the first node.
 * @throws NodeLineError at the first line out of format (the header missing included);
 *         nodes before it have been handed out.
 */
export async function* parseExportLines(lines: AsyncIterable<string>, onHeader: (header: ExportHeader) => void): AsyncGenerator<ExportedNode> {
  let lineNumber = 0
  for await (const line of lines) {
    lineNumber += 1
    if (lineNumber === 1) onHeader(parseHeaderLine(line, lineNumber))
    else yield parseNodeLine(line, lineNumber)
  }
  if (lineNumber === 0) throw new NodeLineError(1, 'no header: the input is empty')
}
