// Goal: every field of MemberConfig has its default, derived defaults follow the fields
// they come from, every named limit refuses 0, negative and fractional values at its edge,
// and the cross-field rules hold. Method: field schemas and the whole schema called
// directly, in tables.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  configFields,
  fieldSchema,
  limitDefaults,
  memberConfigSchema,
  memberConfigWith,
  memberDefaults,
  withDefaults,
  type ConfigField,
} from '../../src/config/schema.js'
import { bindAddressOf } from '../../src/config/urls.js'

function problemOf(field: ConfigField, raw: unknown): string | undefined {
  const result = fieldSchema(field).safeParse(raw)
  return result.success ? undefined : result.error.issues[0]?.message
}

describe('defaults', () => {
  const config = memberConfigSchema.parse(withDefaults({}))

  test('are valid, and every field has one', () => {
    assert.deepEqual(Object.keys(config).sort(), [...configFields].sort())
    for (const field of configFields) assert.notEqual(config[field], undefined, field)
  })

  test("are etcd 3.4.23's member defaults", () => {
    assert.equal(config.name, 'default')
    assert.equal(config.initialClusterState, 'new')
    assert.equal(config.initialClusterToken, 'etcd-cluster')
    assert.equal(config.heartbeatIntervalMs, 100)
    assert.equal(config.electionTimeoutMs, 1000)
    assert.equal(config.snapshotCount, 100_000)
    assert.equal(config.cors, '*')
    assert.equal(config.logLevel, 'info')
    assert.equal(config.maxRequestBytes, 1_572_864)
    assert.equal(config.quotaBackendBytes, 0)
    assert.equal(config.unsafeNoFsync, false)
  })

  test('serve clients on 127.0.0.1:2379 and peers on 127.0.0.1:2380, as etcd binds them', () => {
    assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:2379'])
    assert.deepEqual(config.advertiseClientUrls, ['http://127.0.0.1:2379'])
    assert.deepEqual(config.listenPeerUrls, ['http://127.0.0.1:2380'])
    assert.deepEqual(config.initialAdvertisePeerUrls, ['http://127.0.0.1:2380'])
    assert.deepEqual(bindAddressOf(config.listenClientUrls[0] ?? ''), { host: '127.0.0.1', port: 2379 })
    assert.deepEqual(bindAddressOf(config.listenPeerUrls[0] ?? ''), { host: '127.0.0.1', port: 2380 })
  })

  test('derive the data dir, the one-member cluster and the request timeout', () => {
    assert.equal(config.dataDir, 'default.arbor')
    assert.deepEqual(config.initialCluster, [{ name: 'default', peerUrls: ['http://127.0.0.1:2380'] }])
    assert.equal(config.requestTimeoutMs, 7000)
  })

  test('derived defaults follow the fields they come from', () => {
    const urls = ['http://10.0.0.1:2380', 'http://10.0.0.2:2380']
    const derived = withDefaults({ name: 'n1', initialAdvertisePeerUrls: urls, electionTimeoutMs: 2500 })
    assert.equal(derived.dataDir, 'n1.arbor')
    assert.deepEqual(derived.initialCluster, [{ name: 'n1', peerUrls: urls }])
    assert.equal(derived.requestTimeoutMs, 10_000)
  })

  test('snapshot-count 0 means the default, as in etcd', () => {
    assert.equal(withDefaults({ snapshotCount: 0 }).snapshotCount, 100_000)
    assert.equal(withDefaults({ snapshotCount: 5 }).snapshotCount, 5)
  })

  test('the static defaults are the values of the defaults tables', () => {
    for (const [field, value] of Object.entries({ ...memberDefaults, ...limitDefaults })) {
      assert.deepEqual(config[field as ConfigField], value, field)
    }
  })
})

