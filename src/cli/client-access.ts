/**
 * How the operational commands (`migrate`, `export`, `import`, `snapshot save`) reach a
 * secured member, with etcdctl's flags: credentials (`--user user[:password]`; etcdctl v2
 * spells it `--username`) and TLS (`--cacert`, `--cert`, `--key`; v2's `--ca-file`,
 * `--cert-file`, `--key-file`; `--insecure-skip-tls-verify`), turned into the client's
 * options; and the one line that explains a refusal (401) or a failed TLS handshake.
 * A password is never printed: messages name the user only.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { connect as tlsConnect, createSecureContext } from 'node:tls'
import { Option, type Command } from 'commander'
import { usageError } from './command-usage.js'
import { HttpStatusError, RequestFailedError, V2ClientError, type ClientTls, type Credentials } from '../client/index.js'

/** The environment variable a password is read from when `--user` names no password. */
export const passwordVariable = 'ARBOR_PASSWORD'

/** Time a TLS probe (run only to explain a closed connection) may take (ms). */
const probeTimeoutMs = 5_000

/** Bad access flags (a missing password, an unreadable or unusable file): one line, exit 2. */
export class AccessError extends Error {
  override readonly name = 'AccessError'
}

/** What one side's flags say, before any file or password is read. */
export interface AccessFlags {
  /** `user[:password]`. */
  readonly user?: string
  readonly cacert?: string
  readonly cert?: string
  readonly key?: string
  readonly insecureSkipTlsVerify: boolean
}

/** How a client reaches one member: `credentials` and `tls` for `ArborClient`, `flags` for messages. */
export interface Access {
  readonly credentials?: Credentials
  readonly tls?: ClientTls
  readonly flags: AccessFlags
}

/** The part of `access` that `ArborClient` takes. */
export function clientAccessOf(access: Access): { credentials?: Credentials; tls?: ClientTls } {
  return { ...(access.credentials === undefined ? {} : { credentials: access.credentials }), ...(access.tls === undefined ? {} : { tls: access.tls }) }
}

/** The etcdctl names of the shared flags and their etcdctl v2 spellings (accepted, not in --help). */
const aliases = { user: 'username', cacert: 'caFile', cert: 'certFile', key: 'keyFile' } as const

/**
 * Adds `--user`, `--cacert`, `--cert`, `--key` and `--insecure-skip-tls-verify` (and the v2
 * spellings `--username`, `--ca-file`, `--cert-file`, `--key-file`, hidden from --help) to `program`.
 * @param what the member they are for, in the help text ("the member", "both sides").
 */
export function addAccessOptions(program: Command, what: string): Command {
  return program
    .option('--user <user[:password]>', `user name and password for ${what} (etcd v2 auth; also --username); without ":password", from $${passwordVariable}, or asked on a terminal`)
    .addOption(new Option('--username <user[:password]>').hideHelp())
    .option('--cacert <file>', `CA certificates (PEM) to trust for ${what} (https://; also --ca-file)`)
    .addOption(new Option('--ca-file <file>').hideHelp())
    .option('--cert <file>', `client certificate (PEM) to present to ${what} (needed with --client-cert-auth; also --cert-file)`)
    .addOption(new Option('--cert-file <file>').hideHelp())
    .option('--key <file>', 'private key (PEM) of --cert (also --key-file)')
    .addOption(new Option('--key-file <file>').hideHelp())
    .option('--insecure-skip-tls-verify', 'accept any server certificate, unchecked (encrypted but not authenticated)')
}

/** Adds `--<side>-user`, `--<side>-cacert`, `--<side>-cert` and `--<side>-key` (`migrate`). */
export function addSideAccessOptions(program: Command, side: 'from' | 'to', what: string): Command {
  return program
    .option(`--${side}-user <user[:password]>`, `user for ${what} (default: --user; password from $ARBOR_${side.toUpperCase()}_PASSWORD, else $${passwordVariable})`)
    .option(`--${side}-cacert <file>`, `CA certificates for ${what} (default: --cacert)`)
    .option(`--${side}-cert <file>`, `client certificate for ${what} (default: --cert)`)
    .option(`--${side}-key <file>`, `private key of --${side}-cert (default: --key)`)
}

/**
 * The access flags in commander's parsed `options`: the shared ones, or with `side` the
 * side's own where given and the shared ones elsewhere.
 * @throws AccessError when a flag is given under both its names with different values.
 */
