/**
 * The /v2/keys handler (spec v2-api.md §2, §3): reads parameters the way Go's ParseForm
 * does (form body first, then the query), validates them in etcd's order, and runs the
 * read, write or watch on the member.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, V2Error } from '../v2error/index.js'
import type { MemberApi } from '../server/index.js'
import type { Action } from '../store/index.js'
import { FormError, parseFormInto, parseMediaType, type FormValues } from './form.js'
import { parseKeyOperation, type KeyLimits, type KeyOperation } from './key-request.js'
import type { KeyMethod, KeyRequestMetrics } from './metrics.js'
import { etcdHeaders, sendMethodNotAllowed, sendV2Error } from './render.js'
import { serveWatch, type OpenWatches } from './watch.js'
import type { AuthGate } from './auth-gate.js'

/** What the keys handler needs besides the member. */
export interface KeysContext {
  readonly member: MemberApi
  readonly limits: KeyLimits & { readonly watcherEventsMax: number }
  readonly openWatches: OpenWatches
  /** The member's metrics, shared by all its client listeners. */
  readonly metrics: KeyRequestMetrics
  /** The v2 auth check; no check without it. */
  readonly gate?: AuthGate
}

const keysPrefix = '/v2/keys'

/** The store key of a decoded request path under /v2/keys ('/' for the root). */
export function keyOfPath(path: string): string {
  let key = path.slice(keysPrefix.length)
  while (key.endsWith('/')) key = key.slice(0, -1)
  return key === '' ? '/' : key
}

/**
 * Handles one key-space request. Counted in `ctx.metrics` as etcd's keys handler counts: a
 * request is received once parsed (a watch is not), succeeds with its time to answer, or
 * fails with the status of the member's error; a request that does not parse is neither.
 * `rawQuery` is the query string without `?`.
 */
export async function handleKeys(
  ctx: KeysContext,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  rawQuery: string,
): Promise<FastifyReply | void> {
  const startMs = performance.now()
  const method = request.method
  if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT' && method !== 'POST' && method !== 'DELETE') {
    return sendMethodNotAllowed(reply, 'HEAD,GET,PUT,POST,DELETE')
  }
  const { member, metrics } = ctx
  let operation: KeyOperation
  try {
    const form = readForm(method, request, rawQuery)
    operation = parseKeyOperation(method, keyOfPath(path), form, ctx.limits, member.nowMs())
    // After parsing, as etcd: a malformed request gets its 4xx before any credential check.
    // The path keeps its trailing slash (`/pub/` is inside `/pub/*`, `/pub` is not).
    if (ctx.gate !== undefined && ctx.gate.enabled) {
      const recursive = operation.kind === 'write' ? isTrue(form.get('recursive')?.[0]) : operation.recursive
      const write = method !== 'GET' && method !== 'HEAD'
      if (!(await ctx.gate.mayAccessKey(request, path.slice(keysPrefix.length), write, recursive))) {
        throw new V2Error(ErrorCode.Unauthorized, 'Insufficient credentials', 0)
      }
    }
  } catch (error) {
    if (error instanceof V2Error) return sendV2Error(reply, member, error)
    throw error
  }
  const label: KeyMethod = operation.kind === 'get' && operation.quorum ? 'QGET' : method
  if (operation.kind === 'watch') metrics.watchRequested()
  else if (!(operation.kind === 'get' && operation.wait === true)) metrics.received(label)
  try {
    const sent = await execute(ctx, operation, reply)
    if (operation.kind !== 'watch') metrics.succeeded(label, (performance.now() - startMs) / 1000)
    return sent
  } catch (error) {
    if (!(error instanceof V2Error)) throw error
    metrics.failed(label, error.httpStatus)
    return sendV2Error(reply, member, error)
  }
}

/** Runs a parsed operation on the member and sends its answer. @throws V2Error from the member */
async function execute(ctx: KeysContext, operation: KeyOperation, reply: FastifyReply): Promise<FastifyReply | void> {
  const { member } = ctx
  switch (operation.kind) {
    case 'get': {
      const event = operation.quorum ? await member.quorumGet(operation.key, operation) : member.get(operation.key, operation)
      return reply.code(200).headers(etcdHeaders(member, event.index)).send(Buffer.from(event.json))
    }
    case 'watch':
      return serveWatch(member, operation, reply, ctx.openWatches, ctx.limits.watcherEventsMax)
    case 'write': {
      const event = await member.write(operation.request)
      const status = operation.request.op === 'create' || event.created ? 201 : 200
      const body = operation.noValueOnSuccess && actionsWithoutValue.has(event.action) ? `{"action":"${event.action}"}\n` : event.json
      return reply.code(status).headers(etcdHeaders(member, event.index)).send(Buffer.from(body))
    }
  }
}

/** Go's strconv.ParseBool true values (the form was validated already). */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)
}

/** Go's ParseForm for a key-space request. @throws V2Error 210 */
function readForm(method: string, request: FastifyRequest, rawQuery: string): FormValues {
  const form: FormValues = new Map()
  try {
    if (method === 'PUT' || method === 'POST') readBody(request, form)
    parseFormInto(rawQuery, form)
  } catch (error) {
    if (error instanceof FormError) throw new V2Error(ErrorCode.InvalidForm, error.message, 0)
    throw error
  }
  return form
}

/** Parses the body as a form when its media type says so; other bodies are ignored (Q5). */
function readBody(request: FastifyRequest, form: FormValues): void {
  const mediaType = parseMediaType(request.headers['content-type'] ?? '')
  if (mediaType !== 'application/x-www-form-urlencoded') return
  const body = request.body
  if (Buffer.isBuffer(body)) parseFormInto(body.toString('latin1'), form)
}

/** The answers that lose node/prevNode under noValueOnSuccess (spec §4.6); delete and CAD keep them. */
const actionsWithoutValue: ReadonlySet<Action> = new Set<Action>(['set', 'create', 'update', 'compareAndSwap'])
