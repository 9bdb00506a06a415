// Goal: loadConfig combines flags, ETCD_*/ARBOR_* variables and the YAML config file with
// etcd 3.4.23's precedence and reports every mistake as one line naming the flag, variable
// or key and the value. Method: loadConfig with argv, an env object and an in-memory file
// reader; no process, no disk.
//
// Verified against the real etcd 3.4.23 (`/usr/bin/etcd`, temporary data dirs, ports
// 23379/23380), and mirrored here:
// - `--config-file a.yaml --name fromflag` runs with the file's name: with a config file,
//   other flags are ignored; so is ETCD_NAME. ETCD_CONFIG_FILE names the file when the
//   flag is absent; `--config-file` wins over ETCD_CONFIG_FILE, without a conflict error.
// - Flags are still parsed with a config file: `--config-file a.yaml --heartbeat-interval abc`
//   and `--config-file a.yaml --bogus` fail; a bad ETCD_HEARTBEAT_INTERVAL is not looked at.
// - Without a config file, ETCD_SNAPSHOT_COUNT=77 is used; ETCD_NAME plus `--name` is fatal
//   ("conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line
//   flag"); ETCD_BOGUS=1 only warns ("unrecognized environment variable").
// - ETCD_HEARTBEAT_INTERVAL=abc fails: `invalid value "abc" for ETCD_HEARTBEAT_INTERVAL`.
// - `--listen-client-urls` (or ETCD_LISTEN_CLIENT_URLS) without `--advertise-client-urls`
//   fails; a config file with listen-client-urls and no advertise-client-urls runs.
// - In the file, `heartbeat-interval: "100"` and a YAML list for listen-client-urls fail
//   (arbor accepts both, harmlessly); empty keys (`data-dir:`) take the default; an unknown
//   key is silently ignored (arbor refuses it: see "unknown key" below).
// - `--heartbeat-interval 300` (election 1000) fails: "--election-timeout[1000ms] should be
//   at least as 5 times as --heartbeat-interval[300ms]"; `--election-timeout 60000` is too
//   long (max 50000); `--heartbeat-interval 0`, `-5` and `1.5` fail.
// - `--cors http://foo.com` fails (no port); `--cors 'http://a.com:80,*'` fails; `*` passes.
// - `--name x` alone runs (initial cluster x=<advertise peer URLs>); `--name x
//   --initial-cluster default=...` fails: "couldn't find local name "x"".
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, loadConfig, type LoadOutcome, type MemberConfig } from '../../src/config/index.js'

type Env = Record<string, string | undefined>

/** A file reader over `files`; a missing file fails as Node's readFileSync does. */
function filesOf(files: Record<string, string> = {}): (path: string) => string {
  return (path) => {
    const text = files[path]
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`)
    return text
  }
}

function run(argv: string[], env: Env = {}, files: Record<string, string> = {}): Extract<LoadOutcome, { kind: 'run' }> {
  const outcome = loadConfig(argv, env, filesOf(files))
  assert.equal(outcome.kind, 'run')
  return outcome as Extract<LoadOutcome, { kind: 'run' }>
}

function configOf(argv: string[], env: Env = {}, files: Record<string, string> = {}): MemberConfig {
  return run(argv, env, files).config
}

function errorOf(argv: string[], env: Env = {}, files: Record<string, string> = {}): string {
  try {
    loadConfig(argv, env, filesOf(files))
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`)
    assert.ok(!error.message.includes('\n'), `more than one line: ${error.message}`)
    return error.message
  }
  assert.fail(`no error for ${JSON.stringify(argv)}`)
}

const peer = ['--listen-peer-urls', 'http://127.0.0.1:23380', '--initial-advertise-peer-urls', 'http://127.0.0.1:23380']

describe('defaults', () => {
  test('no flags: one member "default" serving http://127.0.0.1:2379, no warnings', () => {
    const { config, warnings } = run([])
    assert.equal(config.name, 'default')
    assert.equal(config.dataDir, 'default.arbor')
    assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:2379'])
    assert.deepEqual(config.listenPeerUrls, ['http://127.0.0.1:2380'])
    assert.deepEqual(config.initialCluster, [{ name: 'default', peerUrls: ['http://127.0.0.1:2380'] }])
    assert.deepEqual(warnings, [])
  })
  test('--name alone renames the data dir and the one-member cluster', () => {
    const config = configOf(['--name', 'x'])
    assert.equal(config.dataDir, 'x.arbor')
    assert.deepEqual(config.initialCluster, [{ name: 'x', peerUrls: ['http://127.0.0.1:2380'] }])
  })
})

