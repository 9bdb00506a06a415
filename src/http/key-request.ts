/**
 * From a parsed /v2/keys request to what the member must do, validating every parameter in
 * etcd's order (spec v2-api.md §2.3, §2.4, §3.1; etcd v2http/client.go parseKeyRequest).
 * The first failing check wins; each failure is the V2Error etcd answers, with index 0.
 */
import { ErrorCode, V2Error } from '../v2error/index.js'
import type { StoreRequest } from '../store/index.js'
import type { FormValues } from './form.js'

/** What a /v2/keys request asks for. */
export type KeyOperation =
  | {
      readonly kind: 'get'
      readonly key: string
      readonly recursive: boolean
      readonly sorted: boolean
      readonly quorum: boolean
      /** `wait=true` with `quorum=true`: etcd serves a quorum read, and counts it as a watch (not received). */
      readonly wait?: true
    }
  | {
      readonly kind: 'watch'
      readonly key: string
      readonly recursive: boolean
      readonly stream: boolean
      /** 0: the next event; may exceed 2^53 (then it simply never arrives). */
      readonly waitIndex: number
    }
  | { readonly kind: 'write'; readonly request: StoreRequest; readonly noValueOnSuccess: boolean }

/** Limits the HTTP layer enforces on keys and values (each named in config). */
export interface KeyLimits {
  /** Bytes of a key's UTF-8 path; bounds rows and request lines. */
  readonly keyBytesMax: number
  /** Segments in a key path; bounds every walk of the tree. */
  readonly keyDepthMax: number
  /** Bytes of a value's UTF-8 text. */
  readonly valueBytesMax: number
}

/** Latest expiry Go's nanosecond clock can hold (2^63 ns, April 2262), in ms (Q13). */
const expiryMsMax = 9_223_372_036_854

/**
 * Validates `form` for `method` on `key` and returns the operation.
 * @param key    cleaned key ('/' for the root, no trailing slash).
 * @param nowMs  the receiving member's clock, to bound TTLs (Q13).
 * @throws V2Error 201, 202, 203, 209, 211 or 212 exactly as etcd orders them.
 */
export function parseKeyOperation(
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE',
  key: string,
  form: FormValues,
  limits: KeyLimits,
  nowMs: number,
): KeyOperation {
  const prevIndex = uint64Text(form, 'prevIndex')
  const waitIndex = uint64Text(form, 'waitIndex')
  const recursive = bool(form, 'recursive')
  const sorted = bool(form, 'sorted')
  const wait = bool(form, 'wait')
  const dir = bool(form, 'dir')
  const quorum = bool(form, 'quorum')
  const stream = bool(form, 'stream')
  if (wait && method !== 'GET') {
    throw new V2Error(ErrorCode.InvalidField, '"wait" can only be used with GET requests', 0)
  }
  const prevValue = first(form, 'prevValue')
  if (prevValue === '') throw new V2Error(ErrorCode.PrevValueRequired, '"prevValue" cannot be empty', 0)
  const noValueOnSuccess = bool(form, 'noValueOnSuccess')
  const ttlSeconds = ttl(form, nowMs)
  const prevExist = triState(form, 'prevExist')
  const refresh = triState(form, 'refresh')
  const value = first(form, 'value') ?? ''
  if (refresh === true) {
    if (value !== '') throw new V2Error(ErrorCode.RefreshValue, 'A value was provided on a refresh', 0)
    if (ttlSeconds === null) throw new V2Error(ErrorCode.RefreshTtlRequired, 'No TTL value set', 0)
  }
  // A POST creates `<key>/<20 digits>`: that key, one level deeper, must fit the limits too.
  checkKey(method === 'POST' ? inOrderKeyShape(key) : key, limits)
  if (Buffer.byteLength(value, 'utf8') > limits.valueBytesMax) {
    throw new V2Error(ErrorCode.InvalidField, `value is larger than ${limits.valueBytesMax} bytes`, 0)
  }

  switch (method) {
    case 'GET':
      if (wait && !quorum) return { kind: 'watch', key, recursive, stream, waitIndex: Number(waitIndex) }
      if (wait) return { kind: 'get', key, recursive, sorted, quorum, wait: true }
      return { kind: 'get', key, recursive, sorted, quorum }
    case 'HEAD':
      return { kind: 'get', key, recursive, sorted, quorum: false }
    case 'POST':
      return { kind: 'write', noValueOnSuccess, request: { op: 'create', key, value, dir, ttlSeconds, inOrder: true } }
    case 'DELETE':
      return { kind: 'write', noValueOnSuccess, request: deleteRequest(key, prevValue, prevIndex, dir, recursive) }
    case 'PUT': {
      const put = { key, value, dir, ttlSeconds, refresh: refresh === true, prevValue, prevIndex }
      return { kind: 'write', noValueOnSuccess, request: putRequest(put, prevExist) }
    }
  }
}

