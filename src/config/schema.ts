/**
 * The shape of a member's configuration: one zod schema per field, the typed
 * `MemberConfig`, the defaults, and the checks that involve two fields.
 *
 * A field schema accepts its value in any form it can arrive in — the text of a flag or an
 * `ETCD_*`/`ARBOR_*` variable, or a YAML value from the config file — and also its own
 * output, so that the assembled config can be validated once more as a whole. Every
 * message a schema produces completes the sentence `invalid value "..." for <where>: `.
 *
 * Defaults are etcd 3.4.23's (`etcd --help`, embed/config.go) except where a comment says
 * why arbor differs.
 */
import { z } from 'zod'
import {
  parseInitialCluster,
  renderInitialCluster,
  splitUrlList,
  uniqueUrls,
  urlProblem,
  type InitialClusterMember,
  type UrlUse,
} from './urls.js'
import { cipherSuiteOpenSslNames, isHttpsUrl, tlsVersions } from './tls.js'

/** Log levels etcd 3.4 accepts for `--log-level` (etcd panics on anything else). */
export const logLevels = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'] as const
export type LogLevel = (typeof logLevels)[number]

/** Values Go's strconv.ParseBool accepts, which is what etcd's boolean flags accept. */
const goTrue: ReadonlySet<string> = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const goFalse: ReadonlySet<string> = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

/** Whether `text` is one of Go's spellings of false (`false`, `0`, `f`, ...). */
export function isGoFalse(text: string): boolean {
  return goFalse.has(text)
}

/** Whether `text` is one of Go's spellings of a boolean. */
export function isGoBool(text: string): boolean {
  return goTrue.has(text) || goFalse.has(text)
}

/** Text to number: a decimal integer or fraction becomes a number (so that the message can
 *  say "integer"), anything else NaN. Non-text passes through. */
function decodeNumber(value: unknown): unknown {
  if (typeof value !== 'string') return value
  return /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : Number.NaN
}

/** Text to boolean, Go's spellings only. Non-text and unknown text pass through. */
function decodeBool(value: unknown): unknown {
  if (typeof value !== 'string') return value
  if (goTrue.has(value)) return true
  if (goFalse.has(value)) return false
  return value
}

/** An integer field; `expected` is the message for every rejected value. */
function integerField(min: number, expected: string, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    decodeNumber,
    z.number({ error: expected }).int(expected).min(min, expected).max(max, expected),
  )
}

/** A count or size that must be at least 1: every named limit of arbor. */
function limitField(unit: string) {
  return integerField(1, `expected a positive integer (${unit})`)
}

function boolField() {
  return z.preprocess(decodeBool, z.boolean({ error: 'expected true or false' }))
}

function textField(expected: string, minLength: number) {
  return z.string({ error: expected }).min(minLength, expected)
}

/** `--host-whitelist`: `*` (or empty) for any Host, else comma-separated host names. */
const hostWhitelistField = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v
    const names = v.split(',').map((n) => n.trim()).filter((n) => n !== '')
    return names.length === 0 ? ['*'] : names
  },
  z.array(z.string(), { error: 'expected * or a comma-separated list of host names' }).transform((names): readonly string[] => names),
)

/** A non-empty list of URLs for `use`, from a comma-separated string (or a YAML list). */
function urlListField(use: UrlUse) {
  const expected = 'expected a comma-separated list of URLs'
  return z
    .preprocess((v) => (typeof v === 'string' ? splitUrlList(v) : v), z.array(z.string({ error: expected }), { error: expected }))
    .superRefine((urls, ctx) => {
      if (urls.length === 0) ctx.addIssue({ code: 'custom', message: expected })
      for (const url of urls) {
        const problem = urlProblem(url, use)
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
      }
    })
    .transform((urls): readonly string[] => uniqueUrls(urls))
}

/** `--cors`: `*` or empty means any origin; otherwise a list of origins `scheme://host:port`. */
const corsField = z
  .preprocess(
    (v) => {
      if (typeof v !== 'string') return v
      const text = v.trim()
      return text === '' || text === '*' ? '*' : splitUrlList(text)
    },
    z.union([z.literal('*'), z.array(z.string())], { error: 'expected * or a comma-separated list of origins' }),
  )
  .superRefine((cors, ctx) => {
    if (cors === '*') return
    for (const origin of cors) {
      const problem = urlProblem(origin, 'origin')
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
    }
  })
  .transform((cors): '*' | readonly string[] => (cors === '*' ? cors : uniqueUrls(cors)))