describe('flags fill their fields', () => {
  const cases: { argv: string[]; field: keyof MemberConfig; want: unknown }[] = [
    { argv: ['--data-dir', '/var/lib/arbor'], field: 'dataDir', want: '/var/lib/arbor' },
    { argv: ['--listen-client-urls', 'http://0.0.0.0:2379', '--advertise-client-urls', 'http://10.0.0.1:2379'], field: 'listenClientUrls', want: ['http://0.0.0.0:2379'] },
    { argv: ['--advertise-client-urls', 'http://10.0.0.1:2379,https://a.example:443'], field: 'advertiseClientUrls', want: ['http://10.0.0.1:2379', 'https://a.example:443'] },
    { argv: ['--listen-peer-urls=http://0.0.0.0:2380'], field: 'listenPeerUrls', want: ['http://0.0.0.0:2380'] },
    { argv: ['--initial-cluster-state', 'existing'], field: 'initialClusterState', want: 'existing' },
    { argv: ['--initial-cluster-token', 'tok'], field: 'initialClusterToken', want: 'tok' },
    { argv: ['--heartbeat-interval', '50', '--election-timeout', '250'], field: 'heartbeatIntervalMs', want: 50 },
    { argv: ['--election-timeout=3000'], field: 'electionTimeoutMs', want: 3000 },
    { argv: ['--election-timeout=3000'], field: 'requestTimeoutMs', want: 11_000 },
    { argv: ['--snapshot-count', '10'], field: 'snapshotCount', want: 10 },
    { argv: ['--snapshot-count', '0'], field: 'snapshotCount', want: 100_000 },
    { argv: ['--cors', 'http://a.example:8080'], field: 'cors', want: ['http://a.example:8080'] },
    { argv: ['--cors='], field: 'cors', want: '*' },
    { argv: ['--log-level', 'debug'], field: 'logLevel', want: 'debug' },
    { argv: ['--enable-v2=true'], field: 'enableV2', want: true },
    { argv: ['--max-request-bytes', '33554432'], field: 'maxRequestBytes', want: 33_554_432 },
    { argv: ['--quota-backend-bytes', '8589934592'], field: 'quotaBackendBytes', want: 8_589_934_592 },
    { argv: ['--unsafe-no-fsync'], field: 'unsafeNoFsync', want: true },
    { argv: ['--force-new-cluster'], field: 'forceNewCluster', want: true },
    { argv: ['--request-body-bytes-max', '2048'], field: 'requestBodyBytesMax', want: 2048 },
    { argv: ['--value-bytes-max', '1024'], field: 'valueBytesMax', want: 1024 },
    { argv: ['--key-bytes-max', '512'], field: 'keyBytesMax', want: 512 },
    { argv: ['--key-depth-max', '64'], field: 'keyDepthMax', want: 64 },
    { argv: ['--watchers-max', '5'], field: 'watchersMax', want: 5 },
    { argv: ['--watcher-events-max', '7'], field: 'watcherEventsMax', want: 7 },
    { argv: ['--pending-proposals-max', '9'], field: 'pendingProposalsMax', want: 9 },
    { argv: ['--history-events-max', '5000'], field: 'historyEventsMax', want: 5000 },
    { argv: ['--request-timeout-ms', '1500'], field: 'requestTimeoutMs', want: 1500 },
    { argv: ['--sync-interval-ms', '100'], field: 'syncIntervalMs', want: 100 },
  ]
  for (const c of cases) {
    test(`${c.argv.join(' ')} → ${c.field} = ${JSON.stringify(c.want)}`, () => {
      assert.deepEqual(configOf(c.argv)[c.field], c.want)
    })
  }

  test('a three-member cluster from etcd\'s clustering guide', () => {
    const config = configOf([
      '--name', 'infra0', '--initial-advertise-peer-urls', 'http://10.0.1.10:2380',
      '--listen-peer-urls', 'http://10.0.1.10:2380',
      '--listen-client-urls', 'http://10.0.1.10:2379,http://127.0.0.1:2379',
      '--advertise-client-urls', 'http://10.0.1.10:2379',
      '--initial-cluster-token', 'etcd-cluster-1',
      '--initial-cluster', 'infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380',
      '--initial-cluster-state', 'new',
    ])
    assert.deepEqual(config.initialCluster.map((m) => m.name), ['infra0', 'infra1', 'infra2'])
    assert.deepEqual(config.listenClientUrls, ['http://10.0.1.10:2379', 'http://127.0.0.1:2379'])
  })
})

