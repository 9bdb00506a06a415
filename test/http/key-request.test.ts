/**
 * Goal: /v2/keys parameters are validated in etcd's order with etcd's codes and causes
 * (spec v2-api.md §2.3, §2.4, §9.1, Q13), and each request maps to the store operation of
 * the dispatch table (§3.1, §10).
 * Method: parseKeyOperation on parsed query strings; each case is a row of a table.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseFormInto, type FormValues } from '../../src/http/form.js'
import { parseKeyOperation, type KeyLimits, type KeyOperation } from '../../src/http/key-request.js'
import { V2Error } from '../../src/v2error/index.js'

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'

/** 2023-11-14T22:13:20Z: the receiving member's clock in these tests. */
const nowMs = 1_700_000_000_000
const limits: KeyLimits = { keyBytesMax: 65_536, keyDepthMax: 4_096, valueBytesMax: 10_485_760 }

/** The operation for `method query` on `key`, or the error as `{ errorCode, cause }`. */
function outcome(
  method: Method,
  query: string,
  options: { key?: string; limits?: KeyLimits } = {},
): KeyOperation | { errorCode: number; cause: string; index: number } {
  const form: FormValues = new Map()
  parseFormInto(query, form)
  try {
    return parseKeyOperation(method, options.key ?? '/k', form, options.limits ?? limits, nowMs)
  } catch (error) {
    if (!(error instanceof V2Error)) throw error
    return { errorCode: error.errorCode, cause: error.detail, index: error.index }
  }
}

/** Just the error code and cause (or 'ok'). */
function verdict(method: Method, query: string, options: { key?: string; limits?: KeyLimits } = {}): string {
  const result = outcome(method, query, options)
  return 'errorCode' in result ? `${result.errorCode} ${result.cause}` : 'ok'
}