export function accessFlagsOf(parsed: object, side?: 'from' | 'to'): AccessFlags {
  const options = parsed as Readonly<Record<string, unknown>>
  const pick = (name: keyof typeof aliases): string | undefined => {
    const own = side === undefined ? undefined : stringOf(options[`${side}${name[0]!.toUpperCase()}${name.slice(1)}`])
    if (own !== undefined) return own
    const main = stringOf(options[name])
    const alias = stringOf(options[aliases[name]])
    if (main !== undefined && alias !== undefined && main !== alias) {
      throw new AccessError(`give --${name} or --${kebab(aliases[name])}, not both`)
    }
    return main ?? alias
  }
  return { user: pick('user'), cacert: pick('cacert'), cert: pick('cert'), key: pick('key'), insecureSkipTlsVerify: options.insecureSkipTlsVerify === true }
}

/**
 * Reads what `flags` name: the certificate files (checked as Node will use them) and the
 * password (after the first `:` of the user, else from `variables` in order, else asked on
 * the terminal when stdin is one).
 * @param variables environment variables that may hold the password, first found wins.
 * @param endpoint  the member, for the prompt.
 * @throws AccessError naming the flag and the file, or the user without a password.
 */
export async function readAccess(flags: AccessFlags, variables: readonly string[], endpoint: string): Promise<Access> {
  const tls = readTls(flags)
  if (flags.user === undefined) return { flags, ...(tls === undefined ? {} : { tls }) }
  const colon = flags.user.indexOf(':')
  const username = colon < 0 ? flags.user : flags.user.slice(0, colon)
  if (username === '') throw new AccessError('--user needs a user name: --user USER[:PASSWORD]')
  const password = colon < 0 ? await passwordOf(username, variables, endpoint) : flags.user.slice(colon + 1)
  return { flags: { ...flags, user: username }, credentials: { username, password }, ...(tls === undefined ? {} : { tls }) }
}

/**
 * `readAccess` of the flags in `parsed` (`accessFlagsOf`), or the usage exit (one line
 * `<programName>: <why>` on stderr, code 2) when they cannot be used.
 */
export async function readAccessOrUsage(
  programName: string,
  parsed: object,
  side: 'from' | 'to' | undefined,
  variables: readonly string[],
  endpoint: string,
): Promise<{ kind: 'access'; access: Access } | { kind: 'exit'; code: number }> {
  try {
    return { kind: 'access', access: await readAccess(accessFlagsOf(parsed, side), variables, endpoint) }
  } catch (error) {
    if (!(error instanceof AccessError)) throw error
    return usageError(programName, error.message)
  }
}

