/**
 * Form and query parsing with the rules of Go's net/url.ParseQuery and Request.ParseForm,
 * which decide how etcd reads every /v2/keys parameter (spec v2-api.md §2.2):
 * `&` separates pairs, a `;` anywhere is an error, `+` is a space, a bad `%` escape is an
 * error naming it, a name without `=` has the empty value, empty pairs are skipped, and
 * values from a form body come before values from the query. Percent-decoded bytes are read
 * as UTF-8 (each invalid byte becomes one U+FFFD, as Go renders it).
 *
 * This is etcd's HTTP semantics, not generic form handling: the error texts are part of
 * etcd's answers (error 210's `cause`), which no form library reproduces.
 */

import { isUtf8 } from 'node:buffer'

/** A parse failure; `message` is Go's error text, used as error 210's cause. */
export class FormError extends Error {
  override readonly name = 'FormError'
}

/** Parsed parameters: every value of every name, in the order Go would see them. */
export type FormValues = Map<string, string[]>

/**
 * Parses `raw` (a query string without `?`, or a form body read as latin1 so each char is
 * one byte) and appends its pairs to `into`.
 * @throws FormError `invalid semicolon separator in query` or `invalid URL escape "%zz"`;
 *         like Go, parsing goes on after an error: the last semicolon error wins, else the
 *         first escape error.
 */
export function parseFormInto(raw: string, into: FormValues): void {
  let firstError: FormError | undefined
  let start = 0
  while (start <= raw.length) {
    let end = raw.indexOf('&', start)
    if (end === -1) end = raw.length
    const pair = raw.slice(start, end)
    start = end + 1
    if (pair === '') continue
    if (pair.includes(';')) {
      // Go sets this error unconditionally: it replaces an escape error seen earlier.
      firstError = new FormError('invalid semicolon separator in query')
      continue
    }
    const eq = pair.indexOf('=')
    const rawName = eq === -1 ? pair : pair.slice(0, eq)
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1)
    const name = unescapeForm(rawName)
    if (name instanceof FormError) {
      firstError ??= name
      continue
    }
    const value = unescapeForm(rawValue)
    if (value instanceof FormError) {
      firstError ??= value
      continue
    }
    const values = into.get(name)
    if (values === undefined) into.set(name, [value])
    else values.push(value)
  }
  if (firstError !== undefined) throw firstError
}

const plainAscii = /^[\x21-\x24\x26-\x2a\x2c-\x7e]*$/

/** Decodes `%XX` and `+` (query-component rules); returns a FormError on a bad escape. */
export function unescapeForm(s: string): string | FormError {
  if (plainAscii.test(s)) return s
  return percentDecode(s, true)
}

/**
 * Decodes `%XX` escapes of `s` (one char per byte, as latin1) into a UTF-8 string.
 * @param plusIsSpace true for query components, false for paths.
 */
export function percentDecode(s: string, plusIsSpace: boolean): string | FormError {
  const bytes = Buffer.allocUnsafe(s.length * 3)
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25) {
      const h = hexValue(s.charCodeAt(i + 1))
      const l = hexValue(s.charCodeAt(i + 2))
      if (h < 0 || l < 0) return new FormError(`invalid URL escape ${goQuote(bytesOf(s.slice(i, i + 3)))}`)
      bytes[n++] = h * 16 + l
      i += 2
    } else if (c === 0x2b && plusIsSpace) {
      bytes[n++] = 0x20
    } else if (c < 0x80) {
      bytes[n++] = c
    } else if (c <= 0xff) {
      bytes[n++] = c // a raw byte of a latin1-read body
    } else {
      n += bytes.write(String.fromCharCode(c), n, 'utf8') // a UTF-16 char of an already decoded string
    }
  }
  return utf8LikeGo(bytes.subarray(0, n))
}

/**
 * `bytes` as text, each byte of an invalid UTF-8 sequence becoming one U+FFFD, as Go's
 * encoding/json renders them (spec §1.4: `%E2%82` is two). Node's decoder would replace a
 * truncated sequence by a single U+FFFD.
 */
function utf8LikeGo(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8')
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const width = utf8Width(bytes, i)
    out += width === 0 ? '\ufffd' : bytes.toString('utf8', i, i + width)
    i += Math.max(width, 1)
  }
  return out
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}