describe('validation order (spec §2.4): the first failing check wins', () => {
  const rows: { method?: Method; query: string; want: string }[] = [
    // The observed examples of §2.4.
    { query: 'ttl=abc&prevIndex=abc', want: '203 invalid value for "prevIndex"' },
    { query: 'ttl=abc&prevValue=', want: '201 "prevValue" cannot be empty' },
    { query: 'prevExist=zz&ttl=abc', want: '202 invalid value for "ttl"' },
    { query: 'wait=true&prevValue=', want: '209 "wait" can only be used with GET requests' },
    { method: 'GET', query: 'wait=zz&recursive=zz', want: '209 invalid value for "recursive"' },
    // Step 2: prevIndex, then waitIndex.
    { query: 'waitIndex=x&prevIndex=y', want: '203 invalid value for "prevIndex"' },
    { method: 'GET', query: 'recursive=zz&waitIndex=y', want: '203 invalid value for "waitIndex"' },
    // Step 3: recursive, sorted, wait, dir, quorum, stream.
    { method: 'GET', query: 'stream=zz&quorum=zz&dir=zz&wait=zz&sorted=zz&recursive=zz', want: '209 invalid value for "recursive"' },
    { method: 'GET', query: 'stream=zz&quorum=zz&dir=zz&wait=zz&sorted=zz', want: '209 invalid value for "sorted"' },
    { method: 'GET', query: 'stream=zz&quorum=zz&dir=zz&wait=zz', want: '209 invalid value for "wait"' },
    { method: 'GET', query: 'stream=zz&quorum=zz&dir=zz', want: '209 invalid value for "dir"' },
    { method: 'GET', query: 'stream=zz&quorum=zz', want: '209 invalid value for "quorum"' },
    { method: 'GET', query: 'stream=zz&prevValue=', want: '209 invalid value for "stream"' },
    // Step 4: wait on anything but GET, after the syntax checks.
    { query: 'wait=true&stream=zz', want: '209 invalid value for "stream"' },
    { method: 'HEAD', query: 'wait=true', want: '209 "wait" can only be used with GET requests' },
    { method: 'POST', query: 'wait=true', want: '209 "wait" can only be used with GET requests' },
    { method: 'DELETE', query: 'wait=1', want: '209 "wait" can only be used with GET requests' },
    { method: 'DELETE', query: 'wait=false', want: 'ok' },
    // Step 5-9.
    { query: 'noValueOnSuccess=zz&prevValue=', want: '201 "prevValue" cannot be empty' },
    { query: 'ttl=abc&noValueOnSuccess=zz', want: '209 invalid value for "noValueOnSuccess"' },
    { query: 'prevExist=zz&ttl=-1', want: '202 invalid value for "ttl"' },
    { query: 'refresh=zz&prevExist=zz', want: '209 invalid value for prevExist' },
    { query: 'refresh=zz&value=x', want: '209 invalid value for refresh' },
    { query: 'refresh=true&value=x', want: '211 A value was provided on a refresh' },
    { query: 'refresh=true&value=x&ttl=', want: '211 A value was provided on a refresh' },
    { query: 'refresh=true', want: '212 No TTL value set' },
    { query: 'refresh=true&ttl=', want: '212 No TTL value set' },
    { query: 'refresh=true&ttl=&ttl=5', want: '212 No TTL value set' },
    { query: 'refresh=true&value=&ttl=5', want: 'ok' },
    { query: 'refresh=false&value=x', want: 'ok' },
    // Every method validates every parameter (§2.3).
    { method: 'DELETE', query: 'sorted=zz', want: '209 invalid value for "sorted"' },
    { method: 'DELETE', query: 'prevExist=zz', want: '209 invalid value for prevExist' },
    { method: 'DELETE', query: 'ttl=x', want: '202 invalid value for "ttl"' },
    { method: 'DELETE', query: 'prevValue=', want: '201 "prevValue" cannot be empty' },
    { method: 'GET', query: 'prevValue=', want: '201 "prevValue" cannot be empty' },
    { method: 'GET', query: 'refresh=true', want: '212 No TTL value set' },
    { method: 'POST', query: 'prevIndex=-1', want: '203 invalid value for "prevIndex"' },
    { method: 'HEAD', query: 'noValueOnSuccess=', want: '209 invalid value for "noValueOnSuccess"' },
    // waitIndex is validated even without wait=true.
    { method: 'PUT', query: 'waitIndex=abc', want: '203 invalid value for "waitIndex"' },
    // Unknown and differently-cased names are ignored.
    { query: 'prevexist=zz&Value=3&consistent=garbage&foo', want: 'ok' },
  ]
  for (const row of rows) {
    const method = row.method ?? 'PUT'
    test(`${method} ?${row.query} → ${row.want}`, () => assert.equal(verdict(method, row.query), row.want))
  }

  test('errors found while validating carry index 0', () => {
    assert.deepEqual(outcome('PUT', 'ttl=abc'), { errorCode: 202, cause: 'invalid value for "ttl"', index: 0 })
  })

  test('parameter errors come before the key and value limits', () => {
    const tight: KeyLimits = { keyBytesMax: 2, keyDepthMax: 1, valueBytesMax: 0 }
    assert.equal(verdict('PUT', 'value=x&refresh=true', { key: '/deep/key', limits: tight }), '211 A value was provided on a refresh')
  })
})

describe('boolean grammar (Go strconv.ParseBool)', () => {
  const truths = ['1', 't', 'T', 'TRUE', 'true', 'True']
  const falsehoods = ['0', 'f', 'F', 'FALSE', 'false', 'False']
  const invalid = ['', 'tRuE', 'TRUe', 'yes', 'on', 'y', ' true', 'true ', '2', '1.0', '00', 'truee', '%00']
  const names: { name: string; method: Method; cause: string }[] = [
    { name: 'recursive', method: 'GET', cause: 'invalid value for "recursive"' },
    { name: 'sorted', method: 'GET', cause: 'invalid value for "sorted"' },
    { name: 'wait', method: 'GET', cause: 'invalid value for "wait"' },
    { name: 'dir', method: 'PUT', cause: 'invalid value for "dir"' },
    { name: 'quorum', method: 'GET', cause: 'invalid value for "quorum"' },
    { name: 'stream', method: 'GET', cause: 'invalid value for "stream"' },
    { name: 'noValueOnSuccess', method: 'PUT', cause: 'invalid value for "noValueOnSuccess"' },
    { name: 'prevExist', method: 'PUT', cause: 'invalid value for prevExist' },
    { name: 'refresh', method: 'PUT', cause: 'invalid value for refresh' },
  ]
  for (const { name, method, cause } of names) {
    test(`${name}: the twelve Go spellings are accepted`, () => {
      for (const v of [...truths, ...falsehoods]) {
        const extra = name === 'refresh' && truths.includes(v) ? '&ttl=5' : ''
        assert.equal(verdict(method, `${name}=${v}${extra}`), 'ok', `${name}=${v}`)
      }
    })
    test(`${name}: anything else (empty included) is 209 ${cause}`, () => {
      for (const v of invalid) assert.equal(verdict(method, `${name}=${encodeURIComponent(v)}`), `209 ${cause}`, `${name}=${v}`)
    })
  }

  test('only the first value is read', () => {
    assert.equal(verdict('GET', 'recursive=true&recursive=zz'), 'ok')
    assert.equal(verdict('GET', 'recursive=zz&recursive=true'), '209 invalid value for "recursive"')
  })
})