/** The TLS settings `flags` name, read from their files; undefined when none is given. */
function readTls(flags: AccessFlags): ClientTls | undefined {
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new AccessError('--cert and --key go together: give both or neither')
  if (flags.cacert === undefined && flags.cert === undefined && !flags.insecureSkipTlsVerify) return undefined
  const read = (path: string | undefined, flag: string): Buffer | undefined => {
    if (path === undefined) return undefined
    try {
      return readFileSync(path)
    } catch (error) {
      throw new AccessError(`cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  const ca = read(flags.cacert, '--cacert')
  const cert = read(flags.cert, '--cert')
  const key = read(flags.key, '--key')
  if (ca !== undefined) {
    // Node's TLS skips text that is no certificate in a CA bundle; a file of none is a mistake.
    try {
      new X509Certificate(ca)
    } catch {
      throw new AccessError(`cannot use --cacert ${flags.cacert}: it holds no PEM certificate`)
    }
  }
  try {
    createSecureContext({ ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) })
  } catch (error) {
    const named = [flags.cacert, flags.cert, flags.key].filter((f) => f !== undefined).join(', ')
    throw new AccessError(`cannot use the TLS files ${named}: ${(error as Error).message.split('\n')[0]}`)
  }
  return { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), insecureSkipVerify: flags.insecureSkipTlsVerify }
}

/** The password of `username`: from the first of `variables` set, else the terminal. */
async function passwordOf(username: string, variables: readonly string[], endpoint: string): Promise<string> {
  for (const name of variables) {
    const value = process.env[name]
    if (value !== undefined) return value
  }
  if (process.stdin.isTTY !== true) {
    throw new AccessError(`no password for user "${username}": give --user ${username}:PASSWORD or set ${variables.join(' or ')} (stdin is not a terminal to ask on)`)
  }
  return askPassword(`Password of ${username} at ${endpoint}: `)
}

/** Reads a line from the terminal without echoing it (raw mode); Ctrl-C or Ctrl-D gives up. */
function askPassword(prompt: string): Promise<string> {
  const input = process.stdin
  process.stderr.write(prompt)
  input.setRawMode(true)
  input.setEncoding('utf8')
  input.resume()
  return new Promise((resolve, reject) => {
    let typed = ''
    const finish = (): void => {
      input.off('data', onData)
      input.setRawMode(false)
      input.pause()
      process.stderr.write('\n')
    }
    const onData = (chunk: string): void => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') {
          finish()
          return resolve(typed)
        }
        if (c === '\u0003' || c === '\u0004') {
          finish()
          return reject(new AccessError('no password given'))
        }
        typed = c === '\u007f' || c === '\b' ? typed.slice(0, -1) : typed + c
      }
    }
    input.on('data', onData)
  })
}

/**
 * One line explaining why `error` happened when it is an access failure: credentials refused
 * or missing (401, with the member's message), or a TLS handshake that failed (certificate
 * not trusted, client certificate missing or refused, TLS spoken to a plain listener).
 * @returns undefined for any other error (the caller prints its own message).
 */
export async function describeAccessFailure(error: unknown, access: Access, endpoint: string): Promise<string | undefined> {
  if ((error instanceof V2ClientError || error instanceof HttpStatusError) && error.httpStatus === 401) {
    const said = serverMessageOf(error)
    if (access.credentials === undefined) return `${endpoint} requires credentials (${said}): give --user USER[:PASSWORD]`
    return `${endpoint} refused the credentials of user "${access.credentials.username}" (${said}): check the user, its password and its roles`
  }
  if (!(error instanceof RequestFailedError)) return undefined
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined
  const code = typeof cause?.code === 'string' ? cause.code : ''
  const https = endpoint.startsWith('https:')
  if (untrustedCodes.has(code)) {
    const given = access.flags.cacert === undefined ? 'give the CA that signed it with --cacert' : `it is not signed by --cacert ${access.flags.cacert}`
    return `TLS handshake with ${endpoint} failed: the member's certificate is not trusted (${String(cause?.message)}): ${given}`
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS handshake with ${endpoint} failed: ${String(cause?.message)}`
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return `TLS handshake with ${endpoint} failed: the member does not speak TLS there (use an http:// URL)`
  if (code !== 'UND_ERR_SOCKET') return undefined
  if (!https) return `${endpoint} closed the connection without an answer (if the member serves TLS, use an https:// URL)`
  // The connection closed with no answer: ask again with a bare TLS socket, which hears the alert.
  const probe = await probeTls(endpoint, access.tls ?? {})
  // Only a closed TLS session or an alert tells of the certificate (not a refused connection).
  if (probe !== 'closed' && !probe.startsWith('ERR_SSL_')) return undefined
  if (access.flags.cert !== undefined) {
    return `TLS connection to ${endpoint} refused: the member did not accept the client certificate --cert ${access.flags.cert} (is it signed by the member's --trusted-ca-file?)`
  }
  if (probe === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || probe === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') {
    return `TLS connection to ${endpoint} refused: the member requires a client certificate (give --cert and --key)`
  }
  return undefined
}

/** Certificate verification failures of Node's TLS (openssl's X509 verify results). */
const untrustedCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
])

/**
 * What the member does when a TLS connection with `tls` sends it a request: 'answered', the
 * code of the error that ended the connection (an alert: TLS 1.3 sends "certificate required"
 * only after the handshake, so undici sees just a closed socket), or 'closed' (no answer, no
 * alert, or nothing within `probeTimeoutMs`).
 */
function probeTls(endpoint: string, tls: ClientTls): Promise<string> {
  const url = new URL(endpoint)
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: url.hostname,
      port: Number(url.port === '' ? 443 : url.port),
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
      rejectUnauthorized: tls.insecureSkipVerify !== true,
    })
    const done = (outcome: string): void => {
      socket.destroy()
      resolve(outcome)
    }
    socket.once('secureConnect', () => socket.write(`GET /version HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`))
    socket.once('data', () => done('answered'))
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'closed'))
    socket.once('close', () => done('closed'))
    socket.setTimeout(probeTimeoutMs, () => done('closed'))
  })
}

/** The member's own words in a refusal: etcd's v2 message and cause, or the body's `message`. */
function serverMessageOf(error: V2ClientError | HttpStatusError): string {
  if (error instanceof V2ClientError) return error.message
  try {
    const body: unknown = JSON.parse(error.bodyExcerpt)
    const message = (body as { message?: unknown } | null)?.message
    if (typeof message === 'string') return `${error.httpStatus}: ${message}`
  } catch {
    // not JSON: the excerpt as it is
  }
  return error.message
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}
