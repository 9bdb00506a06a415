/**
 * TLS of a member, built from its config (ARCHITECTURE.md: "TLS is configuration"): which
 * certificate files each side uses (given, or generated for `--auto-tls`), the Node server
 * options of the https client and peer listeners, the options of this member's connections
 * to its peers, and the reload of the files when they change on disk. `http` and
 * `transport` receive these options ready-made and never read a certificate file.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { createSecureContext, type ConnectionOptions } from 'node:tls'
import { bindAddressOf, isHttpsUrl, nodeTlsVersionOf, openSslCiphersOf, type MemberConfig } from '../config/index.js'

/** The files of one side (client or peer) and the flags they came from, for messages. */
export interface TlsFiles {
  /** Certificate (PEM); '' for none (a peer side that only dials with a CA). */
  readonly certFile: string
  readonly keyFile: string
  /** CA bundle (PEM) that signs the other side's certificates; '' for none. */
  readonly caFile: string
  /** Flag names of the three files, e.g. `--peer-cert-file`. */
  readonly flags: { readonly cert: string; readonly key: string; readonly ca: string }
}

/** What one side does with TLS: its files and what it checks. */
export interface TlsSide {
  readonly files: TlsFiles
  /** The listener demands a certificate signed by `caFile` during the handshake. */
  readonly verifyClients: boolean
  /** Connections this member opens check the server's certificate (off only with peer auto TLS). */
  readonly verifyServers: boolean
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3'
  /** OpenSSL cipher string; undefined for Node's defaults. */
  readonly ciphers: string | undefined
}

/** Ready-made options of one side, from its files as they were read. */
export interface TlsOptions {
  /** For `https.createServer` and `server.setSecureContext`. */
  readonly server: HttpsServerOptions
  /** For undici's `connect` (`tls.connect`). */
  readonly dial: ConnectionOptions
}

/** A TLS file cannot be read or used; the message is one line for the operator. */
export class TlsSetupError extends Error {
  override readonly name = 'TlsSetupError'
}

/** Time between two looks at the certificate files for a change (ms). Bounds how long an
 *  expired or revoked certificate stays in use after its file was replaced. */
export const tlsReloadCheckIntervalMs = 1_000

/** Validity of a certificate generated for auto TLS (days); etcd's is one year. */
const autoTlsValidityDays = 365

/**
 * The client side, or undefined when no client URL is https. With `--auto-tls` and no
 * `--cert-file`, a self-signed certificate is generated (once) into
 * `<data-dir>/fixtures/client`, as etcd does.
 * @throws TlsSetupError when the certificate cannot be generated.
 */
export function clientTlsSide(config: MemberConfig): TlsSide | undefined {
  if (!config.listenClientUrls.some(isHttpsUrl)) return undefined
  const flags = { cert: '--cert-file', key: '--key-file', ca: '--trusted-ca-file' }
  const given = config.certFile !== ''
  const files: TlsFiles = given
    ? { certFile: config.certFile, keyFile: config.keyFile, caFile: config.trustedCaFile, flags }
    : { ...autoCertificate(join(config.dataDir, 'fixtures', 'client'), config.listenClientUrls), caFile: config.trustedCaFile, flags }
  return {
    files,
    verifyClients: config.clientCertAuth || config.trustedCaFile !== '',
    verifyServers: true,
    minVersion: nodeTlsVersionOf(config.tlsMinVersion),
    ciphers: openSslCiphersOf(config.cipherSuites),
  }
}

/**
 * The peer side, or undefined when no peer TLS setting is given (then https peer URLs of
 * others are dialed with undici's defaults). With `--peer-auto-tls` and no
 * `--peer-cert-file`, a self-signed certificate goes to `<data-dir>/fixtures/peer`, and
 * connections to peers do not verify them (nothing could: every member signs its own).
 * @throws TlsSetupError when the certificate cannot be generated.
 */
export function peerTlsSide(config: MemberConfig): TlsSide | undefined {
  const auto = config.peerAutoTls && config.peerCertFile === ''
  if (config.peerCertFile === '' && config.peerTrustedCaFile === '' && !auto) return undefined
  const flags = { cert: '--peer-cert-file', key: '--peer-key-file', ca: '--peer-trusted-ca-file' }
  const listenHttps = config.listenPeerUrls.some(isHttpsUrl)
  const own = auto
    ? listenHttps || config.initialAdvertisePeerUrls.some(isHttpsUrl)
      ? autoCertificate(join(config.dataDir, 'fixtures', 'peer'), config.listenPeerUrls)
      : { certFile: '', keyFile: '' }
    : { certFile: config.peerCertFile, keyFile: config.peerKeyFile }
  return {
    files: { ...own, caFile: config.peerTrustedCaFile, flags },
    verifyClients: config.peerClientCertAuth || config.peerTrustedCaFile !== '',
    verifyServers: !auto,
    minVersion: nodeTlsVersionOf(config.tlsMinVersion),
    ciphers: openSslCiphersOf(config.cipherSuites),
  }
}

