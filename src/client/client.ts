/**
 * A small typed client of the v2 keys API (arbor's, and etcd's: the same wire). One undici
 * pool per endpoint (connections are kept and reused, TLS ones too); every call is one
 * request; a non-2xx answer becomes a typed error. With credentials, every request carries
 * them as HTTP Basic, as etcd's v2 auth expects (spec v2-auth-and-security.md).
 */
import { Pool, type Dispatcher } from 'undici'
import { assert } from '../lib/index.js'
import { decodeKeysResult } from './decode.js'
import { RequestFailedError, errorFromResponse } from './errors.js'
import type { KeysResult, NodeView } from './types.js'

/**
 * A user of etcd's v2 auth. Sent as `Authorization: Basic base64(username:password)` on every
 * request; etcd (and arbor) check it on each one, there is no session. Over http:// the
 * password crosses the network readable: use an https:// endpoint where that matters.
 * Invariant: `username` holds no `:` (Basic cannot carry one; the password may).
 */
export interface Credentials {
  readonly username: string
  readonly password: string
}

/**
 * TLS towards an https:// endpoint, as PEM text or bytes (the client imports undici only, so
 * it reads no file: a caller reads them). Ignored for an http:// endpoint.
 */
export interface ClientTls {
  /** CA certificates (PEM) that sign the member's certificate, trusted instead of Node's list;
   *  undefined: Node's built-in list (a public CA). */
  readonly ca?: string | Buffer
  /** Client certificate (PEM), for a member started with `--client-cert-auth`; needs `key`. */
  readonly cert?: string | Buffer
  /** The private key (PEM) of `cert`. */
  readonly key?: string | Buffer
  /** Accept any server certificate, unchecked (etcdctl's `--insecure-skip-tls-verify`). The
   *  connection is still encrypted, but anyone in between can read it: tests and emergencies. */
  readonly insecureSkipVerify?: boolean
}

/** How to reach one member. */
export interface ClientOptions {
  /** The member's client URL, `http://host:port` or `https://host:port` (a path, if any, is ignored). */
  readonly endpoint: string
  /** Connections kept to the endpoint: the most requests in flight at once. */
  readonly connections: number
  /** Time allowed for an answer's headers, then between two pieces of its body (ms). */
  readonly requestTimeoutMs: number
  /** Sent with every request; undefined: none (etcd's guest, or auth off). */
  readonly credentials?: Credentials
  /** For an https:// endpoint; undefined: Node's defaults (its CA list, no client certificate). */
  readonly tls?: ClientTls
  /** Sends the requests through this dispatcher instead of a pool of its own (tests: MockAgent);
   *  `tls` is then the dispatcher's business, `credentials` are still sent. */
  readonly dispatcher?: Dispatcher
}

/**
 * The `Authorization` header of `credentials`: HTTP Basic (RFC 7617), UTF-8.
 * @throws RangeError when the user name holds a `:` (the member would split it there).
 */
