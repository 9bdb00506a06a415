/**
 * Every flag arbor knows — etcd 3.4.23's member flags (etcdmain/config.go) and arbor's
 * named limits — with its environment variable and its role, and the command-line parser.
 *
 * A flag is a `setting` (it fills a `MemberConfig` field), `ignored` (etcd's, accepted so
 * that existing command lines and config files work, without effect), `unsupported`
 * (etcd's, accepted only at a value that asks for nothing, because arbor cannot do what any
 * other value asks and ignoring it would silently weaken security), or `control`
 * (`--config-file`, `--version`). Any other flag is an error, as in etcd.
 *
 * Environment variables follow etcd's rule (pkg/flags/flag.go `FlagToEnv`): prefix, `_`,
 * the flag upper-cased with `-` as `_`. etcd's flags use `ETCD_`, arbor's own `ARBOR_`.
 * A flag's YAML key in the config file is the flag's name.
 */
import { limitDefaults, memberDefaults, type ConfigField } from './schema.js'

interface FlagBase {
  /** Flag name without dashes; also the config-file key. */
  readonly name: string
  /** Environment variable, e.g. `ETCD_HEARTBEAT_INTERVAL`. */
  readonly env: string
  /** A boolean flag takes no separate argument: `--x`, `--x=true`, `--x=false`. */
  readonly bool: boolean
}
export interface SettingFlag extends FlagBase {
  readonly role: 'setting'
  readonly field: ConfigField
  readonly help: string
}
export interface IgnoredFlag extends FlagBase {
  readonly role: 'ignored'
}
export interface UnsupportedFlag extends FlagBase {
  readonly role: 'unsupported'
  /** Values (besides empty, and false for a boolean flag) that ask for nothing. */
  readonly accepted: readonly string[]
  /** Why no other value is accepted; completes "invalid value ... for --x: ". */
  readonly reason: string
}
export interface ControlFlag extends FlagBase {
  readonly role: 'control'
  readonly help: string
}
export type FlagSpec = SettingFlag | IgnoredFlag | UnsupportedFlag | ControlFlag

/** `name` as an environment variable (etcd's FlagToEnv). */
export function envNameOf(prefix: 'ETCD' | 'ARBOR', name: string): string {
  return `${prefix}_${name.toUpperCase().replaceAll('-', '_')}`
}

type SettingRow = readonly [name: string, field: ConfigField, help: string]

