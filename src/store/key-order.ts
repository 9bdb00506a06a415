/**
 * The order of keys in listings and in the backend: ascending by the UTF-8 bytes of the key,
 * as etcd's `sorted=true` (spec v2-api.md §4.3) and SQLite's BINARY collation of UTF-8 text.
 */

/**
 * Compares `a` and `b` by their UTF-8 bytes, which is code point order. JavaScript's `<`
 * compares UTF-16 code units instead, which puts U+E000..U+FFFF after the astral planes; the
 * fix-up below moves surrogates above U+FFFF (the ICU "code point order" trick). A lone
 * surrogate has no UTF-8 form; it sorts with the astral planes.
 *
 * @returns negative when a < b, 0 when equal, positive when a > b.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

/** A UTF-16 code unit's rank in code point order (only its order against others matters). */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000
}
