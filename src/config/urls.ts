/**
 * Member URLs as etcd accepts them: `scheme://host:port`, nothing else (etcd
 * pkg/types/urls.go `NewURLs`; embed/config.go `checkBindURLs`, `checkHostURLs`), and the
 * `--initial-cluster` string `name=url,name=url` (etcd pkg/types/urlsmap.go).
 *
 * Differences from etcd, all stricter and all about things arbor cannot do:
 * - a URL arbor listens on must be `http` or `https` (no unix sockets);
 * - user information, a query or a fragment is refused (etcd ignores them);
 * - a host name is compared as written: etcd resolves DNS names before comparing
 *   `--initial-cluster` with `--initial-advertise-peer-urls`, arbor does not.
 */
import { assert } from '../lib/index.js'

/**
 * What a URL is for; each use has its own rules.
 * - `listen`: a socket arbor binds (`--listen-client-urls`, `--listen-peer-urls`): `http`
 *   or `https` (which needs the TLS flags: see schema.ts `checkTls`), host an IP address or `localhost` (etcd: "expected IP in URL for binding"), port 0-65535.
 * - `advertise`: an address given to others (`--advertise-client-urls`,
 *   `--initial-advertise-peer-urls`, `--initial-cluster`): `http` or `https`, a non-empty
 *   host, port 1-65535.
 * - `origin`: a browser origin in `--cors`: same rules as `advertise`.
 */
export type UrlUse = 'listen' | 'advertise' | 'origin'

/** The address to bind for a `listen` URL. `host` has no brackets (`::1`, not `[::1]`). */
export interface BindAddress {
  readonly host: string
  readonly port: number
}

/** One member of `--initial-cluster`: its name and every peer URL listed for it, in order. */
export interface InitialClusterMember {
  readonly name: string
  readonly peerUrls: readonly string[]
}

/** `scheme://authority` then the rest (path, query, fragment), which must be empty. */
const urlShape = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s
/** `host:port` with the host bracketed when it is IPv6 (Go's net.SplitHostPort). */
const hostPortShape = /^(\[[^\]]*\]|[^:[\]]*):([0-9]+)$/
const ipv4Shape = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/
const portMax = 65_535

/**
 * Why `rawUrl` cannot be used as `use`, in one sentence that ends with the URL (cut at
 * 80 characters), or `undefined` when it can. Pure; never throws.
 */
export function urlProblem(rawUrl: string, use: UrlUse): string | undefined {
  if (rawUrl === '') return 'empty URL in the list'
  const url = rawUrl.length > 80 ? `${rawUrl.slice(0, 77)}...` : rawUrl // as named in messages
  const match = urlShape.exec(rawUrl)
  if (match === null) return `not a URL of the form scheme://host:port: ${url}`
  const scheme = (match[1] ?? '').toLowerCase()
  const authority = match[2] ?? ''
  const rest = match[3] ?? ''
  if (scheme !== 'http' && scheme !== 'https') return `URL scheme must be http or https: ${url}`
  if (rest !== '') return `URL must not contain a path, query or fragment: ${url}`
  if (authority.includes('@')) return `URL must not contain user information: ${url}`
  const hostPort = hostPortShape.exec(authority)
  if (hostPort === null) return `URL address does not have the form "host:port": ${url}`
  return hostProblem(hostPort[1] ?? '', Number(hostPort[2]), url, use)
}

/** The host and port rules of `urlProblem`, once the URL has the form `scheme://host:port`. */
function hostProblem(host: string, port: number, url: string, use: UrlUse): string | undefined {
  const portMin = use === 'listen' ? 0 : 1
  if (port < portMin || port > portMax) return `URL port must be between ${portMin} and ${portMax}: ${url}`
  if (host.startsWith('[') && !URL.canParse(`http://${host}`)) return `URL host is not an IPv6 address: ${url}`
  if (use !== 'listen') return host === '' ? `URL host must not be empty: ${url}` : undefined
  const bindable = host === 'localhost' || ipv4Shape.test(host) || host.startsWith('[')
  return bindable ? undefined : `URL host must be an IP address or localhost to listen on: ${url}`
}

/**
 * Host and port to bind for a `listen` URL that passed `urlProblem`. The port is always
 * explicit in arbor's URLs, so `http://127.0.0.1:80` gives port 80 (where `new URL`
 * would give an empty port).
 */
export function bindAddressOf(url: string): BindAddress {
  assert(urlProblem(url, 'listen') === undefined, `not a listen URL: ${url}`)
  const authority = urlShape.exec(url)?.[2] ?? ''
  const hostPort = hostPortShape.exec(authority)
  assert(hostPort !== null, `no host:port in ${url}`)
  const host = hostPort[1] ?? ''
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(hostPort[2]) }
}

/**
 * Splits a comma-separated URL list as etcd does (`strings.Split(s, ",")`, each item
 * trimmed). Empty items are kept, so that `urlProblem` reports them.
 */
export function splitUrlList(text: string): string[] {
  return text.split(',').map((item) => item.trim())
}

/** The same URLs in the same order without repeats (etcd keeps URL lists as sets). */
export function uniqueUrls(urls: readonly string[]): string[] {
  return [...new Set(urls)]
}

/**
 * Parses `--initial-cluster`: `name=url` items separated by commas; a name may repeat to
 * give a member several peer URLs (etcd pkg/types/urlsmap.go). Empty items are skipped,
 * as etcd does. Member order is the order of first appearance. The URLs are not checked
 * here (see `urlProblem`).
 *
 * @returns the members, or a one-sentence reason when an item has no `=` or no name.
 */
export function parseInitialCluster(text: string): InitialClusterMember[] | string {
  const peerUrlsByName = new Map<string, string[]>()
  for (const rawItem of text.split(',')) {
    const item = rawItem.trim()
    if (item === '') continue
    const equals = item.indexOf('=')
    if (equals < 0) return `expected name=URL items separated by commas, got "${item}"`
    const name = item.slice(0, equals).trim()
    if (name === '') return `member name must not be empty in "${item}"`
    const urls = peerUrlsByName.get(name) ?? []
    urls.push(item.slice(equals + 1).trim())
    peerUrlsByName.set(name, urls)
  }
  return [...peerUrlsByName].map(([name, peerUrls]) => ({ name, peerUrls }))
}

/** The `--initial-cluster` string for `members`: `a=http://x:2380,b=http://y:2380`. */
export function renderInitialCluster(members: readonly InitialClusterMember[]): string {
  return members.flatMap((m) => m.peerUrls.map((url) => `${m.name}=${url}`)).join(',')
}