describe('uint64 grammar (Go strconv.ParseUint base 10): prevIndex and waitIndex', () => {
  const accepted: [string, string][] = [
    ['0', ''],
    ['000', ''],
    ['1', '1'],
    ['007', '7'],
    ['18446744073709551615', '18446744073709551615'],
    ['00000000018446744073709551615', '18446744073709551615'],
    ['9007199254740993', '9007199254740993'],
  ]
  for (const [text, normalized] of accepted) {
    test(`prevIndex=${text} is the condition "${normalized}" (kept exact as text)`, () => {
      const op = outcome('DELETE', `prevIndex=${text}`)
      assert.ok('kind' in op && op.kind === 'write')
      if (normalized === '') assert.equal(op.request.op, 'delete', 'prevIndex=0 is no condition')
      else assert.deepEqual(op.request, { op: 'compareAndDelete', key: '/k', prevValue: undefined, prevIndex: normalized })
    })
  }
  const rejected = ['', '18446744073709551616', '99999999999999999999', '100000000000000000000', '-1', '+1', ' 1', '1 ', '0x10', '1.5', '1e3', '1_000', 'NaN', 'Infinity', '１', '٣']
  for (const text of rejected) {
    test(`prevIndex=${JSON.stringify(text)} and waitIndex=${JSON.stringify(text)} are 203`, () => {
      const q = encodeURIComponent(text)
      assert.equal(verdict('PUT', `prevIndex=${q}`), '203 invalid value for "prevIndex"')
      assert.equal(verdict('GET', `wait=true&waitIndex=${q}`), '203 invalid value for "waitIndex"')
    })
  }
  test('waitIndex=2^64-1 is a watch that waits (no event can reach it)', () => {
    const op = outcome('GET', 'wait=true&waitIndex=18446744073709551615')
    assert.ok('kind' in op && op.kind === 'watch')
    assert.ok(op.waitIndex >= 2 ** 64 - 1)
  })
})

