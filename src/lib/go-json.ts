/**
 * JSON text as Go's encoding/json writes it, so arbor's bodies match etcd's byte for byte
 * (spec v2-api.md §1.4, Q27): `<` `>` `&` U+2028 U+2029 are escaped as \u003c \u003e \u0026
 * \u2028 \u2029; control bytes other than \n \r \t are \u00XX (so \b and \f become \u0008
 * and \u000c); a lone surrogate becomes \ufffd; DEL and `/` stay raw. U+FFFD itself is written
 * \ufffd: arbor decodes each invalid UTF-8 byte of a request to U+FFFD, and etcd renders
 * such a byte as \ufffd.
 */

const needsEscape = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff\ufffd]/

/** A JSON string literal (with quotes) for `s`, escaped as Go does. */
export function goJsonString(s: string): string {
  if (!needsEscape.test(s)) return '"' + s + '"'
  let out = '"'
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    let esc: string | undefined
    if (c < 0x20) {
      esc = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : '\\u00' + hex2(c)
    } else if (c === 0x22) esc = '\\"'
    else if (c === 0x5c) esc = '\\\\'
    else if (c === 0x3c) esc = '\\u003c'
    else if (c === 0x3e) esc = '\\u003e'
    else if (c === 0x26) esc = '\\u0026'
    else if (c === 0x2028) esc = '\\u2028'
    else if (c === 0x2029) esc = '\\u2029'
    else if (c === 0xfffd) esc = '\\ufffd'
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        i += 1
        continue
      }
      esc = '\\ufffd'
    } else if (c >= 0xdc00 && c <= 0xdfff) esc = '\\ufffd'
    if (esc !== undefined) {
      out += s.slice(start, i) + esc
      start = i + 1
    }
  }
  return out + s.slice(start) + '"'
}

function hex2(c: number): string {
  return (c < 16 ? '0' : '') + c.toString(16)
}
