/**
 * The request target as Go's net/http sees it before etcd's handlers run (spec v2-api.md
 * §1.2, §7.1): the path is percent-decoded (a bad escape is a plain-text 400), and a decoded
 * path holding `//`, `.` or `..` segments is answered with a 301 to the cleaned path
 * (nothing executes). A trailing slash is kept and does not redirect.
 */
import { FormError, percentDecode } from './form.js'

/** A request target split into its decoded path and its raw query (without `?`). */
export interface RequestTarget {
  readonly path: string
  readonly rawQuery: string
  /** Where to redirect, when the decoded path is not clean (301). */
  readonly redirectTo: string | undefined
}

/**
 * Splits and decodes `rawUrl` (the request line's target, one char per byte).
 * @returns undefined when the path holds an invalid percent escape (Go answers 400).
 */
export function parseRequestTarget(rawUrl: string): RequestTarget | undefined {
  let target = rawUrl
  if (!target.startsWith('/')) target = absoluteFormPath(target)
  const q = target.indexOf('?')
  const rawPath = q === -1 ? target : target.slice(0, q)
  // Go's ParseRequestURI keeps a `#` as part of the path or query (a request has no fragment).
  const query = q === -1 ? '' : target.slice(q + 1)
  const path = rawPath.includes('%') || /[^\x00-\x7f]/.test(rawPath) ? percentDecode(rawPath, false) : rawPath
  if (path instanceof FormError) return undefined
  const cleaned = cleanPath(path)
  const redirectTo = cleaned === path ? undefined : escapePath(cleaned) + (query === '' ? '' : '?' + query)
  return { path, rawQuery: query, redirectTo }
}

/** `http://host/x?y` → `/x?y` (Go serves an absolute-form target as its local path). */
function absoluteFormPath(target: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(target)
  if (m === null) return '/' + target
  const rest = target.slice(m[0].length)
  return rest.startsWith('/') ? rest : '/' + rest
}

/**
 * Go's net/http cleanPath: path.Clean (lexical: `//` → `/`, drop `.`, resolve `..` without
 * climbing above the root), then a trailing slash of the input is kept.
 */
export function cleanPath(p: string): string {
  if (p === '') return '/'
  const input = p.startsWith('/') ? p : '/' + p
  const out: string[] = []
  for (const segment of input.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  let cleaned = '/' + out.join('/')
  if (input.endsWith('/') && cleaned !== '/') cleaned += '/'
  return cleaned
}

const keepInPath = /[A-Za-z0-9\-_.~$&+,/:;=@]/

/** Escapes a decoded path as Go's url.URL.EscapedPath does for a Location header. */
export function escapePath(path: string): string {
  let out = ''
  for (const byte of Buffer.from(path, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += byte < 0x80 && keepInPath.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** Escapes text for an HTML attribute as Go's html.EscapeString does (redirect bodies). */
export function htmlEscape(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll("'", '&#39;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&#34;')
}