/** etcd's flags that fill `MemberConfig`, in `--help` order. */
const etcdSettingRows: readonly SettingRow[] = [
  ['name', 'name', 'Human-readable name for this member.'],
  ['data-dir', 'dataDir', 'Path to the data directory (one SQLite database).'],
  ['listen-client-urls', 'listenClientUrls', 'List of URLs to listen on for client traffic.'],
  ['advertise-client-urls', 'advertiseClientUrls', "List of this member's client URLs to advertise to the public."],
  ['listen-peer-urls', 'listenPeerUrls', 'List of URLs to listen on for peer traffic.'],
  ['initial-advertise-peer-urls', 'initialAdvertisePeerUrls', "List of this member's peer URLs to advertise to the rest of the cluster."],
  ['initial-cluster', 'initialCluster', 'Initial cluster configuration for bootstrapping: name=url,name=url.'],
  ['initial-cluster-state', 'initialClusterState', "Initial cluster state ('new' or 'existing')."],
  ['initial-cluster-token', 'initialClusterToken', 'Initial cluster token for the cluster during bootstrap.'],
  ['heartbeat-interval', 'heartbeatIntervalMs', 'Time (in milliseconds) of a heartbeat interval.'],
  ['election-timeout', 'electionTimeoutMs', 'Time (in milliseconds) for an election to timeout; at least 5 heartbeats, at most 50000.'],
  ['snapshot-count', 'snapshotCount', 'Applied entries kept in the log for slow followers (0 means the default).'],
  ['cors', 'cors', 'Comma-separated list of origins for CORS (empty or * means allow all).'],
  ['host-whitelist', 'hostWhitelist', 'Comma-separated Host names accepted on plain-HTTP client listeners (* means any); others get 421.'],
  ['log-level', 'logLevel', 'Log level: debug, info, warn, error, panic or fatal.'],
  ['enable-v2', 'enableV2', 'Accepted for etcd compatibility; arbor always serves the v2 API.'],
  ['max-request-bytes', 'maxRequestBytes', 'Accepted and ignored (gRPC only in etcd); see --request-body-bytes-max.'],
  ['quota-backend-bytes', 'quotaBackendBytes', 'Accepted and ignored (a v3 setting in etcd).'],
  ['unsafe-no-fsync', 'unsafeNoFsync', 'Disables fsync (SQLite synchronous=OFF); unsafe, a crash may lose data.'],
  ['force-new-cluster', 'forceNewCluster', 'Force to create a new one-member cluster from this member\'s data.'],
  ['cert-file', 'certFile', 'Path to the client server TLS cert file (PEM).'],
  ['key-file', 'keyFile', 'Path to the client server TLS key file (PEM, unencrypted).'],
  ['trusted-ca-file', 'trustedCaFile', 'Path to the client server TLS trusted CA cert file; demands client certificates.'],
  ['client-cert-auth', 'clientCertAuth', 'Enable client cert authentication (needs --trusted-ca-file).'],
  ['auto-tls', 'autoTls', 'Client TLS using a generated self-signed certificate (in <data-dir>/fixtures/client).'],
  ['peer-cert-file', 'peerCertFile', 'Path to the peer server TLS cert file; also presented to peers.'],
  ['peer-key-file', 'peerKeyFile', 'Path to the peer server TLS key file (PEM, unencrypted).'],
  ['peer-trusted-ca-file', 'peerTrustedCaFile', 'Path to the peer server TLS trusted CA file.'],
  ['peer-client-cert-auth', 'peerClientCertAuth', 'Enable peer client cert authentication (needs --peer-trusted-ca-file).'],
  ['peer-auto-tls', 'peerAutoTls', 'Peer TLS using a generated self-signed certificate; peers are not verified.'],
  ['peer-cert-allowed-cn', 'peerCertAllowedCn', 'Required CN for client certs connecting to the peer endpoint.'],
  ['peer-cert-allowed-hostname', 'peerCertAllowedHostname', 'Allowed TLS hostname for inter peer authentication.'],
  ['cipher-suites', 'cipherSuites', "Comma-separated list of TLS 1.2 cipher suites (Go's names) for client and peer TLS."],
  ['tls-min-version', 'tlsMinVersion', "Minimum TLS version for client and peer TLS: TLS1.2 or TLS1.3 (etcd 3.5's flag)."],
]

/** arbor's named limits; their variables are `ARBOR_*`. */
const arborSettingRows: readonly SettingRow[] = [
  ['request-body-bytes-max', 'requestBodyBytesMax', "Largest client request body in bytes (etcd's v2 form limit)."],
  ['value-bytes-max', 'valueBytesMax', 'Largest value in bytes.'],
  ['key-bytes-max', 'keyBytesMax', 'Longest key path in bytes.'],
  ['key-depth-max', 'keyDepthMax', 'Most segments in a key path.'],
  ['watchers-max', 'watchersMax', 'Most watchers waiting on this member at once.'],
  ['watcher-events-max', 'watcherEventsMax', 'Events queued for one streaming watcher before it is dropped.'],
  ['pending-proposals-max', 'pendingProposalsMax', 'Most proposals waiting to be applied; beyond it writes fail fast.'],
  ['history-events-max', 'historyEventsMax', 'Events kept to answer waitIndex (at least 1000, as etcd keeps).'],
  ['request-timeout-ms', 'requestTimeoutMs', 'Time (in milliseconds) a write or quorum read waits before failing.'],
  ['sync-interval-ms', 'syncIntervalMs', 'Time (in milliseconds) between looks for expired TTL keys.'],
  ['header-bytes-max', 'headerBytesMax', 'Largest request header block in bytes, request line included (larger: 431).'],
  ['headers-timeout-ms', 'headersTimeoutMs', "Time (in milliseconds) to receive a request's headers."],
  ['request-receive-timeout-ms', 'requestReceiveTimeoutMs', 'Time (in milliseconds) to receive a whole request.'],
  ['keep-alive-timeout-ms', 'keepAliveTimeoutMs', 'Time (in milliseconds) an idle client connection stays open.'],
  ['snapshot-chunk-bytes-max', 'snapshotChunkBytesMax', 'Bytes of one chunk of a snapshot streamed to a follower that fell behind.'],
  ['expire-keys-per-entry', 'expireKeysPerEntry', 'Most keys one TTL expiry entry expires; more due keys take more entries.'],
  ['auth-guest-access', 'authGuestAccess', "Permissions of the guest role created when v2 auth is enabled: none, or readwrite (etcd's)."],
  ['auth-cache-ttl-ms', 'authCacheTtlMs', 'Time (in milliseconds) verified credentials are trusted without bcrypt.'],
  ['auth-cache-entries-max', 'authCacheEntriesMax', 'Most verified credentials remembered at once.'],
]

