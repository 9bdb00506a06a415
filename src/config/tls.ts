/**
 * The TLS settings of a member as etcd 3.4.23 names them (`--cert-file`, `--peer-cert-file`,
 * `--cipher-suites`, ...): the cipher-suite names etcd accepts, their OpenSSL spellings, the
 * TLS versions, and the rules that tie the TLS flags to the `https://` URLs. Pure: the
 * certificate files are read by the CLI, never here.
 */

/**
 * TLS 1.2 cipher suites by the Go names etcd's `--cipher-suites` takes (etcd pkg/tlsutil,
 * Go crypto/tls), with the OpenSSL name Node's `ciphers` option takes. The RC4 suites etcd
 * also accepts are absent: OpenSSL 3 no longer offers them, and they are broken.
 */
export const cipherSuiteOpenSslNames: ReadonlyMap<string, string> = new Map([
  ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'DES-CBC3-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 'ECDHE-RSA-DES-CBC3-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
])

/** TLS 1.3's suites, which Go (and so etcd) always allows whatever `--cipher-suites` says. */
const tls13Suites = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256'

/**
 * Node's `ciphers` string for `--cipher-suites`, or `undefined` for an empty list (Node's
 * defaults). TLS 1.3's suites are kept, as in Go: the list restricts TLS 1.2 only.
 * @param goNames names that passed the config schema (keys of `cipherSuiteOpenSslNames`).
 */
export function openSslCiphersOf(goNames: readonly string[]): string | undefined {
  if (goNames.length === 0) return undefined
  const names = goNames.map((name) => cipherSuiteOpenSslNames.get(name) ?? name)
  return [tls13Suites, ...new Set(names)].join(':')
}

/** Values of `--tls-min-version` (etcd 3.5's spelling). Older versions are not offered. */
export const tlsVersions = ['TLS1.2', 'TLS1.3'] as const
export type TlsVersion = (typeof tlsVersions)[number]

/** Node's `minVersion` for a `--tls-min-version` value. */
export function nodeTlsVersionOf(version: TlsVersion): 'TLSv1.2' | 'TLSv1.3' {
  return version === 'TLS1.3' ? 'TLSv1.3' : 'TLSv1.2'
}

/** Whether `url` (one that passed `urlProblem`) asks for TLS. */
export function isHttpsUrl(url: string): boolean {
  return url.toLowerCase().startsWith('https://')
}