describe('named limits', () => {
  const limits: { field: ConfigField; value: number; min: number; unit: string }[] = [
    { field: 'requestBodyBytesMax', value: 10_485_760, min: 1, unit: 'bytes' },
    { field: 'valueBytesMax', value: 10_485_760, min: 1, unit: 'bytes' },
    { field: 'keyBytesMax', value: 65_536, min: 1, unit: 'bytes' },
    { field: 'keyDepthMax', value: 4_096, min: 1, unit: 'segments' },
    { field: 'watchersMax', value: 10_000, min: 1, unit: 'watchers' },
    { field: 'watcherEventsMax', value: 100, min: 1, unit: 'events' },
    { field: 'pendingProposalsMax', value: 10_000, min: 1, unit: 'proposals' },
    { field: 'historyEventsMax', value: 1_000, min: 1_000, unit: 'events' },
    { field: 'requestTimeoutMs', value: 7_000, min: 1, unit: 'ms' },
    { field: 'syncIntervalMs', value: 500, min: 1, unit: 'ms' },
    { field: 'headerBytesMax', value: 1_048_576, min: 1, unit: 'bytes' },
    { field: 'headersTimeoutMs', value: 10_000, min: 1, unit: 'ms' },
    { field: 'requestReceiveTimeoutMs', value: 30_000, min: 1, unit: 'ms' },
    { field: 'keepAliveTimeoutMs', value: 30_000, min: 1, unit: 'ms' },
    { field: 'snapshotChunkBytesMax', value: 1_048_576, min: 1, unit: 'bytes' },
    { field: 'expireKeysPerEntry', value: 250, min: 1, unit: 'keys' },
  ]
  const config = memberConfigSchema.parse(withDefaults({}))

  for (const limit of limits) {
    test(`${limit.field} defaults to ${limit.value} and accepts ${limit.min}, its edge`, () => {
      assert.equal(config[limit.field], limit.value)
      assert.equal(problemOf(limit.field, limit.min), undefined)
      assert.equal(problemOf(limit.field, String(limit.min)), undefined)
      assert.equal(problemOf(limit.field, Number.MAX_SAFE_INTEGER), undefined)
    })
    test(`${limit.field} refuses ${limit.min - 1}, negatives, fractions and words`, () => {
      for (const bad of [limit.min - 1, -1, 0, String(limit.min - 1), '-1', limit.min + 0.5, '1.5', 'abc', '', '1e3', true, null]) {
        const problem = problemOf(limit.field, bad)
        assert.ok(problem !== undefined, `${limit.field} accepted ${JSON.stringify(bad)}`)
        assert.match(problem, limit.min === 1 ? new RegExp(`^expected a positive integer \\(${limit.unit}\\)$`) : /at least 1000/)
      }
    })
  }
})

describe('field schemas', () => {
  const cases: { field: ConfigField; raw: unknown; want?: unknown; problem?: string }[] = [
    { field: 'heartbeatIntervalMs', raw: '250', want: 250 },
    { field: 'heartbeatIntervalMs', raw: 250, want: 250 },
    { field: 'heartbeatIntervalMs', raw: 'abc', problem: 'expected a positive integer (ms)' },
    { field: 'heartbeatIntervalMs', raw: '0', problem: 'expected a positive integer (ms)' },
    { field: 'electionTimeoutMs', raw: '50000', want: 50_000 },
    { field: 'electionTimeoutMs', raw: '50001', problem: 'expected a positive integer (ms) no greater than 50000' },
    { field: 'snapshotCount', raw: '0', want: 0 },
    { field: 'snapshotCount', raw: '-1', problem: 'expected a non-negative integer (entries)' },
    { field: 'quotaBackendBytes', raw: '-5', want: -5 },
    { field: 'enableV2', raw: 'true', want: true },
    { field: 'enableV2', raw: 'F', want: false },
    { field: 'enableV2', raw: '1', want: true },
    { field: 'enableV2', raw: 'yes', problem: 'expected true or false' },
    { field: 'unsafeNoFsync', raw: false, want: false },
    { field: 'logLevel', raw: 'warn', want: 'warn' },
    { field: 'logLevel', raw: 'verbose', problem: 'expected one of debug, info, warn, error, panic, fatal' },
    { field: 'initialClusterState', raw: 'existing', want: 'existing' },
    { field: 'initialClusterState', raw: 'bogus', problem: 'expected new or existing' },
    { field: 'name', raw: '', problem: 'expected a non-empty member name' },
    { field: 'name', raw: 7, problem: 'expected a non-empty member name' },
    { field: 'initialClusterToken', raw: '', want: '' },
    { field: 'listenClientUrls', raw: 'http://127.0.0.1:1, http://127.0.0.1:1,http://[::1]:2', want: ['http://127.0.0.1:1', 'http://[::1]:2'] },
    { field: 'listenClientUrls', raw: '', problem: 'empty URL in the list' },
    { field: 'listenClientUrls', raw: 'http://127.0.0.1:1,', problem: 'empty URL in the list' },
    { field: 'advertiseClientUrls', raw: ['https://a:1'], want: ['https://a:1'] },
    { field: 'advertiseClientUrls', raw: [], problem: 'expected a comma-separated list of URLs' },
    { field: 'cors', raw: '', want: '*' },
    { field: 'cors', raw: ' * ', want: '*' },
    { field: 'cors', raw: 'http://a.example:8080,https://b.example:443', want: ['http://a.example:8080', 'https://b.example:443'] },
    { field: 'cors', raw: 'http://a.com:80,*', problem: 'not a URL of the form scheme://host:port: *' },
    { field: 'initialCluster', raw: 'a=http://a:1', want: [{ name: 'a', peerUrls: ['http://a:1'] }] },
    { field: 'initialCluster', raw: '', problem: 'expected at least one name=URL item' },
    { field: 'initialCluster', raw: 'a=http://x:1,b=http://x:1', problem: 'peer URL listed twice: http://x:1' },
    { field: 'initialCluster', raw: 'a=x', problem: 'not a URL of the form scheme://host:port: x' },
  ]
  for (const c of cases) {
    test(`${c.field} ${JSON.stringify(c.raw)} → ${c.problem ?? JSON.stringify(c.want)}`, () => {
      const result = fieldSchema(c.field).safeParse(c.raw)
      if (c.problem !== undefined) assert.equal(result.error?.issues[0]?.message, c.problem)
      else assert.deepEqual(result.data, c.want)
    })
  }

  test('every field accepts its own output again (the whole config is validated twice)', () => {
    const config = memberConfigSchema.parse(withDefaults({ cors: ['http://a:1'] }))
    assert.deepEqual(memberConfigSchema.parse(config), config)
  })
})