describe('ttl (spec §2.3, §9.1, Q13)', () => {
  // The latest expiry Go's clock holds is 2^63 ns (April 2262); at nowMs that leaves:
  const ttlMax = Math.floor((9_223_372_036_854 - nowMs) / 1000)
  const ttlOf = (query: string): number | null | string => {
    const op = outcome('PUT', query)
    if ('errorCode' in op) return `${op.errorCode} ${op.cause}`
    assert.ok(op.kind === 'write' && op.request.op === 'set')
    return op.request.ttlSeconds
  }
  const rows: [string, number | null | string][] = [
    ['', null],
    ['ttl=', null],
    ['ttl=&ttl=5', null],
    ['ttl=5&ttl=abc', 5],
    ['ttl=0', 0],
    ['ttl=007', 7],
    ['ttl=2147483647', 2147483647],
    [`ttl=${ttlMax}`, ttlMax],
    [`ttl=${ttlMax + 1}`, '202 invalid value for "ttl"'],
    ['ttl=9223372036', '202 invalid value for "ttl"'],
    ['ttl=18446744073709551615', '202 invalid value for "ttl"'],
    ['ttl=18446744073709551616', '202 invalid value for "ttl"'],
    [`ttl=${'9'.repeat(100)}`, '202 invalid value for "ttl"'],
    ['ttl=-1', '202 invalid value for "ttl"'],
    ['ttl=%2B5', '202 invalid value for "ttl"'],
    ['ttl=+5', '202 invalid value for "ttl"'], // '+' is a space: " 5"
    ['ttl=1.5', '202 invalid value for "ttl"'],
    ['ttl=0x10', '202 invalid value for "ttl"'],
    ['ttl=1e3', '202 invalid value for "ttl"'],
    ['ttl=NaN', '202 invalid value for "ttl"'],
    ['ttl=Infinity', '202 invalid value for "ttl"'],
    ['ttl=%EF%BC%91', '202 invalid value for "ttl"'], // fullwidth digit one
  ]
  for (const [query, want] of rows) test(`?${query} → ${String(want)}`, () => assert.equal(ttlOf(query), want))

  test('the cap moves with the member clock: the same TTL is accepted earlier', () => {
    const form: FormValues = new Map([['ttl', [String(ttlMax + 1)]]])
    const op = parseKeyOperation('PUT', '/k', form, limits, nowMs - 1000)
    assert.ok(op.kind === 'write' && op.request.op === 'set')
    assert.equal(op.request.ttlSeconds, ttlMax + 1)
  })
})

describe('dispatch table (spec §3.1, §10.1, §10.2)', () => {
  const rows: { method: Method; query: string; want: KeyOperation }[] = [
    { method: 'GET', query: '', want: { kind: 'get', key: '/k', recursive: false, sorted: false, quorum: false } },
    { method: 'GET', query: 'recursive=true&sorted=1', want: { kind: 'get', key: '/k', recursive: true, sorted: true, quorum: false } },
    { method: 'GET', query: 'quorum=true', want: { kind: 'get', key: '/k', recursive: false, sorted: false, quorum: true } },
    { method: 'GET', query: 'wait=true', want: { kind: 'watch', key: '/k', recursive: false, stream: false, waitIndex: 0 } },
    {
      method: 'GET',
      query: 'wait=true&recursive=true&stream=true&waitIndex=007',
      want: { kind: 'watch', key: '/k', recursive: true, stream: true, waitIndex: 7 },
    },
    { method: 'GET', query: 'wait=true&quorum=true', want: { kind: 'get', key: '/k', recursive: false, sorted: false, quorum: true, wait: true } },
    { method: 'GET', query: 'waitIndex=5&stream=true', want: { kind: 'get', key: '/k', recursive: false, sorted: false, quorum: false } },
    { method: 'HEAD', query: 'quorum=true&recursive=true', want: { kind: 'get', key: '/k', recursive: true, sorted: false, quorum: false } },
    {
      method: 'PUT',
      query: 'value=v&dir=true&ttl=5',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'set', key: '/k', value: 'v', dir: true, ttlSeconds: 5, refresh: false } },
    },
    {
      method: 'PUT',
      query: 'prevIndex=0&ttl=5&refresh=true',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'set', key: '/k', value: '', dir: false, ttlSeconds: 5, refresh: true } },
    },
    {
      method: 'PUT',
      query: 'prevExist=true&value=v&dir=true',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'update', key: '/k', value: 'v', ttlSeconds: null, refresh: false } },
    },
    {
      method: 'PUT',
      query: 'prevExist=true&prevIndex=0',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'update', key: '/k', value: '', ttlSeconds: null, refresh: false } },
    },
    {
      method: 'PUT',
      query: 'prevExist=true&prevIndex=3&value=v',
      want: {
        kind: 'write',
        noValueOnSuccess: false,
        request: { op: 'compareAndSwap', key: '/k', value: 'v', ttlSeconds: null, refresh: false, prevValue: undefined, prevIndex: '3' },
      },
    },
    {
      method: 'PUT',
      query: 'prevExist=true&prevValue=old&value=v',
      want: {
        kind: 'write',
        noValueOnSuccess: false,
        request: { op: 'compareAndSwap', key: '/k', value: 'v', ttlSeconds: null, refresh: false, prevValue: 'old', prevIndex: '' },
      },
    },
    {
      method: 'PUT',
      query: 'prevExist=false&prevValue=x&prevIndex=3&refresh=true&ttl=9&dir=true',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'create', key: '/k', value: '', dir: true, ttlSeconds: 9, inOrder: false } },
    },
    {
      method: 'PUT',
      query: 'prevValue=old&prevIndex=4&dir=true&value=v&noValueOnSuccess=true',
      want: {
        kind: 'write',
        noValueOnSuccess: true,
        request: { op: 'compareAndSwap', key: '/k', value: 'v', ttlSeconds: null, refresh: false, prevValue: 'old', prevIndex: '4' },
      },
    },
    {
      method: 'POST',
      query: 'prevExist=true&prevValue=zz&prevIndex=5&refresh=true&ttl=5',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'create', key: '/k', value: '', dir: false, ttlSeconds: 5, inOrder: true } },
    },
    {
      method: 'POST',
      query: 'value=Job1&dir=false',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'create', key: '/k', value: 'Job1', dir: false, ttlSeconds: null, inOrder: true } },
    },
    {
      method: 'DELETE',
      query: '',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'delete', key: '/k', dir: false, recursive: false } },
    },
    {
      method: 'DELETE',
      query: 'recursive=true&prevIndex=0&prevExist=false',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'delete', key: '/k', dir: false, recursive: true } },
    },
    {
      method: 'DELETE',
      query: 'dir=true',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'delete', key: '/k', dir: true, recursive: false } },
    },
    {
      method: 'DELETE',
      query: 'prevValue=one&dir=true&recursive=true',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'compareAndDelete', key: '/k', prevValue: 'one', prevIndex: '' } },
    },
    {
      method: 'DELETE',
      query: 'prevIndex=79',
      want: { kind: 'write', noValueOnSuccess: false, request: { op: 'compareAndDelete', key: '/k', prevValue: undefined, prevIndex: '79' } },
    },
  ]
  for (const row of rows) {
    test(`${row.method} ?${row.query}`, () => assert.deepEqual(outcome(row.method, row.query), row.want))
  }
})