export function basicAuthorization(credentials: Credentials): string {
  if (credentials.username.includes(':')) throw new RangeError('a user name cannot hold ":" (HTTP Basic splits user and password there)')
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`
}

/** What a snapshot download answered: the member's headers and the file's bytes as a stream. */
export interface SnapshotDownload {
  /** Length of the file in bytes (`content-length`); undefined when the member did not say. */
  readonly bytes: number | undefined
  /** `x-arbor-snapshot-index` and `x-arbor-snapshot-sha256` ('' when absent). */
  readonly appliedIndex: string
  readonly sha256: string
  /** The file's bytes; read it to the end or destroy it, or the connection stays busy. */
  readonly body: Dispatcher.ResponseData['body']
}

/** Where arbor serves a copy of its database (arbor only; root only while auth is on). */
export const snapshotPath = '/arbor/v1/snapshot'

/** Settings a command may start from. */
export const clientDefaults = {
  connections: 16,
  requestTimeoutMs: 30_000,
} as const

/** Options of a read. */
export interface GetOptions {
  /** The whole subtree, nested (one answer: its size is the subtree's). */
  readonly recursive?: boolean
  /** Children sorted by key (UTF-8 bytes). */
  readonly sorted?: boolean
  /** Linearizable read (ReadIndex on arbor, a Raft round on etcd). */
  readonly quorum?: boolean
}

/** A directory and its direct children, as one listing answered them. */
export interface Listing {
  readonly node: NodeView
  /** Direct children, sorted by key; hidden ones are never listed (spec §4.3). Empty for a file. */
  readonly children: readonly NodeView[]
  readonly etcdIndex: number | undefined
}

/** Client of one member's `/v2/keys`. Call `close()` when done. */
export class ArborClient {
  readonly #origin: string
  readonly #dispatcher: Dispatcher
  readonly #owned: boolean
  readonly #timeoutMs: number
  /** Headers every request carries: the credentials, when there are some. */
  readonly #headers: Readonly<Record<string, string>>

  constructor(options: ClientOptions) {
    assert(options.connections >= 1)
    assert(options.requestTimeoutMs > 0)
    const url = new URL(options.endpoint)
    this.#origin = url.origin
    this.#timeoutMs = options.requestTimeoutMs
    this.#headers = options.credentials === undefined ? {} : { authorization: basicAuthorization(options.credentials) }
    this.#owned = options.dispatcher === undefined
    this.#dispatcher =
      options.dispatcher ??
      new Pool(this.#origin, {
        connections: options.connections,
        headersTimeout: options.requestTimeoutMs,
        bodyTimeout: options.requestTimeoutMs,
        ...(url.protocol === 'https:' && options.tls !== undefined ? { connect: connectOptionsOf(options.tls) } : {}),
      })
  }

  /** The endpoint's origin, `http://host:port`. */
  get endpoint(): string {
    return this.#origin
  }

  /**
   * Reads `key`.
   * @throws V2ClientError 100 when it does not exist; see `request` for the rest.
   */
  get(key: string, options: GetOptions = {}): Promise<KeysResult> {
    const query = new URLSearchParams()
    if (options.recursive === true) query.set('recursive', 'true')
    if (options.sorted === true) query.set('sorted', 'true')
    if (options.quorum === true) query.set('quorum', 'true')
    return this.request('GET', key, query, undefined)
  }

  /**
   * The first change at or after `waitIndex` to `key` (and below it, with `recursive`): from the
   * member's event history (its last 1000 events) when there is one, else the next to come.
   * History answers include hidden keys, which listings never show (spec v2-api.md §7.3, Q18).
   * @returns undefined when nothing came within `timeoutMs`.
   * @throws V2ClientError 401 when `waitIndex` is older than the history.
   */
  async watchOnce(key: string, waitIndex: number, options: { recursive: boolean; timeoutMs: number }): Promise<KeysResult | undefined> {
    const query = new URLSearchParams({ wait: 'true', waitIndex: String(waitIndex) })
    if (options.recursive) query.set('recursive', 'true')
    try {
      return await this.request('GET', key, query, undefined, options.timeoutMs)
    } catch (error) {
      const code = error instanceof RequestFailedError ? (error.cause as { code?: unknown } | undefined)?.code : undefined
      if (code === 'UND_ERR_HEADERS_TIMEOUT') return undefined
      throw error
    }
  }

  /** Lists the direct children of directory `key`, sorted (one answer per directory). */
  async list(key: string): Promise<Listing> {
    const result = await this.get(key, { sorted: true })
    return { node: result.node, children: result.node.nodes ?? [], etcdIndex: result.etcdIndex }
  }

  /**
   * Sets file `key` to `value` (creating parent directories), with a TTL in seconds or none.
   * @param prevExist true: only an existing key (100 otherwise); false: only a new one (105).
   * @throws V2ClientError 102 when `key` is a directory.
   */
  set(key: string, value: string, options: { ttlSeconds?: number; prevExist?: boolean } = {}): Promise<KeysResult> {
    const form = new URLSearchParams({ value })
    if (options.ttlSeconds !== undefined) form.set('ttl', String(options.ttlSeconds))
    const query = new URLSearchParams()
    if (options.prevExist !== undefined) query.set('prevExist', String(options.prevExist))
    return this.request('PUT', key, query, form)
  }

  /**
   * Creates directory `key` (and its parents), with a TTL in seconds or none.
   * @throws V2ClientError 105 when `key` exists (a directory or a file).
   */
  mkdir(key: string, options: { ttlSeconds?: number } = {}): Promise<KeysResult> {
    const form = new URLSearchParams({ dir: 'true' })
    if (options.ttlSeconds !== undefined) form.set('ttl', String(options.ttlSeconds))
    return this.request('PUT', key, new URLSearchParams({ prevExist: 'false' }), form)
  }

  /**
   * Gives the existing directory `key` a TTL (seconds), or takes its TTL away (`undefined`);
   * its children stay. Check first that `key` is a directory: on a key, etcd (and arbor)
   * answer this update by emptying the key's value (etcd v2 `PUT dir=true prevExist=true`).
   * @throws V2ClientError 100 when it does not exist.
   */
  updateDirTtl(key: string, ttlSeconds: number | undefined): Promise<KeysResult> {
    const form = new URLSearchParams({ dir: 'true', ttl: ttlSeconds === undefined ? '' : String(ttlSeconds) })
    return this.request('PUT', key, new URLSearchParams({ prevExist: 'true' }), form)
  }

  /**
   * Deletes `key`: a file, an empty directory (`dir`), or a subtree (`recursive`).
   * @throws V2ClientError 100 when missing, 102 for a directory without `dir`/`recursive`,
   *         108 for a non-empty directory without `recursive`.
   */
  delete(key: string, options: { dir?: boolean; recursive?: boolean } = {}): Promise<KeysResult> {
    const query = new URLSearchParams()
    if (options.dir === true) query.set('dir', 'true')
    if (options.recursive === true) query.set('recursive', 'true')
    return this.request('DELETE', key, query, undefined)
  }

  /**
   * Downloads a copy of the member's database (`GET /arbor/v1/snapshot`, arbor only; only
   * root may while auth is on). The caller reads `body` to the end and checks the length and
   * checksum against the file's own (see `arbor snapshot save`).
   * @param timeoutMs time allowed for the headers, then between two chunks of the body.
   * @throws V2ClientError or HttpStatusError for an answer other than 200 (401: credentials
   *         missing or refused), RequestFailedError when no answer came.
   */
  async snapshot(timeoutMs: number = this.#timeoutMs): Promise<SnapshotDownload> {
    const response = await this.send('GET', snapshotPath, undefined, timeoutMs)
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => '')
      throw errorFromResponse(response.statusCode, text)
    }
    const length = headerOf(response.headers['content-length'])
    return {
      bytes: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
      appliedIndex: headerOf(response.headers['x-arbor-snapshot-index']) ?? '',
      sha256: headerOf(response.headers['x-arbor-snapshot-sha256']) ?? '',
      body: response.body,
    }
  }

  /** Closes the connections (when the client made its own pool). */
  async close(): Promise<void> {
    if (this.#owned) await this.#dispatcher.close()
  }

  /**
   * One request to `/v2/keys<key>`.
   * @throws V2ClientError for a v2 error answer, HttpStatusError for another non-2xx answer,
   *         ResponseFormatError for a 2xx answer that is not a keys answer, RequestFailedError
   *         when no answer came.
   */
  private async request(
    method: 'GET' | 'PUT' | 'DELETE',
    key: string,
    query: URLSearchParams,
    form: URLSearchParams | undefined,
    timeoutMs: number = this.#timeoutMs,
  ): Promise<KeysResult> {
    const search = query.size === 0 ? '' : `?${query.toString()}`
    const response = await this.send(method, keysPath(key) + search, form, timeoutMs)
    let text: string
    try {
      text = await response.body.text()
    } catch (error) {
      throw new RequestFailedError(this.#origin, { cause: error })
    }
    if (response.statusCode < 200 || response.statusCode > 299) throw errorFromResponse(response.statusCode, text)
    return decodeKeysResult(text, etcdIndexOf(response.headers['x-etcd-index']))
  }

  /**
   * Sends one request with the client's headers and waits for the answer's headers.
   * @throws RequestFailedError when no answer came (refused, reset, TLS handshake failed, timed out).
   */
  private async send(method: 'GET' | 'PUT' | 'DELETE', path: string, form: URLSearchParams | undefined, timeoutMs: number): Promise<Dispatcher.ResponseData> {
    try {
      return await this.#dispatcher.request({
        origin: this.#origin,
        path,
        method,
        headers: form === undefined ? this.#headers : { ...this.#headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: form === undefined ? null : form.toString(),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
    } catch (error) {
      throw new RequestFailedError(this.#origin, { cause: error })
    }
  }
}

/** undici's connect options (`tls.connect`) for `tls`. */
function connectOptionsOf(tls: ClientTls): { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized: boolean } {
  assert((tls.cert === undefined) === (tls.key === undefined))
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    rejectUnauthorized: tls.insecureSkipVerify !== true,
  }
}

/** A header's first value. */
function headerOf(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header
}

/**
 * The request path of `key`: `/v2/keys` and each segment percent-encoded, so that any
 * character a key may hold (`?`, `#`, `%`, spaces, UTF-8) reaches the member as written.
 */
export function keysPath(key: string): string {
  assert(key.startsWith('/'))
  return '/v2/keys' + key.split('/').map(encodeURIComponent).join('/')
}

/** The `X-Etcd-Index` header as a number, or undefined when absent or not a number. */
function etcdIndexOf(header: string | string[] | undefined): number | undefined {
  const value = headerOf(header)
  if (value === undefined || !/^\d+$/.test(value)) return undefined
  return Number(value)
}