describe('memberConfigWith', () => {
  test('gives the defaults with overrides on top, derived defaults following them', () => {
    const config = memberConfigWith({ name: 'm', watchersMax: 3 })
    assert.equal(config.watchersMax, 3)
    assert.equal(config.dataDir, 'm.arbor')
    assert.deepEqual(memberConfigWith(), memberConfigSchema.parse(withDefaults({})))
  })
  test('throws on an invalid override', () => {
    assert.throws(() => memberConfigWith({ watchersMax: 0 }))
  })
})

describe('cross-field rules', () => {
  const messageOf = (given: Parameters<typeof withDefaults>[0]) => {
    const result = memberConfigSchema.safeParse(withDefaults(given))
    const issue = result.error?.issues[0]
    return issue === undefined ? undefined : { path: issue.path, message: issue.message }
  }

  test('election timeout of exactly 5 heartbeats is accepted', () => {
    assert.equal(messageOf({ heartbeatIntervalMs: 200, electionTimeoutMs: 1000 }), undefined)
  })
  test('election timeout under 5 heartbeats is refused, blaming election-timeout as etcd does', () => {
    assert.deepEqual(messageOf({ heartbeatIntervalMs: 300, electionTimeoutMs: 1000 }), {
      path: ['electionTimeoutMs'],
      message: 'must be at least 5 times heartbeat-interval (300 ms), as etcd requires',
    })
  })
  test('a headers timeout above the request-receive timeout is refused; equal is accepted', () => {
    assert.deepEqual(messageOf({ headersTimeoutMs: 2_001, requestReceiveTimeoutMs: 2_000 }), {
      path: ['headersTimeoutMs'],
      message: 'must be at most request-receive-timeout-ms (2000 ms): the headers are part of the request',
    })
    assert.equal(messageOf({ headersTimeoutMs: 2_000, requestReceiveTimeoutMs: 2_000 }), undefined)
  })
  test('the initial cluster must name this member', () => {
    assert.deepEqual(messageOf({ name: 'x', initialCluster: [{ name: 'default', peerUrls: ['http://127.0.0.1:2380'] }] }), {
      path: ['initialCluster'],
      message: 'must list this member\'s name "x"',
    })
  })
  test("a new cluster lists exactly this member's advertised peer URLs", () => {
    const initialCluster = [{ name: 'default', peerUrls: ['http://127.0.0.1:9999'] }]
    assert.deepEqual(messageOf({ initialCluster }), {
      path: ['initialCluster'],
      message: 'lists default=http://127.0.0.1:9999 but initial-advertise-peer-urls is http://127.0.0.1:2380; they must be the same URLs',
    })
    assert.equal(messageOf({ initialCluster, initialClusterState: 'existing' }), undefined)
  })
  test('the URLs of this member may be listed in any order', () => {
    const urls = ['http://10.0.0.1:2380', 'http://10.0.0.2:2380']
    const initialCluster = [{ name: 'default', peerUrls: [...urls].reverse() }]
    assert.equal(messageOf({ initialAdvertisePeerUrls: urls, initialCluster }), undefined)
  })
})