describe('key and value limits', () => {
  const tight: KeyLimits = { keyBytesMax: 11, keyDepthMax: 3, valueBytesMax: 4 }
  const rows: { key: string; query?: string; want: string }[] = [
    { key: '/0123456789', want: 'ok' }, // 11 bytes
    { key: '/01234567890', want: '209 key is longer than 11 bytes' },
    { key: '/ééééé', want: 'ok' }, // 11 UTF-8 bytes
    { key: '/éééééé', want: '209 key is longer than 11 bytes' },
    { key: '/a/b/c', want: 'ok' },
    { key: '/a/b/c/d', want: '209 key is deeper than 3 segments' },
    { key: '/k', query: 'value=1234', want: 'ok' },
    { key: '/k', query: 'value=12345', want: '209 value is larger than 4 bytes' },
    { key: '/k', query: 'value=%C3%A9%C3%A9', want: 'ok' },
    { key: '/k', query: 'value=%C3%A9%C3%A9x', want: '209 value is larger than 4 bytes' },
  ]
  test('POST is checked against the key it creates: <key>/<20 digits>', () => {
    const postLimits: KeyLimits = { keyBytesMax: 23, keyDepthMax: 2, valueBytesMax: 4 }
    assert.equal(verdict('POST', '', { key: '/ab', limits: postLimits }), '209 key is longer than 23 bytes')
    assert.equal(verdict('POST', '', { key: '/a', limits: postLimits }), 'ok')
    assert.equal(verdict('POST', '', { key: '/', limits: { ...postLimits, keyDepthMax: 1 } }), 'ok')
    assert.equal(verdict('POST', '', { key: '/a/b', limits: { ...postLimits, keyBytesMax: 100 } }), '209 key is deeper than 2 segments')
  })

  for (const row of rows) {
    test(`PUT ${row.key} ?${row.query ?? ''} → ${row.want}`, () => {
      assert.equal(verdict('PUT', row.query ?? '', { key: row.key, limits: tight }), row.want)
    })
  }
})
