// Goal: every etcd 3.4.23 member flag and config-file key is known to arbor (as a setting,
// ignored, or accepted only when empty), every MemberConfig field has one flag, and every
// variable name follows etcd's rule. Method: the flag tables compared with the lists below,
// taken from `etcd --help` of the installed etcd 3.4.23 and the flag set and YAML keys of
// its source (etcdmain/config.go, embed/config.go at v3.4.23).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { envNameOf, etcdFlagsIgnored, etcdFlagsUnsupported, flagSpecs, flagSpecsByEnv, settingFlagOf } from '../../src/config/flags.js'
import { configFields } from '../../src/config/schema.js'

/** etcd 3.4.23's flags (`etcd --help`, plus the flags it registers without help text). */
const etcdFlags = [
  'name', 'data-dir', 'wal-dir', 'snapshot-count', 'heartbeat-interval', 'election-timeout',
  'initial-election-tick-advance', 'listen-peer-urls', 'listen-client-urls', 'max-snapshots',
  'max-wals', 'quota-backend-bytes', 'backend-batch-interval', 'backend-batch-limit', 'max-txn-ops',
  'max-request-bytes', 'max-concurrent-streams', 'grpc-keepalive-min-time', 'grpc-keepalive-interval',
  'grpc-keepalive-timeout', 'initial-advertise-peer-urls', 'initial-cluster', 'initial-cluster-state',
  'initial-cluster-token', 'advertise-client-urls', 'discovery', 'discovery-fallback', 'discovery-proxy',
  'discovery-srv', 'discovery-srv-name', 'strict-reconfig-check', 'pre-vote', 'auto-compaction-retention',
  'auto-compaction-mode', 'enable-v2', 'cert-file', 'key-file', 'client-cert-auth', 'client-crl-file',
  'client-cert-allowed-hostname', 'trusted-ca-file', 'auto-tls', 'peer-cert-file', 'peer-key-file',
  'peer-client-cert-auth', 'peer-trusted-ca-file', 'peer-cert-allowed-cn', 'peer-cert-allowed-hostname',
  'peer-auto-tls', 'peer-crl-file', 'cipher-suites', 'cors', 'host-whitelist', 'auth-token', 'bcrypt-cost',
  'auth-token-ttl', 'enable-pprof', 'metrics', 'listen-metrics-urls', 'logger', 'log-outputs', 'log-level',
  'proxy', 'proxy-failure-wait', 'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout',
  'proxy-read-timeout', 'experimental-initial-corrupt-check', 'experimental-corrupt-check-time',
  'experimental-enable-v2v3', 'experimental-backend-bbolt-freelist-type',
  'experimental-enable-lease-checkpoint', 'experimental-compaction-batch-limit',
  'experimental-peer-skip-client-san-verification', 'experimental-watch-progress-notify-interval',
  'experimental-warning-apply-duration', 'force-new-cluster', 'debug', 'log-package-levels',
  'config-file', 'version',
  // registered without help text
  'unsafe-no-fsync', 'enable-grpc-gateway', 'log-output', 'experimental-enable-lease-checkpoint-persist',
  // etcd 2 flags etcd 3.4 accepts and ignores
  'cluster-active-size', 'cluster-remove-delay', 'cluster-sync-interval', 'config', 'force',
  'max-result-buffer', 'max-retry-attempts', 'peer-heartbeat-interval', 'peer-election-timeout',
  'retry-interval', 'snapshot', 'v', 'vv',
]

/** etcd 3.4.23's top-level config-file keys (json tags of embed.Config and configProxy). */
const etcdYamlKeys = [
  'advertise-client-urls', 'auth-token', 'auth-token-ttl', 'auto-compaction-mode',
  'auto-compaction-retention', 'backend-batch-interval', 'backend-batch-limit', 'bcrypt-cost',
  'cipher-suites', 'cors', 'data-dir', 'debug', 'discovery', 'discovery-proxy', 'discovery-srv',
  'discovery-srv-name', 'election-timeout', 'enable-grpc-gateway', 'enable-pprof', 'enable-v2',
  'experimental-backend-bbolt-freelist-type', 'experimental-compaction-batch-limit',
  'experimental-corrupt-check-time', 'experimental-enable-lease-checkpoint',
  'experimental-enable-lease-checkpoint-persist', 'experimental-enable-v2v3',
  'experimental-initial-corrupt-check', 'experimental-warning-apply-duration',
  'experimental-watch-progress-notify-interval', 'force-new-cluster', 'grpc-keepalive-interval',
  'grpc-keepalive-min-time', 'grpc-keepalive-timeout', 'heartbeat-interval', 'host-whitelist',
  'initial-advertise-peer-urls', 'initial-cluster', 'initial-cluster-state', 'initial-cluster-token',
  'initial-election-tick-advance', 'listen-client-urls', 'listen-metrics-urls', 'listen-peer-urls',
  'log-level', 'log-output', 'log-outputs', 'log-package-levels', 'logger', 'max-concurrent-streams',
  'max-request-bytes', 'max-snapshots', 'max-txn-ops', 'max-wals', 'metrics', 'name', 'pre-vote',
  'quota-backend-bytes', 'snapshot-count', 'strict-reconfig-check', 'unsafe-no-fsync', 'wal-dir',
  'proxy', 'proxy-failure-wait', 'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout',
  'proxy-read-timeout', 'discovery-fallback',
]