/** The bytes of `s`: chars up to 0xff are bytes (latin1 reading), others are UTF-8 encoded. */
function bytesOf(s: string): Buffer {
  return /[^\x00-\xff]/.test(s) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1')
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u
const shortEscapes = new Map([[7, '\\a'], [8, '\\b'], [12, '\\f'], [10, '\\n'], [13, '\\r'], [9, '\\t'], [11, '\\v']])

/**
 * Go's strconv.Quote of `bytes`, as it appears in Go's `invalid URL escape "..."`: printable
 * runes raw, `"` and `\\` escaped, \a \b \f \n \r \t \v, other control bytes and invalid
 * UTF-8 bytes as \xHH, other non-printable runes as \uHHHH.
 */
export function goQuote(bytes: Uint8Array): string {
  let out = '"'
  let i = 0
  while (i < bytes.length) {
    const width = utf8Width(bytes, i)
    if (width === 0) {
      out += '\\x' + (bytes[i] ?? 0).toString(16).padStart(2, '0')
      i += 1
      continue
    }
    const rune = Buffer.from(bytes.subarray(i, i + width)).toString('utf8')
    const code = rune.codePointAt(0) ?? 0
    i += width
    if (code === 0x22 || code === 0x5c) out += '\\' + rune
    else if (code === 0x20 || (code > 0x20 && code < 0x7f) || (code >= 0x80 && printable.test(rune))) out += rune
    else if (shortEscapes.has(code)) out += shortEscapes.get(code)
    else if (code < 0x80) out += '\\x' + code.toString(16).padStart(2, '0')
    else if (code < 0x10000) out += '\\u' + code.toString(16).padStart(4, '0')
    else out += '\\U' + code.toString(16).padStart(8, '0')
  }
  return out + '"'
}

/** Length of the valid UTF-8 sequence starting at `bytes[i]`, or 0 when it is invalid there. */
function utf8Width(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] ?? 0
  if (b0 < 0x80) return 1
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = bytes[i + k]
    return b !== undefined && b >= lo && b <= hi
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80
    const hi = b0 === 0xed ? 0x9f : 0xbf
    return cont(1, lo, hi) && cont(2) ? 3 : 0
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80
    const hi = b0 === 0xf4 ? 0x8f : 0xbf
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0
  }
  return 0
}

const tokenChar = /[!#$%&'*+\-.0-9A-Z^_`a-z|~]/
const unicodeSpace = /^[\s\u0085]+/u

/**
 * The lower-case media type of a Content-Type value, checked as Go's mime.ParseMediaType
 * does before ParseForm reads a body (etcd answers its error as 210).
 * @param contentType '' when the header is absent or empty (Go then reads no form body).
 * @throws FormError `mime: no media type`, `mime: expected slash after first token`,
 *         `mime: expected token after slash`, `mime: unexpected content after media subtype`,
 *         `mime: invalid media parameter` or `mime: duplicate parameter name`.
 */
export function parseMediaType(contentType: string): string {
  if (contentType === '') return 'application/octet-stream'
  const semicolon = contentType.indexOf(';')
  const base = semicolon === -1 ? contentType : contentType.slice(0, semicolon)
  const mediaType = base.toLowerCase().trim()
  const [type, afterType] = consumeToken(mediaType)
  if (type === '') throw new FormError('mime: no media type')
  if (afterType !== '') {
    if (!afterType.startsWith('/')) throw new FormError('mime: expected slash after first token')
    const [subtype, afterSubtype] = consumeToken(afterType.slice(1))
    if (subtype === '') throw new FormError('mime: expected token after slash')
    if (afterSubtype !== '') throw new FormError('mime: unexpected content after media subtype')
  }
  checkMediaParameters(semicolon === -1 ? '' : contentType.slice(semicolon))
  return mediaType
}

/** Go's parameter loop of mime.ParseMediaType (a trailing `;` is allowed). @throws FormError */
function checkMediaParameters(params: string): void {
  const seen = new Set<string>()
  let rest = params
  for (;;) {
    rest = rest.replace(unicodeSpace, '')
    if (rest === '') return
    const param = consumeMediaParam(rest)
    if (param === undefined) {
      if (rest.trim() === ';') return
      throw new FormError('mime: invalid media parameter')
    }
    if (seen.has(param.name)) throw new FormError('mime: duplicate parameter name')
    seen.add(param.name)
    rest = param.rest
  }
}

/** `; name=value` at the start of `v`, or undefined when malformed. */
function consumeMediaParam(v: string): { name: string; rest: string } | undefined {
  let rest = v.replace(unicodeSpace, '')
  if (!rest.startsWith(';')) return undefined
  rest = rest.slice(1).replace(unicodeSpace, '')
  const [name, afterName] = consumeToken(rest)
  if (name === '') return undefined
  rest = afterName.replace(unicodeSpace, '')
  if (!rest.startsWith('=')) return undefined
  rest = rest.slice(1).replace(unicodeSpace, '')
  const [value, afterValue] = rest.startsWith('"') ? consumeQuoted(rest) : consumeToken(rest)
  if (value === '' && afterValue === rest) return undefined
  return { name: name.toLowerCase(), rest: afterValue }
}

/** The longest prefix of token characters (RFC 1521) and what follows it. */
function consumeToken(v: string): [string, string] {
  let i = 0
  while (i < v.length && tokenChar.test(v.charAt(i))) i++
  return [v.slice(0, i), v.slice(i)]
}

/** A quoted-string at the start of `v`; ['', v] when it is not closed. */
function consumeQuoted(v: string): [string, string] {
  let value = ''
  for (let i = 1; i < v.length; i++) {
    const c = v.charAt(i)
    if (c === '"') return [value, v.slice(i + 1)]
    if (c === '\\' && i + 1 < v.length && '()<>@,;:\\"/[]?='.includes(v.charAt(i + 1))) {
      value += v.charAt(i + 1)
      i++
    } else if (c === '\r' || c === '\n') {
      return ['', v]
    } else {
      value += c
    }
  }
  return ['', v]
}
