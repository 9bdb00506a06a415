/**
 * Form and query parsing with the rules of Go's net/url.ParseQuery and Request.ParseForm,
 * which decide how etcd reads every /v2/keys parameter (spec v2-api.md §2.2):
 * `&` separates pairs, a `;` anywhere is an error, `+` is a space, a bad `%` escape is an
 * error naming it, a name without `=` has the empty value, empty pairs are skipped, and
 * values from a form body come before values from the query. Percent-decoded bytes are read
 * as UTF-8 (invalid bytes become U+FFFD).
 *
 * This is etcd's HTTP semantics, not generic form handling: the error texts are part of
 * etcd's answers (error 210's `cause`), which no form library reproduces.
 */

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
 *         like Go, parsing goes on after an error and the first error is reported.
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
      firstError ??= new FormError('invalid semicolon separator in query')
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
      if (h < 0 || l < 0) return new FormError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`)
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
  return bytes.toString('utf8', 0, n)
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}