describe('flag tables', () => {
  test('every etcd 3.4.23 flag is known', () => {
    assert.deepEqual(etcdFlags.filter((name) => !flagSpecs.has(name)), [])
  })
  test("every etcd 3.4.23 config-file key is a known flag that is not a control flag", () => {
    const unknown = etcdYamlKeys.filter((key) => flagSpecs.get(key) === undefined || flagSpecs.get(key)?.role === 'control')
    assert.deepEqual(unknown, [])
  })
  test('the only flags beyond etcd 3.4\'s are etcd 3.5\'s --tls-min-version and arbor\'s limits and auth settings, all settings', () => {
    const extra = [...flagSpecs.keys()].filter((name) => !etcdFlags.includes(name))
    assert.deepEqual(extra, [
      'tls-min-version', 'request-body-bytes-max', 'value-bytes-max', 'key-bytes-max', 'key-depth-max', 'watchers-max',
      'watcher-events-max', 'pending-proposals-max', 'history-events-max', 'request-timeout-ms', 'sync-interval-ms',
      'header-bytes-max', 'headers-timeout-ms', 'request-receive-timeout-ms', 'keep-alive-timeout-ms',
      'snapshot-chunk-bytes-max', 'expire-keys-per-entry',
      'auth-guest-access', 'auth-cache-ttl-ms', 'auth-cache-entries-max',
    ])
    for (const name of extra) assert.equal(flagSpecs.get(name)?.role, 'setting', name)
  })
  test('every MemberConfig field has exactly one setting flag', () => {
    const settings = [...flagSpecs.values()].filter((spec) => spec.role === 'setting')
    assert.equal(settings.length, configFields.length)
    for (const field of configFields) assert.equal(settingFlagOf.get(field)?.field, field)
  })
  test('the ignored set and the unsupported set are exactly the flags of those roles', () => {
    for (const spec of flagSpecs.values()) {
      assert.equal(etcdFlagsIgnored.has(spec.name), spec.role === 'ignored', spec.name)
      assert.equal(etcdFlagsUnsupported.has(spec.name), spec.role === 'unsupported', spec.name)
    }
  })
  test('help lines state each setting\'s default', () => {
    for (const spec of flagSpecs.values()) {
      if (spec.role !== 'setting') continue
      assert.match(spec.help, /\(default: [^)]+\)$/, spec.name)
      assert.doesNotMatch(spec.help, /undefined/, spec.name)
    }
  })
})

describe('environment variable names', () => {
  const cases = [
    { flag: 'name', env: 'ETCD_NAME' },
    { flag: 'initial-advertise-peer-urls', env: 'ETCD_INITIAL_ADVERTISE_PEER_URLS' },
    { flag: 'heartbeat-interval', env: 'ETCD_HEARTBEAT_INTERVAL' },
    { flag: 'unsafe-no-fsync', env: 'ETCD_UNSAFE_NO_FSYNC' },
    { flag: 'config-file', env: 'ETCD_CONFIG_FILE' },
    { flag: 'auto-compaction-retention', env: 'ETCD_AUTO_COMPACTION_RETENTION' },
    { flag: 'cert-file', env: 'ETCD_CERT_FILE' },
    { flag: 'peer-client-cert-auth', env: 'ETCD_PEER_CLIENT_CERT_AUTH' },
    { flag: 'tls-min-version', env: 'ETCD_TLS_MIN_VERSION' },
    { flag: 'value-bytes-max', env: 'ARBOR_VALUE_BYTES_MAX' },
    { flag: 'request-timeout-ms', env: 'ARBOR_REQUEST_TIMEOUT_MS' },
  ]
  for (const c of cases) {
    test(`--${c.flag} is ${c.env}`, () => {
      assert.equal(flagSpecs.get(c.flag)?.env, c.env)
      assert.equal(flagSpecsByEnv.get(c.env)?.name, c.flag)
    })
  }
  test("etcd's rule: prefix, then the flag upper-cased with '-' as '_'", () => {
    for (const spec of flagSpecs.values()) {
      const prefix = spec.env.startsWith('ARBOR_') ? 'ARBOR' : 'ETCD'
      assert.equal(spec.env, envNameOf(prefix, spec.name))
    }
  })
})