/**
 * Reads `side`'s files and builds its options; checks that the key matches the certificate
 * and that every PEM parses, as Node would at the first handshake.
 * @throws TlsSetupError naming the flag and the file.
 */
export function readTlsOptions(side: TlsSide): TlsOptions {
  const { files } = side
  const read = (path: string, flag: string): Buffer | undefined => {
    if (path === '') return undefined
    try {
      return readFileSync(path)
    } catch (error) {
      throw new TlsSetupError(`cannot read ${flag} ${path}: ${(error as Error).message}`)
    }
  }
  const cert = read(files.certFile, files.flags.cert)
  const key = read(files.keyFile, files.flags.key)
  const ca = read(files.caFile, files.flags.ca)
  const common = {
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(ca === undefined ? {} : { ca }),
    minVersion: side.minVersion,
    ...(side.ciphers === undefined ? {} : { ciphers: side.ciphers }),
  }
  try {
    createSecureContext(common)
  } catch (error) {
    const named = [files.certFile, files.keyFile, files.caFile].filter((f) => f !== '').join(', ')
    throw new TlsSetupError(`cannot use the TLS files ${named}: ${(error as Error).message.split('\n')[0]}`)
  }
  return {
    server: { ...common, requestCert: side.verifyClients, rejectUnauthorized: side.verifyClients },
    dial: { ...common, rejectUnauthorized: side.verifyServers },
  }
}

/**
 * The options of one side, kept current: `current()` gives the options read last, and a
 * check every `tlsReloadCheckIntervalMs` re-reads the files when one of them changed (size,
 * modification time or inode) and hands the new options to the listeners. A failed read
 * (a file caught half-written, a key not yet matching its certificate) keeps the old
 * options and is tried again at the next check.
 */
export class ReloadingTls {
  private options: TlsOptions
  private signature: string
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly listeners: ((options: TlsOptions) => void)[] = []

  /** @throws TlsSetupError when the files cannot be read or used now. */
  constructor(private readonly side: TlsSide) {
    this.signature = signatureOf(side.files)
    this.options = readTlsOptions(side)
  }

  /** The options read last. */
  current(): TlsOptions {
    return this.options
  }

  /** Calls `listener` with the new options after each reload. */
  onReload(listener: (options: TlsOptions) => void): void {
    this.listeners.push(listener)
  }

  /** Starts the periodic check; `log` hears of reloads and of failed ones. */
  start(log: { info(fields: object, message: string): void; warn(fields: object, message: string): void }): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.check(log), tlsReloadCheckIntervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private check(log: { info(fields: object, message: string): void; warn(fields: object, message: string): void }): void {
    const signature = signatureOf(this.side.files)
    if (signature === this.signature) return
    const files = [this.side.files.certFile, this.side.files.keyFile, this.side.files.caFile].filter((f) => f !== '')
    try {
      this.options = readTlsOptions(this.side)
    } catch (error) {
      log.warn({ files, error: (error as Error).message }, 'TLS files changed but cannot be used yet; keeping the previous ones')
      return
    }
    this.signature = signature
    for (const listener of this.listeners) listener(this.options)
    log.info({ files }, 'TLS files reloaded')
  }
}

/** Size, modification time and inode of each file: a change in any means "read again". */
function signatureOf(files: TlsFiles): string {
  return [files.certFile, files.keyFile, files.caFile]
    .map((path) => {
      if (path === '') return '-'
      try {
        const stat = statSync(path)
        return `${stat.ino}:${stat.size}:${stat.mtimeMs}`
      } catch {
        return 'missing'
      }
    })
    .join('|')
}

/**
 * A self-signed certificate for auto TLS in `dir` (`cert.pem`, `key.pem`), valid for the
 * hosts of `urls`: ECDSA P-256, `O=arbor`, `autoTlsValidityDays` days. An existing pair is
 * kept, as etcd keeps its fixtures. Made with the `openssl` command.
 * @throws TlsSetupError when openssl is missing or fails.
 */
function autoCertificate(dir: string, urls: readonly string[]): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile }
  const hosts = new Set(urls.map((url) => bindAddressOf(url).host))
  const names = [...hosts].map((host) => (isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`))
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', String(autoTlsValidityDays), '-subj', '/O=arbor',
      '-addext', `subjectAltName=${names.join(',')}`,
      '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
    ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 })
    chmodSync(keyFile, 0o600)
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0] ?? (error as Error).message
    throw new TlsSetupError(`cannot generate the auto TLS certificate in ${dir} (is openssl installed?): ${detail}`)
  }
  return { certFile, keyFile }
}