/** A path to a certificate, key or CA file; empty means none. Never read here. */
function fileField() {
  return z.string({ error: 'expected a file path' })
}

/** `--cipher-suites`: Go's names of TLS 1.2 suites, comma-separated (or a YAML list). */
const cipherSuitesField = z
  .preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
    z.array(z.string({ error: 'expected a comma-separated list of cipher suites' }), { error: 'expected a comma-separated list of cipher suites' }),
  )
  .superRefine((names, ctx) => {
    for (const name of names) {
      if (!cipherSuiteOpenSslNames.has(name)) ctx.addIssue({ code: 'custom', message: `unexpected TLS cipher suite "${name}"` })
    }
  })
  .transform((names): readonly string[] => [...new Set(names)])

const memberSchema = z.object({ name: z.string().min(1), peerUrls: z.array(z.string()).min(1).readonly() })

/** `--initial-cluster`: `name=url,...` parsed into members; every URL distinct. */
const initialClusterField = z
  .preprocess((v, ctx) => {
    if (typeof v !== 'string') return v
    const parsed = parseInitialCluster(v)
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed })
    return parsed
  }, z.array(memberSchema, { error: 'expected name=URL items separated by commas' }))
  .superRefine((members, ctx) => {
    if (members.length === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one name=URL item' })
    const seen = new Set<string>()
    for (const url of members.flatMap((m) => m.peerUrls)) {
      const problem = urlProblem(url, 'advertise') ?? (seen.has(url) ? `peer URL listed twice: ${url}` : undefined)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
      seen.add(url)
    }
  })
  .transform((members): readonly InitialClusterMember[] => members)

/**
 * Every field of `MemberConfig`, in the order flags are checked and listed in `--help`.
 * The limits are arbor's: each names what it protects (ARCHITECTURE.md decision 9).
 */
const fieldSchemas = {
  /** Human-readable name of this member (`--name`); its key in `--initial-cluster`. */
  name: textField('expected a non-empty member name', 1),
  /** Directory of this member's SQLite database (`--data-dir`); default `${name}.arbor`. */
  dataDir: textField('expected a non-empty directory path', 1),
  /** URLs to serve clients on (`--listen-client-urls`). */
  listenClientUrls: urlListField('listen'),
  /** Client URLs given to others in `/v2/members` and `/v2/machines`. */
  advertiseClientUrls: urlListField('advertise'),
  /** URLs to serve peers on (`--listen-peer-urls`). */
  listenPeerUrls: urlListField('listen'),
  /** This member's peer URLs as the other members reach them. */
  initialAdvertisePeerUrls: urlListField('advertise'),
  /** Members at bootstrap, this one included (`--initial-cluster`). */
  initialCluster: initialClusterField,
  /** `new` bootstraps a cluster; `existing` joins one already running. */
  initialClusterState: z.enum(['new', 'existing'], { error: 'expected new or existing' }),
  /** Seed of the cluster id, so that two clusters bootstrapped alike stay apart. */
  initialClusterToken: textField('expected a string', 0),
  /** Time between leader heartbeats, ms; one Raft tick. */
  heartbeatIntervalMs: integerField(1, 'expected a positive integer (ms)'),
  /** Time without a leader before an election, ms; ≥ 5 × heartbeat, ≤ 50000 (etcd's bounds). */
  electionTimeoutMs: integerField(1, 'expected a positive integer (ms) no greater than 50000', 50_000),
  /** Applied entries kept in the log behind the applied index for slow followers; etcd's
   *  `--snapshot-count`. 0 means the default (100000), as in etcd. */
  snapshotCount: integerField(0, 'expected a non-negative integer (entries)'),
  /** Origins allowed by CORS: `*` for any, or the exact origins to echo. */
  cors: corsField,
  /** Host names served on plain-HTTP client listeners (`--host-whitelist`); `*` for any. Others get 421. */
  hostWhitelist: hostWhitelistField,
  /** Least severe level logged. */
  logLevel: z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` }),
  /** etcd's `--enable-v2`: accepted and ignored, arbor always serves the v2 API. */
  enableV2: boolField(),
  /** etcd's `--max-request-bytes` (gRPC only in etcd): accepted and ignored; v2 bodies are
   *  bounded by `requestBodyBytesMax`. */
  maxRequestBytes: integerField(0, 'expected a non-negative integer (bytes)'),
  /** etcd's `--quota-backend-bytes` (a v3 setting): accepted and ignored. */
  quotaBackendBytes: integerField(Number.MIN_SAFE_INTEGER, 'expected an integer (bytes)'),
  /** etcd's `--unsafe-no-fsync`: SQLite `synchronous=OFF`. A crash may lose acknowledged
   *  writes and break Raft's durability promise (Raft Figure 2); for tests only. */
  unsafeNoFsync: boolField(),
  /** etcd's `--force-new-cluster`: start this member, with its data, as the only member of
   *  its cluster (after the others are lost for good): entries not known committed are
   *  dropped and the others are removed through the log, as etcd does. */
  forceNewCluster: boolField(),
  /** Certificate (PEM) served on https client URLs (`--cert-file`); empty for none. */
  certFile: fileField(),
  /** Private key (PEM, unencrypted) of `certFile` (`--key-file`). */
  keyFile: fileField(),
  /** CA bundle (PEM) that signs client certificates (`--trusted-ca-file`). As in etcd, giving
   *  it already makes https client URLs demand a certificate it signed. */
  trustedCaFile: fileField(),
  /** Demand a client certificate signed by `trustedCaFile` in the handshake (`--client-cert-auth`). */
  clientCertAuth: boolField(),
  /** Serve https client URLs with a self-signed certificate kept under the data directory
   *  (`--auto-tls`); used only when `certFile` and `keyFile` are empty. */
  autoTls: boolField(),
  /** Certificate (PEM) of the peer listener and of this member's connections to peers. */
  peerCertFile: fileField(),
  /** Private key (PEM, unencrypted) of `peerCertFile`. */
  peerKeyFile: fileField(),
  /** CA bundle (PEM) for peer certificates, both the ones peers serve and the ones they
   *  present; on https peer URLs, giving it demands a certificate from connecting peers. */
  peerTrustedCaFile: fileField(),
  /** Demand a certificate signed by `peerTrustedCaFile` from every connecting peer. */
  peerClientCertAuth: boolField(),
  /** Peer TLS with a self-signed certificate under the data directory; connections to
   *  peers then skip verification (etcd's `--peer-auto-tls`). */
  peerAutoTls: boolField(),
  /** Common Name a connecting peer's certificate must carry; empty for any. */
  peerCertAllowedCn: z.string({ error: 'expected a Common Name' }),
  /** Host name a connecting peer's certificate must be valid for; empty for any. */
  peerCertAllowedHostname: z.string({ error: 'expected a host name' }),
  /** TLS 1.2 cipher suites allowed on client and peer TLS (Go's names); empty for Node's
   *  defaults. TLS 1.3 suites are always allowed, as in Go. */
  cipherSuites: cipherSuitesField,
  /** Oldest TLS version accepted on client and peer TLS (etcd 3.5's `--tls-min-version`). */
  tlsMinVersion: z.enum(tlsVersions, { error: `expected one of ${tlsVersions.join(', ')}` }),
  /** Bytes in one client request body. Protects memory from one huge request; etcd's v2
   *  form limit (Go's 10 MiB), above which it answers 400 code 210 "Invalid POST form". */
  requestBodyBytesMax: limitField('bytes'),
  /** Bytes in one value. Protects memory, the log and every member's database. */
  valueBytesMax: limitField('bytes'),
  /** Bytes in one key path. Protects the tree's indexes from huge keys; far above the
   *  4 KiB request line etcd's plain port accepts. */
  keyBytesMax: limitField('bytes'),
  /** Segments in one key path. Bounds every walk of the tree (no recursion). */
  keyDepthMax: limitField('segments'),
  /** Watchers waiting on this member at once. Protects memory and the fan-out of each
   *  applied event. */
  watchersMax: limitField('watchers'),
  /** Events queued for one streaming watcher before it is dropped (etcd: 100). Protects
   *  memory from a slow reader. */
  watcherEventsMax: limitField('events'),
  /** Proposals waiting for their entry to apply. Protects the leader from a write burst:
   *  beyond it, writes fail fast instead of queueing without bound. */
  pendingProposalsMax: limitField('proposals'),
  /** Events kept to answer `waitIndex` (etcd keeps 1000, so at least 1000). Bounds the
   *  history table. */
  historyEventsMax: integerField(1000, 'expected an integer of at least 1000 (etcd keeps the last 1000 events)'),
  /** Bytes of a request's header block, request line included. Protects memory; larger
   *  gets 431 (etcd's Go server allows about 1 MiB). */
  headerBytesMax: limitField('bytes'),
  /** Time to receive a request's headers, ms. Closes slow-loris connections. */
  headersTimeoutMs: limitField('ms'),
  /** Time to receive a whole request (headers and body), ms. Closes stalled bodies; watch
   *  answers are not bounded by it. */
  requestReceiveTimeoutMs: limitField('ms'),
  /** Time an idle keep-alive client connection stays open, ms. Bounds idle sockets. */
  keepAliveTimeoutMs: limitField('ms'),
  /** Permissions of the `guest` role that enabling v2 auth creates when none exists: `none`
   *  (arbor's default: auth really closes the store) or `readwrite` (etcd's `/*`). */
  authGuestAccess: z.enum(['none', 'readwrite'], { error: 'expected none or readwrite' }),
  /** How long verified credentials are trusted without running bcrypt again, ms. Any
   *  user change empties the cache at once; this bounds the life of one entry. */
  authCacheTtlMs: limitField('ms'),
  /** Verified credentials remembered at once. Protects memory from many distinct headers. */
  authCacheEntriesMax: limitField('entries'),
  /** Time a write or quorum read waits for its entry before failing with 300
   *  "etcdserver: request timed out", ms. Default etcd's 5000 + 2 × election timeout. */
  requestTimeoutMs: limitField('ms'),
  /** Period at which the leader looks for expired TTL keys and proposes a `sync`, ms
   *  (etcd's v2 sync ticker: 500 ms). Bounds how late a key expires. */
  syncIntervalMs: limitField('ms'),
  /** Bytes of one chunk of a snapshot sent to a follower that fell behind: read from the
   *  state, posted, and staged by the follower one chunk at a time. Bounds the memory a
   *  snapshot takes on both sides, whatever the size of the state. */
  snapshotChunkBytesMax: limitField('bytes'),
  /** Keys one TTL sweep entry expires at most; more due keys take more entries. Bounds the
   *  work of one apply (one loop turn) when many keys are due at once: about 65 µs a key
   *  on SQLite, so the default takes some 16 ms, a sixth of the default heartbeat. */
  expireKeysPerEntry: limitField('keys'),
} as const

/** A field of `MemberConfig`. */
export type ConfigField = keyof typeof fieldSchemas

/** Every field, in the order of `fieldSchemas`: the order errors are looked for. */
export const configFields = Object.keys(fieldSchemas) as ConfigField[]

/** The fields once each is valid on its own. */
type FieldValues = { [F in ConfigField]: z.output<(typeof fieldSchemas)[F]> }

/** Checks of one field against others; each issue's path names the field to blame. */
function checkMember(config: FieldValues, ctx: z.RefinementCtx): void {
  const { heartbeatIntervalMs, electionTimeoutMs, name } = config
  if (electionTimeoutMs < 5 * heartbeatIntervalMs) {
    const message = `must be at least 5 times heartbeat-interval (${heartbeatIntervalMs} ms), as etcd requires`
    ctx.addIssue({ code: 'custom', path: ['electionTimeoutMs'], message })
  }
  if (config.headersTimeoutMs > config.requestReceiveTimeoutMs) {
    // Node refuses to start a server whose headers timeout exceeds its request timeout.
    const message = `must be at most request-receive-timeout-ms (${config.requestReceiveTimeoutMs} ms): the headers are part of the request`
    ctx.addIssue({ code: 'custom', path: ['headersTimeoutMs'], message })
  }
  checkTls(config, ctx)
  const self = config.initialCluster.find((m) => m.name === name)
  if (self === undefined) {
    ctx.addIssue({ code: 'custom', path: ['initialCluster'], message: `must list this member's name "${name}"` })
    return
  }
  const advertised = new Set(config.initialAdvertisePeerUrls)
  const same = self.peerUrls.length === advertised.size && self.peerUrls.every((url) => advertised.has(url))
  if (config.initialClusterState === 'new' && !same) {
    const listed = renderInitialCluster([self])
    const message = `lists ${listed} but initial-advertise-peer-urls is ${config.initialAdvertisePeerUrls.join(',')}; they must be the same URLs`
    ctx.addIssue({ code: 'custom', path: ['initialCluster'], message })
  }
}

/**
 * The TLS rules that involve two fields. etcd 3.4.23 refuses an https URL without a
 * certificate and a certificate without its key at start; arbor also refuses what etcd
 * would run with a surprising meaning (a client check without a CA to check against, two
 * peer identity checks at once), so that a typo cannot silently weaken security.
 */
function checkTls(config: FieldValues, ctx: z.RefinementCtx): void {
  const issue = (field: ConfigField, message: string): void => ctx.addIssue({ code: 'custom', path: [field], message })
  const pair = (cert: ConfigField, key: ConfigField, certFlag: string, keyFlag: string): void => {
    if (config[cert] !== '' && config[key] === '') issue(cert, `needs ${keyFlag} too: KeyFile and CertFile must both be present`)
    if (config[cert] === '' && config[key] !== '') issue(key, `needs ${certFlag} too: KeyFile and CertFile must both be present`)
  }
  pair('certFile', 'keyFile', '--cert-file', '--key-file')
  pair('peerCertFile', 'peerKeyFile', '--peer-cert-file', '--peer-key-file')
  const clientHttps = config.listenClientUrls.find(isHttpsUrl)
  if (clientHttps !== undefined && config.certFile === '' && !config.autoTls) {
    issue('listenClientUrls', `TLS key/cert (--cert-file, --key-file) must be provided for client url ${clientHttps} with HTTPS scheme (or use --auto-tls)`)
  }
  const peerHttps = config.listenPeerUrls.find(isHttpsUrl)
  if (peerHttps !== undefined && config.peerCertFile === '' && !config.peerAutoTls) {
    issue('listenPeerUrls', `TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url ${peerHttps} with HTTPS scheme (or use --peer-auto-tls)`)
  }
  if (config.clientCertAuth && config.trustedCaFile === '') issue('clientCertAuth', 'needs --trusted-ca-file: the CA that signs the client certificates')
  if (config.peerClientCertAuth && config.peerTrustedCaFile === '') issue('peerClientCertAuth', 'needs --peer-trusted-ca-file: the CA that signs the peer certificates')
  if (config.peerCertAllowedCn !== '' && config.peerCertAllowedHostname !== '') {
    issue('peerCertAllowedHostname', 'cannot be given with --peer-cert-allowed-cn: choose one check of the peer certificate')
  }
  const peerCertsChecked = config.peerClientCertAuth || config.peerTrustedCaFile !== ''
  if (config.peerCertAllowedCn !== '' && !peerCertsChecked) issue('peerCertAllowedCn', 'needs --peer-client-cert-auth and --peer-trusted-ca-file: only a verified certificate has a Common Name to check')
  if (config.peerCertAllowedHostname !== '' && !peerCertsChecked) issue('peerCertAllowedHostname', 'needs --peer-client-cert-auth and --peer-trusted-ca-file: only a verified certificate has host names to check')
}

/**
 * What etcd accepts but ignores, for the log: TLS files with no https URL to use them, and
 * auto TLS beside given certificates (the given ones win, as in etcd).
 */
export function tlsWarnings(config: MemberConfig): string[] {
  const warnings: string[] = []
  const clientTls = config.certFile !== '' || config.autoTls || config.clientCertAuth || config.trustedCaFile !== ''
  if (clientTls && !config.listenClientUrls.some(isHttpsUrl)) {
    warnings.push('client TLS settings are ignored: no https URL in --listen-client-urls (as etcd does)')
  }
  const peerTls = config.peerCertFile !== '' || config.peerAutoTls || config.peerClientCertAuth || config.peerTrustedCaFile !== ''
  const peerUrls = [...config.listenPeerUrls, ...config.initialCluster.flatMap((m) => m.peerUrls)]
  if (peerTls && !peerUrls.some(isHttpsUrl)) {
    warnings.push('peer TLS settings are ignored: no https URL in --listen-peer-urls or --initial-cluster (as etcd does)')
  }
  if (config.autoTls && config.certFile !== '') warnings.push('auto-tls is ignored: --cert-file and --key-file are given')
  if (config.peerAutoTls && config.peerCertFile !== '') warnings.push('peer-auto-tls is ignored: --peer-cert-file and --peer-key-file are given')
  return warnings
}

/** The whole configuration, every field present; the checks of `checkMember` included. */
export const memberConfigSchema = z.strictObject(fieldSchemas).superRefine(checkMember)

/** A member's configuration, validated: what the CLI builds the member from. */
export type MemberConfig = z.output<typeof memberConfigSchema>

/** Schema of one field, for a value from a flag, a variable or the config file. */
export function fieldSchema(field: ConfigField): z.ZodType {
  return fieldSchemas[field]
}

/**
 * Defaults that depend on nothing else. Listen and advertise URLs spell out 127.0.0.1
 * where etcd says `localhost`: Go binds `localhost` to 127.0.0.1, but Node may resolve it
 * to ::1 first, and `npm start` must serve http://127.0.0.1:2379 as etcd does.
 */
export const memberDefaults = {
  name: 'default',
  listenClientUrls: ['http://127.0.0.1:2379'],
  advertiseClientUrls: ['http://127.0.0.1:2379'],
  listenPeerUrls: ['http://127.0.0.1:2380'],
  initialAdvertisePeerUrls: ['http://127.0.0.1:2380'],
  initialClusterState: 'new',
  initialClusterToken: 'etcd-cluster',
  heartbeatIntervalMs: 100,
  electionTimeoutMs: 1000,
  snapshotCount: 100_000,
  cors: '*',
  hostWhitelist: ['*'],
  authGuestAccess: 'none',
  logLevel: 'info',
  enableV2: true,
  maxRequestBytes: 1_572_864,
  quotaBackendBytes: 0,
  unsafeNoFsync: false,
  forceNewCluster: false,
  certFile: '',
  keyFile: '',
  trustedCaFile: '',
  clientCertAuth: false,
  autoTls: false,
  peerCertFile: '',
  peerKeyFile: '',
  peerTrustedCaFile: '',
  peerClientCertAuth: false,
  peerAutoTls: false,
  peerCertAllowedCn: '',
  peerCertAllowedHostname: '',
  cipherSuites: [],
  tlsMinVersion: 'TLS1.2',
} as const satisfies Partial<MemberConfig>

/** Defaults of arbor's named limits; `fieldSchemas` says what each protects. */
export const limitDefaults = {
  requestBodyBytesMax: 10_485_760,
  valueBytesMax: 10_485_760,
  keyBytesMax: 65_536,
  keyDepthMax: 4_096,
  watchersMax: 10_000,
  watcherEventsMax: 100,
  pendingProposalsMax: 10_000,
  historyEventsMax: 1_000,
  syncIntervalMs: 500,
  headerBytesMax: 1_048_576,
  headersTimeoutMs: 10_000,
  requestReceiveTimeoutMs: 30_000,
  keepAliveTimeoutMs: 30_000,
  snapshotChunkBytesMax: 1_048_576,
  expireKeysPerEntry: 250,
  authCacheTtlMs: 60_000,
  authCacheEntriesMax: 1_000,
} as const satisfies Partial<MemberConfig>

/**
 * `given` completed with the defaults, including those derived from other fields:
 * `dataDir` = `${name}.arbor` (etcd: `${name}.etcd`); `initialCluster` =
 * `${name}=${url}` for each initial advertise peer URL; `requestTimeoutMs` =
 * 5000 + 2 × electionTimeoutMs (etcd's request timeout); `snapshotCount` 0 = 100000 (as
 * etcd's server does). The result is not validated yet: see `memberConfigSchema`.
 */
export function withDefaults(given: Partial<MemberConfig>): MemberConfig {
  const name = given.name ?? memberDefaults.name
  const initialAdvertisePeerUrls = given.initialAdvertisePeerUrls ?? memberDefaults.initialAdvertisePeerUrls
  const electionTimeoutMs = given.electionTimeoutMs ?? memberDefaults.electionTimeoutMs
  return {
    ...memberDefaults,
    ...limitDefaults,
    ...given,
    name,
    dataDir: given.dataDir ?? `${name}.arbor`,
    initialAdvertisePeerUrls,
    initialCluster: given.initialCluster ?? [{ name, peerUrls: initialAdvertisePeerUrls }],
    electionTimeoutMs,
    requestTimeoutMs: given.requestTimeoutMs ?? 5000 + 2 * electionTimeoutMs,
    snapshotCount: given.snapshotCount === undefined || given.snapshotCount === 0 ? memberDefaults.snapshotCount : given.snapshotCount,
  }
}

/**
 * A valid `MemberConfig`: the defaults with `overrides` on top, for tests and for code
 * that embeds a member. Throws zod's error on an invalid override (a bug in the caller,
 * not an operator's mistake, so not a `ConfigError`).
 */
export function memberConfigWith(overrides: Partial<MemberConfig> = {}): MemberConfig {
  return memberConfigSchema.parse(withDefaults(overrides))
}