/** PUT's dispatch (spec §3.1 and §10.1; etcd apply_v2.go Put). */
function putRequest(
  p: {
    key: string
    value: string
    dir: boolean
    ttlSeconds: number | null
    refresh: boolean
    prevValue: string | undefined
    prevIndex: string
  },
  prevExist: boolean | undefined,
): StoreRequest {
  const compare = p.prevIndex !== '' || p.prevValue !== undefined
  const swap = { op: 'compareAndSwap', key: p.key, value: p.value, ttlSeconds: p.ttlSeconds, refresh: p.refresh } as const
  if (prevExist === false) {
    return { op: 'create', key: p.key, value: p.value, dir: p.dir, ttlSeconds: p.ttlSeconds, inOrder: false }
  }
  if (compare) return { ...swap, prevValue: p.prevValue, prevIndex: p.prevIndex }
  if (prevExist === true) return { op: 'update', key: p.key, value: p.value, ttlSeconds: p.ttlSeconds, refresh: p.refresh }
  return { op: 'set', key: p.key, value: p.value, dir: p.dir, ttlSeconds: p.ttlSeconds, refresh: p.refresh }
}

/** DELETE's dispatch (spec §3.1 and §10.2). */
function deleteRequest(
  key: string,
  prevValue: string | undefined,
  prevIndex: string,
  dir: boolean,
  recursive: boolean,
): StoreRequest {
  if (prevIndex !== '' || prevValue !== undefined) return { op: 'compareAndDelete', key, prevValue, prevIndex }
  return { op: 'delete', key, dir, recursive }
}

function first(form: FormValues, name: string): string | undefined {
  return form.get(name)?.[0]
}

const goTrue = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const goFalse = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

/** Go's strconv.ParseBool on the first value; absent is false. @throws V2Error 209 */
function bool(form: FormValues, name: string): boolean {
  const v = first(form, name)
  if (v === undefined) return false
  if (goTrue.has(v)) return true
  if (goFalse.has(v)) return false
  throw new V2Error(ErrorCode.InvalidField, `invalid value for "${name}"`, 0)
}

/** A boolean whose absence means "no condition" (prevExist, refresh). @throws V2Error 209 */
function triState(form: FormValues, name: 'prevExist' | 'refresh'): boolean | undefined {
  const v = first(form, name)
  if (v === undefined) return undefined
  if (goTrue.has(v)) return true
  if (goFalse.has(v)) return false
  throw new V2Error(ErrorCode.InvalidField, `invalid value for ${name}`, 0)
}

const uint64Max = '18446744073709551615'

/**
 * Go's strconv.ParseUint(v, 10, 64) on the first value, as normalized decimal text
 * ('' when absent or 0). @throws V2Error 203
 */
function uint64Text(form: FormValues, name: 'prevIndex' | 'waitIndex'): string {
  const v = first(form, name)
  if (v === undefined) return ''
  const n = parseUint64(v)
  if (n === undefined) throw new V2Error(ErrorCode.IndexNaN, `invalid value for "${name}"`, 0)
  return n === '0' ? '' : n
}

/** Normalized decimal text of a uint64 written in ASCII digits, or undefined. */
function parseUint64(v: string): string | undefined {
  if (!/^[0-9]+$/.test(v)) return undefined
  const n = v.replace(/^0+(?=.)/, '')
  if (n.length > uint64Max.length || (n.length === uint64Max.length && n > uint64Max)) return undefined
  return n
}

/** The TTL in seconds, or null for none (an empty first value means none). @throws V2Error 202 */
function ttl(form: FormValues, nowMs: number): number | null {
  const v = first(form, 'ttl')
  if (v === undefined || v === '') return null
  const n = parseUint64(v)
  if (n === undefined || nowMs + Number(n) * 1000 > expiryMsMax) {
    throw new V2Error(ErrorCode.TtlNaN, 'invalid value for "ttl"', 0)
  }
  return Number(n)
}

/** A key of the shape a POST on `key` creates (spec §8: the new index in 20 digits). */
function inOrderKeyShape(key: string): string {
  return (key === '/' ? '' : key) + '/' + '0'.repeat(20)
}

/** Enforces the key limits. @throws V2Error 209 */
function checkKey(key: string, limits: KeyLimits): void {
  if (key.length > limits.keyBytesMax / 3 && Buffer.byteLength(key, 'utf8') > limits.keyBytesMax) {
    throw new V2Error(ErrorCode.InvalidField, `key is longer than ${limits.keyBytesMax} bytes`, 0)
  }
  let depth = 0
  for (let i = key.indexOf('/'); i !== -1; i = key.indexOf('/', i + 1)) depth += 1
  if (depth > limits.keyDepthMax) {
    throw new V2Error(ErrorCode.InvalidField, `key is deeper than ${limits.keyDepthMax} segments`, 0)
  }
}