/** Boolean settings: they take no separate argument. */
const boolFields: ReadonlySet<ConfigField> = new Set([
  'enableV2', 'unsafeNoFsync', 'forceNewCluster', 'clientCertAuth', 'autoTls', 'peerClientCertAuth', 'peerAutoTls',
])

/**
 * etcd 3.4.23 flags that arbor accepts and ignores, so that existing etcd command lines
 * and config files work. Each is about a part arbor does not have (gRPC, v3, bbolt, WAL
 * files, auth tokens of v3, the v2 proxy, capnslog/zap logging, profiling) or tunes
 * something arbor decides otherwise. The last group is etcd 2's flags, which etcd 3.4
 * itself still accepts and ignores. Besides these, `--enable-v2`, `--max-request-bytes`
 * and `--quota-backend-bytes` are validated and kept in `MemberConfig` but have no effect.
 */
export const etcdFlagsIgnored: ReadonlySet<string> = new Set([
  'wal-dir', 'max-snapshots', 'max-wals', 'backend-batch-interval', 'backend-batch-limit',
  'max-txn-ops', 'max-concurrent-streams', 'grpc-keepalive-min-time', 'grpc-keepalive-interval',
  'grpc-keepalive-timeout', 'initial-election-tick-advance', 'discovery-fallback', 'discovery-proxy',
  'strict-reconfig-check', 'pre-vote', 'auto-compaction-retention', 'auto-compaction-mode',
  'experimental-peer-skip-client-san-verification', 'auth-token', 'bcrypt-cost',
  'auth-token-ttl', 'enable-pprof', 'metrics', 'listen-metrics-urls', 'logger', 'log-outputs',
  'log-output', 'debug', 'log-package-levels', 'enable-grpc-gateway', 'proxy-failure-wait',
  'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout', 'proxy-read-timeout',
  'experimental-initial-corrupt-check', 'experimental-corrupt-check-time',
  'experimental-backend-bbolt-freelist-type', 'experimental-enable-lease-checkpoint',
  'experimental-enable-lease-checkpoint-persist', 'experimental-compaction-batch-limit',
  'experimental-watch-progress-notify-interval', 'experimental-warning-apply-duration',
  // etcd 2 flags (etcdmain/config.go `ignored`)
  'cluster-active-size', 'cluster-remove-delay', 'cluster-sync-interval', 'config', 'force',
  'max-result-buffer', 'max-retry-attempts', 'peer-heartbeat-interval', 'peer-election-timeout',
  'retry-interval', 'snapshot', 'v', 'vv',
])

/** Ignored flags that are booleans in etcd (etcd 2's ignored flags behave as booleans too). */
const ignoredBoolFlags: ReadonlySet<string> = new Set([
  'initial-election-tick-advance', 'strict-reconfig-check', 'pre-vote', 'enable-pprof', 'debug',
  'experimental-peer-skip-client-san-verification', 'enable-grpc-gateway',
  'experimental-initial-corrupt-check', 'experimental-enable-lease-checkpoint',
  'experimental-enable-lease-checkpoint-persist', 'cluster-active-size', 'cluster-remove-delay',
  'cluster-sync-interval', 'config', 'force', 'max-result-buffer', 'max-retry-attempts',
  'peer-heartbeat-interval', 'peer-election-timeout', 'retry-interval', 'snapshot', 'v', 'vv',
])

