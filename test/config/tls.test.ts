// Goal: etcd's TLS flags (`--cert-file` ... `--peer-cert-allowed-hostname`, `--cipher-suites`)
// and etcd 3.5's `--tls-min-version` are read from flags, ETCD_* variables and the config file
// (top-level keys and etcd's `client-transport-security`/`peer-transport-security` sections),
// and every combination that cannot work is refused with one line naming the flag.
// Method: loadConfig with argv, an env object and an in-memory file reader; no disk.
// Verified against etcd 3.4.23: an https client URL without --cert-file fails ("TLS key/cert
// (--cert-file, --key-file) must be provided for client url ... with HTTPS scheme"); a cert
// without its key fails ("KeyFile and CertFile must both be present"); an https peer URL
// without a peer cert fails; TLS files with only http URLs are ignored with a warning;
// `--cipher-suites FOO` fails ("unexpected TLS cipher suite "FOO""); etcd 3.4 has no
// `--tls-min-version`.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, loadConfig, openSslCiphersOf, type MemberConfig } from '../../src/config/index.js'

type Env = Record<string, string | undefined>

function load(argv: string[], env: Env = {}, files: Record<string, string> = {}): { config: MemberConfig; warnings: readonly string[] } {
  const outcome = loadConfig(argv, env, (path) => {
    const text = files[path]
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`)
    return text
  })
  assert.equal(outcome.kind, 'run')
  if (outcome.kind !== 'run') throw new Error('unreachable')
  return outcome
}

function refusal(argv: string[], env: Env = {}, files: Record<string, string> = {}): string {
  try {
    load(argv, env, files)
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error))
    assert.doesNotMatch(error.message, /\n/)
    return error.message
  }
  throw new Error(`no error for ${argv.join(' ')}`)
}

const httpsClient = ['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://127.0.0.1:2379']
const httpsPeer = ['--listen-peer-urls', 'https://127.0.0.1:2380', '--initial-advertise-peer-urls', 'https://127.0.0.1:2380']
const clientFiles = ['--cert-file', '/s.pem', '--key-file', '/s.key']
const peerFiles = ['--peer-cert-file', '/p.pem', '--peer-key-file', '/p.key']

describe('TLS flags', () => {
  test('every client TLS flag fills its field', () => {
    const { config, warnings } = load([...httpsClient, ...clientFiles, '--trusted-ca-file', '/ca.pem', '--client-cert-auth', '--auto-tls=false'])
    assert.deepEqual(
      [config.certFile, config.keyFile, config.trustedCaFile, config.clientCertAuth, config.autoTls],
      ['/s.pem', '/s.key', '/ca.pem', true, false],
    )
    assert.deepEqual(config.listenClientUrls, ['https://127.0.0.1:2379'])
    assert.deepEqual(warnings, [])
  })
  test('every peer TLS flag fills its field', () => {
    const { config } = load([...httpsPeer, ...peerFiles, '--peer-trusted-ca-file', '/pca.pem', '--peer-client-cert-auth', '--peer-cert-allowed-cn', 'member'])
    assert.deepEqual(
      [config.peerCertFile, config.peerKeyFile, config.peerTrustedCaFile, config.peerClientCertAuth, config.peerCertAllowedCn, config.peerCertAllowedHostname],
      ['/p.pem', '/p.key', '/pca.pem', true, 'member', ''],
    )
    const byHostname = load([...httpsPeer, ...peerFiles, '--peer-trusted-ca-file', '/pca.pem', '--peer-client-cert-auth', '--peer-cert-allowed-hostname', 'm1.example'])
    assert.equal(byHostname.config.peerCertAllowedHostname, 'm1.example')
  })
  test('auto TLS needs no files, and peer auto TLS says loudly that peers are not verified', () => {
    const { config, warnings } = load([...httpsClient, ...httpsPeer, '--auto-tls', '--peer-auto-tls'])
    assert.equal(config.autoTls, true)
    assert.equal(config.peerAutoTls, true)
    assert.deepEqual(warnings, ['peer-auto-tls is on: connections to peers do not verify their certificates'])
  })
  test('--cipher-suites takes Go names, keeps TLS 1.3, and maps to OpenSSL names', () => {
    const { config } = load(['--cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'])
    assert.deepEqual(config.cipherSuites, ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'])
    assert.equal(
      openSslCiphersOf(config.cipherSuites),
      'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384',
    )
    assert.equal(openSslCiphersOf([]), undefined)
  })
  test('--tls-min-version defaults to TLS1.2 and takes TLS1.3', () => {
    assert.equal(load([]).config.tlsMinVersion, 'TLS1.2')
    assert.equal(load(['--tls-min-version', 'TLS1.3']).config.tlsMinVersion, 'TLS1.3')
  })
  test('ETCD_* variables set the same fields', () => {
    const env = {
      ETCD_LISTEN_CLIENT_URLS: 'https://127.0.0.1:2379', ETCD_ADVERTISE_CLIENT_URLS: 'https://127.0.0.1:2379',
      ETCD_CERT_FILE: '/s.pem', ETCD_KEY_FILE: '/s.key', ETCD_TRUSTED_CA_FILE: '/ca.pem', ETCD_CLIENT_CERT_AUTH: 'true',
      ETCD_PEER_AUTO_TLS: 'false', ETCD_CIPHER_SUITES: 'TLS_RSA_WITH_AES_128_GCM_SHA256', ETCD_TLS_MIN_VERSION: 'TLS1.3',
    }
    const { config } = load([], env)
    assert.deepEqual(
      [config.certFile, config.keyFile, config.trustedCaFile, config.clientCertAuth, config.peerAutoTls, config.cipherSuites, config.tlsMinVersion],
      ['/s.pem', '/s.key', '/ca.pem', true, false, ['TLS_RSA_WITH_AES_128_GCM_SHA256'], 'TLS1.3'],
    )
  })
  test("etcd's transport-security sections of the config file map to the flags", () => {
    const text = [
      'listen-client-urls: https://127.0.0.1:2379', 'listen-peer-urls: https://127.0.0.1:2380',
      'initial-advertise-peer-urls: https://127.0.0.1:2380',
      'client-transport-security:', '  cert-file: /s.pem', '  key-file: /s.key', '  trusted-ca-file: /ca.pem', '  client-cert-auth: true',
      'peer-transport-security:', '  cert-file: /p.pem', '  key-file: /p.key', '  trusted-ca-file: /pca.pem', '  client-cert-auth: true',
      'peer-cert-allowed-cn: member', 'cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]', '',
    ].join('\n')
    const { config, warnings } = load(['--config-file', 'c.yaml'], {}, { 'c.yaml': text })
    assert.deepEqual(
      [config.certFile, config.keyFile, config.trustedCaFile, config.clientCertAuth],
      ['/s.pem', '/s.key', '/ca.pem', true],
    )
    assert.deepEqual(
      [config.peerCertFile, config.peerKeyFile, config.peerTrustedCaFile, config.peerClientCertAuth, config.peerCertAllowedCn],
      ['/p.pem', '/p.key', '/pca.pem', true, 'member'],
    )
    assert.deepEqual(config.cipherSuites, ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'])
    assert.deepEqual(warnings, [])
  })
  test('TLS files with only http URLs are ignored with a warning, as etcd does', () => {
    const { warnings } = load([...clientFiles, ...peerFiles])
    assert.deepEqual(warnings, [
      'client TLS settings are ignored: no https URL in --listen-client-urls (as etcd does)',
      'peer TLS settings are ignored: no https URL in --listen-peer-urls or --initial-cluster (as etcd does)',
    ])
  })
  test('given certificates win over auto TLS, with a warning', () => {
    const { warnings } = load([...httpsClient, ...clientFiles, '--auto-tls'])
    assert.deepEqual(warnings, ['auto-tls is ignored: --cert-file and --key-file are given'])
  })
})

describe('TLS combinations refused with one line', () => {
  const cases: { name: string; argv: string[]; env?: Env; files?: Record<string, string>; message: string }[] = [
    { name: 'https client URL without a certificate', argv: httpsClient, message: 'invalid value "https://127.0.0.1:2379" for --listen-client-urls: TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme (or use --auto-tls)' },
    { name: 'https peer URL without a certificate', argv: httpsPeer, message: 'invalid value "https://127.0.0.1:2380" for --listen-peer-urls: TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url https://127.0.0.1:2380 with HTTPS scheme (or use --peer-auto-tls)' },
    { name: 'a key without its certificate', argv: [...httpsClient, '--key-file', '/s.key'], message: 'invalid value "/s.key" for --key-file: needs --cert-file too: KeyFile and CertFile must both be present' },
    { name: 'a peer certificate without its key', argv: [...httpsPeer, '--peer-cert-file', '/p.pem'], message: 'invalid value "/p.pem" for --peer-cert-file: needs --peer-key-file too: KeyFile and CertFile must both be present' },
    { name: 'client-cert-auth without a CA', argv: [...httpsClient, ...clientFiles, '--client-cert-auth'], message: 'invalid value "true" for --client-cert-auth: needs --trusted-ca-file: the CA that signs the client certificates' },
    { name: 'peer-client-cert-auth without a CA', argv: [...httpsPeer, ...peerFiles, '--peer-client-cert-auth'], message: 'invalid value "true" for --peer-client-cert-auth: needs --peer-trusted-ca-file: the CA that signs the peer certificates' },
    { name: 'allowed CN without verified peers', argv: [...httpsPeer, ...peerFiles, '--peer-cert-allowed-cn', 'm'], message: 'invalid value "m" for --peer-cert-allowed-cn: needs --peer-client-cert-auth and --peer-trusted-ca-file: only a verified certificate has a Common Name to check' },
    { name: 'allowed CN and hostname together', argv: [...httpsPeer, ...peerFiles, '--peer-trusted-ca-file', '/ca', '--peer-client-cert-auth', '--peer-cert-allowed-cn', 'm', '--peer-cert-allowed-hostname', 'h'], message: 'invalid value "h" for --peer-cert-allowed-hostname: cannot be given with --peer-cert-allowed-cn: choose one check of the peer certificate' },
    { name: 'an unknown cipher suite', argv: ['--cipher-suites', 'FOO'], message: 'invalid value "FOO" for --cipher-suites: unexpected TLS cipher suite "FOO"' },
    { name: 'an RC4 suite (etcd accepts it, OpenSSL 3 has none)', argv: ['--cipher-suites', 'TLS_RSA_WITH_RC4_128_SHA'], message: 'invalid value "TLS_RSA_WITH_RC4_128_SHA" for --cipher-suites: unexpected TLS cipher suite "TLS_RSA_WITH_RC4_128_SHA"' },
    { name: 'TLS 1.1 as the minimum', argv: ['--tls-min-version', 'TLS1.1'], message: 'invalid value "TLS1.1" for --tls-min-version: expected one of TLS1.2, TLS1.3' },
    { name: 'a bad boolean', argv: ['--client-cert-auth=yes'], message: 'invalid value "yes" for --client-cert-auth: expected true or false' },
    { name: 'a bad boolean in a variable', argv: [], env: { ETCD_PEER_AUTO_TLS: 'on' }, message: 'invalid value "on" for ETCD_PEER_AUTO_TLS: expected true or false' },
    { name: 'a CRL (not implemented)', argv: ['--client-crl-file', '/crl.pem'], message: 'invalid value "/crl.pem" for --client-crl-file: arbor does not implement certificate revocation lists; remove it or leave it empty' },
    { name: 'a section key given twice', argv: ['--config-file', 'd.yaml'], files: { 'd.yaml': 'cert-file: /a.pem\nclient-transport-security:\n  cert-file: /b.pem\n' }, message: 'client-transport-security.cert-file in d.yaml repeats cert-file in d.yaml: give the setting once' },
    { name: 'a bad value in a section', argv: ['--config-file', 'e.yaml'], files: { 'e.yaml': 'peer-transport-security:\n  client-cert-auth: maybe\n' }, message: 'invalid value "maybe" for peer-transport-security.client-cert-auth in e.yaml: expected true or false' },
  ]
  for (const c of cases) {
    test(c.name, () => assert.equal(refusal(c.argv, c.env, c.files), c.message))
  }
})
