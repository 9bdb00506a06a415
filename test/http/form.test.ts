/**
 * Goal: form and query parsing follows Go's url.ParseQuery and mime.ParseMediaType, whose
 * error texts etcd returns as error 210's cause (spec v2-api.md §2.2).
 * Method: tables of raw inputs against the parsed values or the exact error message.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FormError, goQuote, parseFormInto, parseMediaType, percentDecode, unescapeForm, type FormValues } from '../../src/http/form.js'

/** Parses `raw` into a fresh map; returns the values and the error message, if any. */
function parse(raw: string): { values: Record<string, string[]>; error?: string } {
  const into: FormValues = new Map()
  let error: string | undefined
  try {
    parseFormInto(raw, into)
  } catch (e) {
    assert.ok(e instanceof FormError)
    error = e.message
  }
  const values = Object.fromEntries(into)
  return error === undefined ? { values } : { values, error }
}

describe('parseFormInto', () => {
  const cases: { name: string; raw: string; values: Record<string, string[]>; error?: string }[] = [
    { name: 'pairs separated by &', raw: 'a=1&b=2', values: { a: ['1'], b: ['2'] } },
    { name: 'repeated names keep every value in order', raw: 'a=1&a=2&a=3', values: { a: ['1', '2', '3'] } },
    { name: '+ is a space and %2B a plus', raw: 'value=a+b%2Bc', values: { value: ['a b+c'] } },
    { name: 'a name without = has the empty value', raw: 'recursive', values: { recursive: [''] } },
    { name: 'an empty value', raw: 'prevValue=', values: { prevValue: [''] } },
    { name: 'runs of & are skipped', raw: '&&a=1&&&b=2&', values: { a: ['1'], b: ['2'] } },
    { name: 'an empty name is kept as the name ""', raw: '=v', values: { '': ['v'] } },
    { name: 'only the first = splits', raw: 'value=a=b', values: { value: ['a=b'] } },
    { name: 'escaped names are decoded', raw: 'pr%65vValue=x', values: { prevValue: ['x'] } },
    { name: 'names are case-sensitive', raw: 'Value=3&value=4', values: { Value: ['3'], value: ['4'] } },
    { name: 'escapes decode to UTF-8', raw: 'v=%C3%BCn%C3%AF', values: { v: ['ünï'] } },
    { name: 'an escaped NUL is kept', raw: 'v=a%00b', values: { v: ['a\u0000b'] } },
    { name: 'invalid UTF-8 bytes become U+FFFD, one per byte', raw: 'v=%FF%FE', values: { v: ['\ufffd\ufffd'] } },
    { name: 'an overlong encoding is two invalid bytes', raw: 'v=%C0%AF', values: { v: ['\ufffd\ufffd'] } },
    { name: 'a truncated sequence is one U+FFFD per byte, as Go renders it', raw: 'v=%E2%82', values: { v: ['\ufffd\ufffd'] } },
    { name: 'a truncated 4-byte sequence is three', raw: 'v=%F0%9F%98x', values: { v: ['\ufffd\ufffd\ufffdx'] } },
    { name: 'an encoded surrogate is three', raw: 'v=%ED%A0%80', values: { v: ['\ufffd\ufffd\ufffd'] } },
    { name: 'valid sequences around invalid bytes are kept', raw: 'v=a%E2%82%ACb%FFc%C3%BC', values: { v: ['a€b\ufffdcü'] } },
    { name: 'lower-case hex digits', raw: 'v=%2f%2F', values: { v: ['//'] } },
    { name: 'the empty string has no pairs', raw: '', values: {} },
    {
      name: 'a ; anywhere is an error',
      raw: 'a=1;b=2',
      values: {},
      error: 'invalid semicolon separator in query',
    },
    {
      name: 'a ; inside a value is an error too; other pairs are still read',
      raw: 'x=1&value=a;b&y=2',
      values: { x: ['1'], y: ['2'] },
      error: 'invalid semicolon separator in query',
    },
    { name: 'a bad escape names the three bytes', raw: 'value=%zz', values: {}, error: 'invalid URL escape "%zz"' },
    { name: 'a short escape at the end', raw: 'value=%2', values: {}, error: 'invalid URL escape "%2"' },
    { name: 'a lone %', raw: 'value=%', values: {}, error: 'invalid URL escape "%"' },
    { name: 'a bad escape in a name', raw: '%g1=x&b=2', values: { b: ['2'] }, error: 'invalid URL escape "%g1"' },
    { name: 'only the first bad escape is reported', raw: 'a=%zz&b=%yy', values: {}, error: 'invalid URL escape "%zz"' },
    {
      name: 'a semicolon after a bad escape replaces it (Go sets that error unconditionally)',
      raw: 'a=%zz&b=;',
      values: {},
      error: 'invalid semicolon separator in query',
    },
    {
      name: 'a bad escape after a semicolon does not replace it',
      raw: 'b=;&a=%zz',
      values: {},
      error: 'invalid semicolon separator in query',
    },
    {
      name: 'a quote after % is escaped as Go quotes it',
      raw: 'v=%"a',
      values: {},
      error: 'invalid URL escape "%\\"a"',
    },
    {
      name: 'control bytes after % are \\x escapes as Go quotes them',
      raw: 'v=%\u0001\u007f',
      values: {},
      error: 'invalid URL escape "%\\x01\\x7f"',
    },
    {
      name: 'a tab and a newline after % use short escapes',
      raw: 'v=%\t\n',
      values: {},
      error: 'invalid URL escape "%\\t\\n"',
    },
    {
      name: 'raw non-UTF-8 body bytes after % are \\x escapes',
      raw: 'v=%\u00ff\u00fe',
      values: {},
      error: 'invalid URL escape "%\\xff\\xfe"',
    },
    {
      name: 'a UTF-8 letter after % (read as latin1 body bytes) is quoted as the letter',
      raw: 'v=%\u00c3\u00a9',
      values: {},
      error: 'invalid URL escape "%é"',
    },
  ]
  for (const c of cases) {
    test(c.name, () => {
      const want = c.error === undefined ? { values: c.values } : { values: c.values, error: c.error }
      assert.deepEqual(parse(c.raw), want)
    })
  }

  test('a second call appends after the values already there (body first, then query)', () => {
    const form: FormValues = new Map()
    parseFormInto('value=frombody&ttl=', form)
    parseFormInto('value=fromquery&ttl=100', form)
    assert.deepEqual(Object.fromEntries(form), { value: ['frombody', 'fromquery'], ttl: ['', '100'] })
  })

  test('50 000 pairs are parsed in one pass', () => {
    const raw = Array.from({ length: 50_000 }, (_, i) => `p${i}=${i}`).join('&')
    const form: FormValues = new Map()
    parseFormInto(raw, form)
    assert.equal(form.size, 50_000)
    assert.deepEqual(form.get('p49999'), ['49999'])
  })
})