const noCrl = 'arbor does not implement certificate revocation lists; remove it or leave it empty'
type UnsupportedRow = readonly [name: string, bool: boolean, accepted: readonly string[], reason: string]

/** etcd flags accepted only at a value that asks for nothing (empty, false, or listed). */
const unsupportedRows: readonly UnsupportedRow[] = [
  ['client-crl-file', false, [], noCrl],
  ['peer-crl-file', false, [], noCrl],
  ['client-cert-allowed-hostname', false, [], 'arbor does not check client certificate host names; remove it or leave it empty'],
  ['discovery', false, [], 'arbor does not implement discovery; use --initial-cluster'],
  ['discovery-srv', false, [], 'arbor does not implement DNS discovery; use --initial-cluster'],
  ['discovery-srv-name', false, [], 'arbor does not implement DNS discovery; use --initial-cluster'],
  ['proxy', false, ['off'], 'arbor has no proxy mode; only "off" is accepted'],
  ['experimental-enable-v2v3', false, [], 'arbor serves the v2 API from its own store; leave it empty'],
]

/** The etcd flags that `unsupportedRows` lists, with their reason. */
export const etcdFlagsUnsupported: ReadonlyMap<string, string> = new Map(unsupportedRows.map((r) => [r[0], r[3]]))

/** The default of `field` as `--help` shows it. */
function defaultTextOf(field: ConfigField): string {
  switch (field) {
    case 'dataDir': return '${name}.arbor'
    case 'initialCluster': return '${name}=${initial-advertise-peer-urls}'
    case 'requestTimeoutMs': return '5000 + 2 × election-timeout'
    default: {
      if (field === 'hostWhitelist') return '*'
      const value: unknown = field in memberDefaults ? memberDefaults[field as keyof typeof memberDefaults]
        : limitDefaults[field as keyof typeof limitDefaults]
      const text = Array.isArray(value) ? value.join(',') : String(value)
      return text === '' ? 'none' : text
    }
  }
}

function settingSpecs(rows: readonly SettingRow[], prefix: 'ETCD' | 'ARBOR'): SettingFlag[] {
  return rows.map(([name, field, help]) => ({
    role: 'setting', name, field, help: `${help} (default: ${defaultTextOf(field)})`,
    env: envNameOf(prefix, name), bool: boolFields.has(field),
  }))
}

/** Every flag by name. */
export const flagSpecs: ReadonlyMap<string, FlagSpec> = new Map(
  [
    ...settingSpecs(etcdSettingRows, 'ETCD'),
    ...settingSpecs(arborSettingRows, 'ARBOR'),
    ...[...etcdFlagsIgnored].map((name): IgnoredFlag => ({
      role: 'ignored', name, env: envNameOf('ETCD', name), bool: ignoredBoolFlags.has(name),
    })),
    ...unsupportedRows.map(([name, bool, accepted, reason]): UnsupportedFlag => ({
      role: 'unsupported', name, env: envNameOf('ETCD', name), bool, accepted, reason,
    })),
    { role: 'control', name: 'config-file', env: 'ETCD_CONFIG_FILE', bool: false,
      help: 'Path to the YAML config file (etcd keys); when given, other flags and variables are ignored.' },
    { role: 'control', name: 'version', env: 'ETCD_VERSION', bool: true, help: 'Print the version and exit.' },
  ].map((spec): [string, FlagSpec] => [spec.name, spec as FlagSpec]),
)

/** Every flag by environment variable. */
export const flagSpecsByEnv: ReadonlyMap<string, FlagSpec> = new Map([...flagSpecs.values()].map((s) => [s.env, s]))

/** The setting flag of each `MemberConfig` field. */
export const settingFlagOf: ReadonlyMap<ConfigField, SettingFlag> = new Map(
  [...flagSpecs.values()].flatMap((s) => (s.role === 'setting' ? [[s.field, s] as const] : [])),
)