describe('environment variables', () => {
  test('ETCD_<FLAG> fills etcd\'s flags, ARBOR_<FLAG> arbor\'s own', () => {
    const config = configOf([], {
      ETCD_NAME: 'e1',
      ETCD_HEARTBEAT_INTERVAL: '200',
      ETCD_ELECTION_TIMEOUT: '2000',
      ETCD_INITIAL_CLUSTER_STATE: 'existing',
      ETCD_ENABLE_V2: 'true',
      ARBOR_VALUE_BYTES_MAX: '4096',
      ARBOR_HISTORY_EVENTS_MAX: '2000',
    })
    assert.equal(config.name, 'e1')
    assert.equal(config.heartbeatIntervalMs, 200)
    assert.equal(config.electionTimeoutMs, 2000)
    assert.equal(config.initialClusterState, 'existing')
    assert.equal(config.valueBytesMax, 4096)
    assert.equal(config.historyEventsMax, 2000)
  })
  test('a variable fills only a flag that is not on the command line', () => {
    const config = configOf(['--name', 'f'], { ETCD_SNAPSHOT_COUNT: '77' })
    assert.equal(config.name, 'f')
    assert.equal(config.snapshotCount, 77)
  })
  test('a variable and its flag both set is an error, as in etcd', () => {
    assert.equal(
      errorOf(['--name', 'x'], { ETCD_NAME: 'y' }),
      'conflicting environment variable ETCD_NAME is shadowed by --name (unset one of them)',
    )
  })
  test('an empty variable counts as unset', () => {
    assert.equal(configOf(['--name', 'x'], { ETCD_NAME: '' }).name, 'x')
  })
  test('a bad value names the variable', () => {
    assert.equal(
      errorOf([], { ETCD_HEARTBEAT_INTERVAL: 'abc' }),
      'invalid value "abc" for ETCD_HEARTBEAT_INTERVAL: expected a positive integer (ms)',
    )
    assert.equal(
      errorOf([], { ETCD_ENABLE_V2: 'yes' }),
      'invalid value "yes" for ETCD_ENABLE_V2: expected true or false',
    )
  })
  test('unknown ETCD_* and ARBOR_* variables warn; arbor\'s limits have no ETCD_ name', () => {
    const { warnings } = run([], { ETCD_BOGUS: '1', ETCD_VALUE_BYTES_MAX: '5', ARBOR_X: '1', ETCDCTL_API: '2', HOME: '/root' })
    assert.deepEqual(warnings, ['unrecognized environment variables: ARBOR_X, ETCD_BOGUS, ETCD_VALUE_BYTES_MAX'])
  })
  test('ignored etcd variables are accepted with a warning', () => {
    const { warnings } = run([], { ETCD_AUTO_COMPACTION_RETENTION: '1', ETCD_LOGGER: 'zap' })
    assert.deepEqual(warnings, ['accepted for etcd compatibility and ignored: ETCD_AUTO_COMPACTION_RETENTION, ETCD_LOGGER'])
  })
  test('ETCD_LISTEN_CLIENT_URLS needs an advertise URL too', () => {
    assert.equal(
      errorOf([], { ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:23379' }),
      '--advertise-client-urls is required when --listen-client-urls is set explicitly (by ETCD_LISTEN_CLIENT_URLS)',
    )
    const config = configOf([], { ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:23379', ETCD_ADVERTISE_CLIENT_URLS: 'http://127.0.0.1:23379' })
    assert.deepEqual(config.advertiseClientUrls, ['http://127.0.0.1:23379'])
  })
})

const fileText = `
name: fromyaml
data-dir:
listen-client-urls: http://127.0.0.1:23379
advertise-client-urls: http://127.0.0.1:23379
listen-peer-urls: http://127.0.0.1:23380
initial-advertise-peer-urls: http://127.0.0.1:23380
initial-cluster: fromyaml=http://127.0.0.1:23380
initial-cluster-state: new
heartbeat-interval: 50
election-timeout: 500
snapshot-count: 5000
cors: "http://a.example:8080"
log-level: warn
enable-v2: true
value-bytes-max: 1048576
`

describe('config file', () => {
  test("etcd's keys and arbor's limits are read", () => {
    const config = configOf(['--config-file', 'a.yaml'], {}, { 'a.yaml': fileText })
    assert.equal(config.name, 'fromyaml')
    assert.equal(config.dataDir, 'fromyaml.arbor')
    assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:23379'])
    assert.deepEqual(config.initialCluster, [{ name: 'fromyaml', peerUrls: ['http://127.0.0.1:23380'] }])
    assert.equal(config.heartbeatIntervalMs, 50)
    assert.equal(config.electionTimeoutMs, 500)
    assert.equal(config.snapshotCount, 5000)
    assert.deepEqual(config.cors, ['http://a.example:8080'])
    assert.equal(config.logLevel, 'warn')
    assert.equal(config.valueBytesMax, 1_048_576)
  })
  test('ETCD_CONFIG_FILE names the file when the flag is absent', () => {
    assert.equal(configOf([], { ETCD_CONFIG_FILE: 'a.yaml' }, { 'a.yaml': fileText }).name, 'fromyaml')
  })
  test('--config-file wins over ETCD_CONFIG_FILE', () => {
    const files = { 'a.yaml': fileText, 'b.yaml': 'name: b\n' }
    assert.equal(configOf(['--config-file', 'a.yaml'], { ETCD_CONFIG_FILE: 'b.yaml' }, files).name, 'fromyaml')
  })
  test('the file is used alone: other flags and variables are ignored, with one warning', () => {
    const { config, warnings } = run(
      ['--config-file', 'a.yaml', '--name', 'fromflag', '--wal-dir', '/w'],
      { ETCD_SNAPSHOT_COUNT: '7', ARBOR_WATCHERS_MAX: '3', ETCD_HEARTBEAT_INTERVAL: 'abc', PATH: '/bin' },
      { 'a.yaml': fileText },
    )
    assert.equal(config.name, 'fromyaml')
    assert.equal(config.snapshotCount, 5000)
    assert.equal(config.watchersMax, 10_000)
    assert.deepEqual(warnings, [
      'ignored because the config file a.yaml is used alone (as etcd does): --name, --wal-dir, ' +
        'ARBOR_WATCHERS_MAX, ETCD_HEARTBEAT_INTERVAL, ETCD_SNAPSHOT_COUNT',
    ])
  })
  test('flags are still checked when a config file is given, as etcd parses them first', () => {
    const files = { 'a.yaml': fileText }
    assert.equal(
      errorOf(['--config-file', 'a.yaml', '--heartbeat-interval', 'abc'], {}, files),
      'invalid value "abc" for --heartbeat-interval: expected a positive integer (ms)',
    )
    assert.equal(errorOf(['--config-file', 'a.yaml', '--bogus'], {}, files), 'unknown flag --bogus (see arbor --help)')
  })
  test('an empty or null key takes the default; an empty file is all defaults', () => {
    assert.equal(configOf(['--config-file', 'e.yaml'], {}, { 'e.yaml': '' }).name, 'default')
    assert.equal(configOf(['--config-file', 'e.yaml'], {}, { 'e.yaml': '# nothing\n' }).name, 'default')
    const config = configOf(['--config-file', 'n.yaml'], {}, { 'n.yaml': 'name:\ncors: ""\nheartbeat-interval: null\n' })
    assert.equal(config.name, 'default')
    assert.equal(config.cors, '*')
    assert.equal(config.heartbeatIntervalMs, 100)
  })
  test('listen-client-urls without advertise-client-urls is fine in a file (etcd agrees)', () => {
    const config = configOf(['--config-file', 'h.yaml'], {}, { 'h.yaml': 'listen-client-urls: http://127.0.0.1:23379\n' })
    assert.deepEqual(config.advertiseClientUrls, ['http://127.0.0.1:2379'])
  })
  test('numbers, booleans and lists written as YAML strings or lists are accepted', () => {
    const text = 'heartbeat-interval: "100"\nenable-v2: "false"\nlisten-client-urls: [http://127.0.0.1:1]\nadvertise-client-urls: [http://a:1]\n'
    const { config, warnings } = run(['--config-file', 'l.yaml'], {}, { 'l.yaml': text })
    assert.equal(config.heartbeatIntervalMs, 100)
    assert.equal(config.enableV2, false)
    assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:1'])
    assert.deepEqual(warnings, ['enable-v2=false is ignored: arbor always serves the v2 API'])
  })
  test("ignored etcd keys and empty TLS sections (etcd's sample file) are accepted", () => {
    const text = [
      'wal-dir:', 'max-snapshots: 5', 'strict-reconfig-check: false', 'proxy: "off"', 'discovery:',
      'log-outputs: [stderr]', 'cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]',
      'client-transport-security:', '  cert-file:', '  key-file:', '  client-cert-auth: false',
      '  trusted-ca-file:', '  auto-tls: false', 'peer-transport-security:', '  cert-file: ""', '',
    ].join('\n')
    const { warnings } = run(['--config-file', 's.yaml'], {}, { 's.yaml': text })
    assert.deepEqual(warnings, [
      'accepted for etcd compatibility and ignored: max-snapshots, strict-reconfig-check, log-outputs in s.yaml',
    ])
  })
})

describe('one-line errors', () => {
  const files = {
    'unknown.yaml': 'name: a\nheartbeat-intreval: 100\n',
    'bad.yaml': 'a: [1,\n',
    'dup.yaml': 'name: a\nname: b\n',
    'list.yaml': '- 1\n- 2\n',
    'type.yaml': 'heartbeat-interval: abc\n',
    'urls.yaml': 'listen-client-urls: http://127.0.0.1:2379/x\n',
    'tls.yaml': 'client-transport-security:\n  cert-file: /etc/ssl/c.pem\n',
    'tlskey.yaml': 'peer-transport-security:\n  ca-file: x\n',
    'tlsshape.yaml': 'peer-transport-security: yes\n',
    'cors.yaml': 'cors: http://foo.com\n',
    'level.yaml': 'log-level: verbose\n',
    'version.yaml': 'version: true\n',
    'cert.yaml': 'cert-file: /c.pem\n',
    'bomb.yaml': ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefghij'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`), ''].join('\n'),
  }
  const cases: { argv: string[]; env?: Env; message: string }[] = [
    { argv: ['--heartbeat-interval', 'abc'], message: 'invalid value "abc" for --heartbeat-interval: expected a positive integer (ms)' },
    { argv: ['--heartbeat-interval', '0'], message: 'invalid value "0" for --heartbeat-interval: expected a positive integer (ms)' },
    { argv: ['--heartbeat-interval', '-5'], message: 'invalid value "-5" for --heartbeat-interval: expected a positive integer (ms)' },
    { argv: ['--heartbeat-interval', '1.5'], message: 'invalid value "1.5" for --heartbeat-interval: expected a positive integer (ms)' },
    { argv: ['--heartbeat-interval', '300'], message: 'invalid value "1000" for --election-timeout (default): must be at least 5 times heartbeat-interval (300 ms), as etcd requires' },
    { argv: ['--heartbeat-interval', '300', '--election-timeout', '1000'], message: 'invalid value "1000" for --election-timeout: must be at least 5 times heartbeat-interval (300 ms), as etcd requires' },
    { argv: ['--headers-timeout-ms', '40000'], message: 'invalid value "40000" for --headers-timeout-ms: must be at most request-receive-timeout-ms (30000 ms): the headers are part of the request' },
    { argv: ['--election-timeout', '60000'], message: 'invalid value "60000" for --election-timeout: expected a positive integer (ms) no greater than 50000' },
    { argv: ['--snapshot-count', 'x'], message: 'invalid value "x" for --snapshot-count: expected a non-negative integer (entries)' },
    { argv: ['--max-request-bytes', 'abc'], message: 'invalid value "abc" for --max-request-bytes: expected a non-negative integer (bytes)' },
    { argv: ['--value-bytes-max', '0'], message: 'invalid value "0" for --value-bytes-max: expected a positive integer (bytes)' },
    { argv: ['--history-events-max', '999'], message: 'invalid value "999" for --history-events-max: expected an integer of at least 1000 (etcd keeps the last 1000 events)' },
    { argv: ['--enable-v2=yes'], message: 'invalid value "yes" for --enable-v2: expected true or false' },
    { argv: ['--version=maybe'], message: 'invalid value "maybe" for --version: expected true or false' },
    { argv: ['--log-level', 'verbose'], message: 'invalid value "verbose" for --log-level: expected one of debug, info, warn, error, panic, fatal' },
    { argv: ['--initial-cluster-state', 'bogus'], message: 'invalid value "bogus" for --initial-cluster-state: expected new or existing' },
    { argv: ['--name', ''], message: 'invalid value "" for --name: expected a non-empty member name' },
    { argv: ['--data-dir='], message: 'invalid value "" for --data-dir: expected a non-empty directory path' },
    { argv: ['--cors', 'http://foo.com'], message: 'invalid value "http://foo.com" for --cors: URL address does not have the form "host:port": http://foo.com' },
    { argv: ['--cors', 'foo.com'], message: 'invalid value "foo.com" for --cors: not a URL of the form scheme://host:port: foo.com' },
    { argv: ['--cors', 'http://a.com:80,*'], message: 'invalid value "http://a.com:80,*" for --cors: not a URL of the form scheme://host:port: *' },
    { argv: ['--listen-client-urls', '127.0.0.1:23379', '--advertise-client-urls', 'http://a:1'], message: 'invalid value "127.0.0.1:23379" for --listen-client-urls: not a URL of the form scheme://host:port: 127.0.0.1:23379' },
    { argv: ['--listen-client-urls', 'http://127.0.0.1:23379/x', '--advertise-client-urls', 'http://a:1'], message: 'invalid value "http://127.0.0.1:23379/x" for --listen-client-urls: URL must not contain a path, query or fragment: http://127.0.0.1:23379/x' },
    { argv: ['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'http://a:1'], message: 'invalid value "https://127.0.0.1:2379" for --listen-client-urls: TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme (or use --auto-tls)' },
    { argv: ['--listen-peer-urls', 'http://example.com:2380'], message: 'invalid value "http://example.com:2380" for --listen-peer-urls: URL host must be an IP address or localhost to listen on: http://example.com:2380' },
    { argv: ['--advertise-client-urls', 'ftp://a:1'], message: 'invalid value "ftp://a:1" for --advertise-client-urls: URL scheme must be http or https: ftp://a:1' },
    { argv: ['--listen-client-urls', 'http://127.0.0.1:23379'], message: '--advertise-client-urls is required when --listen-client-urls is set explicitly' },
    { argv: ['--initial-cluster', 'foo'], message: 'invalid value "foo" for --initial-cluster: expected name=URL items separated by commas, got "foo"' },
    { argv: ['--name', 'x', '--initial-cluster', 'default=http://127.0.0.1:2380'], message: 'invalid value "default=http://127.0.0.1:2380" for --initial-cluster: must list this member\'s name "x"' },
    { argv: [...peer, '--initial-cluster', 'default=http://localhost:2380'], message: 'invalid value "default=http://localhost:2380" for --initial-cluster: lists default=http://localhost:2380 but initial-advertise-peer-urls is http://127.0.0.1:23380; they must be the same URLs' },
    { argv: ['--name', 'a', '--initial-cluster', 'a=http://127.0.0.1:2380,a=http://127.0.0.1:2380'], message: 'invalid value "a=http://127.0.0.1:2380,a=http://127.0.0.1:2380" for --initial-cluster: peer URL listed twice: http://127.0.0.1:2380' },
    { argv: ['--cert-file', '/c.pem'], message: 'invalid value "/c.pem" for --cert-file: needs --key-file too: KeyFile and CertFile must both be present' },
    { argv: ['--client-cert-auth'], message: 'invalid value "true" for --client-cert-auth: needs --trusted-ca-file: the CA that signs the client certificates' },
    { argv: ['--proxy', 'on'], message: 'invalid value "on" for --proxy: arbor has no proxy mode; only "off" is accepted' },
    { argv: ['--discovery', 'https://discovery.etcd.io/x'], message: 'invalid value "https://discovery.etcd.io/x" for --discovery: arbor does not implement discovery; use --initial-cluster' },
    { argv: [], env: { ETCD_KEY_FILE: '/k.pem' }, message: 'invalid value "/k.pem" for ETCD_KEY_FILE: needs --cert-file too: KeyFile and CertFile must both be present' },
    { argv: [], env: { ARBOR_WATCHERS_MAX: '-1' }, message: 'invalid value "-1" for ARBOR_WATCHERS_MAX: expected a positive integer (watchers)' },
    { argv: ['--config-file', 'missing.yaml'], message: "cannot read config file missing.yaml: ENOENT: no such file or directory, open 'missing.yaml'" },
    { argv: ['--config-file', 'unknown.yaml'], message: 'unknown key "heartbeat-intreval" in unknown.yaml (did you mean heartbeat-interval?)' },
    { argv: ['--config-file', 'bad.yaml'], message: 'invalid YAML in bad.yaml: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1' },
    { argv: ['--config-file', 'dup.yaml'], message: 'invalid YAML in dup.yaml: Map keys must be unique at line 2, column 1' },
    { argv: ['--config-file', 'list.yaml'], message: 'config file list.yaml must be a YAML mapping of keys to values' },
    { argv: ['--config-file', 'type.yaml'], message: 'invalid value "abc" for heartbeat-interval in type.yaml: expected a positive integer (ms)' },
    { argv: ['--config-file', 'urls.yaml'], message: 'invalid value "http://127.0.0.1:2379/x" for listen-client-urls in urls.yaml: URL must not contain a path, query or fragment: http://127.0.0.1:2379/x' },
    { argv: ['--config-file', 'tls.yaml'], message: 'invalid value "/etc/ssl/c.pem" for client-transport-security.cert-file in tls.yaml: needs --key-file too: KeyFile and CertFile must both be present' },
    { argv: ['--config-file', 'tlskey.yaml'], message: 'unknown key "peer-transport-security.ca-file" in tlskey.yaml' },
    { argv: ['--config-file', 'tlsshape.yaml'], message: 'invalid value "yes" for peer-transport-security in tlsshape.yaml: expected a mapping of TLS settings' },
    { argv: ['--config-file', 'cors.yaml'], message: 'invalid value "http://foo.com" for cors in cors.yaml: URL address does not have the form "host:port": http://foo.com' },
    { argv: ['--config-file', 'level.yaml'], message: 'invalid value "verbose" for log-level in level.yaml: expected one of debug, info, warn, error, panic, fatal' },
    { argv: ['--config-file', 'version.yaml'], message: 'unknown key "version" in version.yaml' },
    { argv: ['--config-file', 'bomb.yaml'], message: 'invalid YAML in bomb.yaml: Excessive alias count indicates a resource exhaustion attack' },
    { argv: ['--config-file', 'cert.yaml'], message: 'invalid value "/c.pem" for cert-file in cert.yaml: needs --key-file too: KeyFile and CertFile must both be present' },
  ]
  for (const c of cases) {
    test(`${[...c.argv, ...Object.keys(c.env ?? {})].join(' ')}: ${c.message}`, () => {
      assert.equal(errorOf(c.argv, c.env, files), c.message)
    })
  }

  test('a long value is cut in the message, which stays on one line', () => {
    const message = errorOf(['--initial-cluster', `a=${'x'.repeat(300)}\nb`])
    assert.ok(message.length < 400)
    assert.match(message, /^invalid value "a=x+\.\.\. for --initial-cluster: /)
  })
})

describe('help, version and warnings', () => {
  test('--help gives the help text', () => {
    const outcome = loadConfig(['--help'], {}, filesOf())
    assert.equal(outcome.kind, 'help')
    assert.match(outcome.kind === 'help' ? outcome.text : '', /^Usage: arbor \[flags\]/)
  })
  test('--version asks for the version, after every flag is checked', () => {
    assert.deepEqual(loadConfig(['--version', '--name', 'x'], {}, filesOf()), { kind: 'version' })
    assert.equal(errorOf(['--version', '--bogus']), 'unknown flag --bogus (see arbor --help)')
    assert.equal(loadConfig(['--version=false'], {}, filesOf()).kind, 'run')
  })
  test('--version does not read the config file', () => {
    assert.deepEqual(loadConfig(['--version', '--config-file', 'missing.yaml'], {}, filesOf()), { kind: 'version' })
  })
  test('ignored etcd flags and values that ask for nothing run, with a warning for the ignored', () => {
    const { warnings } = run(['--auto-compaction-retention', '1', '--pre-vote', '--cert-file=', '--proxy', 'off', '--host-whitelist', '*', '--client-cert-auth=false'])
    assert.deepEqual(warnings, ['accepted for etcd compatibility and ignored: --auto-compaction-retention, --pre-vote'])
  })
  test('unsafe-no-fsync and enable-v2=false warn', () => {
    assert.deepEqual(run(['--unsafe-no-fsync', '--enable-v2=false']).warnings, [
      'enable-v2=false is ignored: arbor always serves the v2 API',
      'unsafe-no-fsync is on: a crash may lose acknowledged writes',
    ])
  })
})