describe('unescapeForm and percentDecode', () => {
  test('plain ASCII is returned as is', () => assert.equal(unescapeForm('abc-._~'), 'abc-._~'))
  test('query components turn + into a space', () => assert.equal(unescapeForm('a+b'), 'a b'))
  test('paths keep +', () => assert.equal(percentDecode('/h+plus', false), '/h+plus'))
  test('paths decode %2F into a slash', () => assert.equal(percentDecode('/a%2Fb', false), '/a/b'))
  test('a bad escape is returned as a FormError, not thrown', () => {
    const result = percentDecode('/%zz', false)
    assert.ok(result instanceof FormError)
    assert.equal(result.message, 'invalid URL escape "%zz"')
  })
})

describe('goQuote', () => {
  const cases: { bytes: number[]; want: string }[] = [
    { bytes: [0x25, 0x7a, 0x7a], want: '"%zz"' },
    { bytes: [0x22, 0x5c], want: '"\\"\\\\"' },
    { bytes: [0x07, 0x08, 0x0b, 0x0c], want: '"\\a\\b\\v\\f"' },
    { bytes: [0x00, 0x1f, 0x7f], want: '"\\x00\\x1f\\x7f"' },
    { bytes: [0xc2, 0xa0], want: '"\\u00a0"' }, // NBSP is not printable for Go
    { bytes: [0xc2, 0x85], want: '"\\u0085"' },
    { bytes: [0xe2, 0x82, 0xac], want: '"€"' },
    { bytes: [0xe2, 0x82], want: '"\\xe2\\x82"' }, // truncated sequence
    { bytes: [0xed, 0xa0, 0x80], want: '"\\xed\\xa0\\x80"' }, // a surrogate is invalid UTF-8
    { bytes: [0xf0, 0x9f, 0x98, 0x80], want: '"😀"' },
  ]
  for (const c of cases) {
    test(`quotes ${Buffer.from(c.bytes).toString('hex')} as ${c.want}`, () => {
      assert.equal(goQuote(Uint8Array.from(c.bytes)), c.want)
    })
  }
})

describe('parseMediaType', () => {
  const ok: { contentType: string; want: string }[] = [
    { contentType: 'application/x-www-form-urlencoded', want: 'application/x-www-form-urlencoded' },
    { contentType: 'Application/X-WWW-Form-URLEncoded', want: 'application/x-www-form-urlencoded' },
    { contentType: 'application/x-www-form-urlencoded; charset=utf-8', want: 'application/x-www-form-urlencoded' },
    { contentType: 'application/x-www-form-urlencoded;charset="utf-8"', want: 'application/x-www-form-urlencoded' },
    { contentType: 'application/x-www-form-urlencoded;', want: 'application/x-www-form-urlencoded' },
    { contentType: 'text', want: 'text' }, // one token and nothing after it is a media type for Go
    { contentType: '', want: 'application/octet-stream' }, // an empty header is no form
    { contentType: ' text/plain ', want: 'text/plain' },
  ]
  for (const c of ok) {
    test(`"${c.contentType}" is ${c.want}`, () => assert.equal(parseMediaType(c.contentType), c.want))
  }
  const bad: { contentType: string; error: string }[] = [
    { contentType: ';;;', error: 'mime: no media type' },
    { contentType: ' ; charset=utf-8', error: 'mime: no media type' },
    { contentType: 'text plain', error: 'mime: expected slash after first token' },
    { contentType: 'text/', error: 'mime: expected token after slash' },
    { contentType: 'text/plain/x', error: 'mime: unexpected content after media subtype' },
    { contentType: 'application/x-www-form-urlencoded; charset', error: 'mime: invalid media parameter' },
    { contentType: 'application/x-www-form-urlencoded;;', error: 'mime: invalid media parameter' },
    { contentType: 'text/plain; a=1; a=2', error: 'mime: duplicate parameter name' },
    { contentType: 'text/plain; a="open', error: 'mime: invalid media parameter' },
  ]
  for (const c of bad) {
    test(`"${c.contentType}" fails with ${c.error}`, () => {
      assert.throws(() => parseMediaType(c.contentType), (e: unknown) => e instanceof FormError && e.message === c.error)
    })
  }
})
