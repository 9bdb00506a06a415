/**
 * Goal: the comparer accepts a server that differs from etcd only where the spec allows,
 * and reports every other difference with its group, step and a readable diff.
 * Method: hand-made recordings and runs (no server, no ports) fed to `compareGroup`.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { GroupBuilder, K } from './case-builder.js'
import { compareGroup } from './compare.js'
import type { GroupRun } from './runner.js'
import type { Group, Outcome, Recording, StepRecord } from './types.js'

const t0 = Date.parse('2030-01-01T00:00:00.000Z')
const etcdUrls = { clientUrl: 'http://127.0.0.1:2379', peerUrl: 'http://127.0.0.1:2380' }
const serverUrls = { clientUrl: 'http://127.0.0.1:5001', peerUrl: 'http://127.0.0.1:5002' }

function json(status: number, index: number | undefined, body: string): Outcome {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-etcd-cluster-id': 'cdf818194e3a8c32' }
  if (index !== undefined) headers['x-etcd-index'] = String(index)
  return { kind: 'response', status, headers, framing: 'length', body }
}

function rec(id: string, sent: string, outcome: Outcome, extra: Partial<StepRecord> = {}): StepRecord {
  return { id, sent, indexTemplated: false, sentAtMs: t0, outcome, ...extra }
}

function recording(group: Group, steps: StepRecord[]): Recording {
  return { group: group.name, sections: '', etcdVersion: '3.4.23', recordedAt: '', ...etcdUrls, firstWriteIndex: 4, steps }
}

function run(steps: GroupRun['steps'], firstWriteIndex = 1): GroupRun {
  return { steps, offset: firstWriteIndex - 4, firstWriteIndex }
}

const setBody = (i: number, v = '1') => `{"action":"set","node":{"key":"/a","value":"${v}","modifiedIndex":${i},"createdIndex":${i}}}\n`

/** PUT /a then GET /a, as etcd (index 4) and as a server counting from 1. */
function twoSteps(): { group: Group; etcd: StepRecord[]; server: StepRecord[] } {
  const group = new GroupBuilder('g', '').put(K('/a'), 'value=1').get(K('/a')).build()
  const getBody = (i: number) => `{"action":"get","node":{"key":"/a","value":"1","modifiedIndex":${i},"createdIndex":${i}}}\n`
  const etcd = [rec('PUT /v2/keys/a [value=1]', 'PUT /v2/keys/a', json(201, 4, setBody(4))), rec('GET /v2/keys/a', 'GET /v2/keys/a', json(200, 4, getBody(4)))]
  const server = [rec('PUT /v2/keys/a [value=1]', 'PUT /v2/keys/a', json(201, 1, setBody(1))), rec('GET /v2/keys/a', 'GET /v2/keys/a', json(200, 1, getBody(1)))]
  return { group, etcd, server }
}

describe('compareGroup', () => {
  test('a server whose indexes differ by a constant conforms', () => {
    const { group, etcd, server } = twoSteps()
    const result = compareGroup(group, recording(group, etcd), run(server), serverUrls)
    assert.deepEqual(result.mismatches, [])
    assert.equal(result.compared, 2)
  })

  test('a different body is reported with the step and both texts', () => {
    const { group, etcd, server } = twoSteps()
    server[1] = rec('GET /v2/keys/a', 'GET /v2/keys/a', json(200, 1, '{"action":"get","node":{"key":"/a","value":"2","modifiedIndex":1,"createdIndex":1}}\n'))
    const [m, ...rest] = compareGroup(group, recording(group, etcd), run(server), serverUrls).mismatches
    assert.equal(rest.length, 0)
    assert.equal(m?.step, '#1 GET /v2/keys/a')
    assert.match(m?.diff ?? '', /expected: .*\\"value\\":\\"1\\"/)
    assert.match(m?.diff ?? '', /actual: {3}.*\\"value\\":\\"2\\"/)
  })

  test('a status or header difference is shown line by line', () => {
    const { group, etcd, server } = twoSteps()
    const getBody = '{"action":"get","node":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}\n'
    server[1] = rec('GET /v2/keys/a', 'GET /v2/keys/a', json(201, 1, getBody))
    const diff = compareGroup(group, recording(group, etcd), run(server), serverUrls).mismatches[0]?.diff ?? ''
    assert.match(diff, /- 200/)
    assert.match(diff, /\+ 201/)
  })

  test('an index drift is reported once, then followed', () => {
    const group = new GroupBuilder('g', '').put(K('/a'), 'value=1').put(K('/a'), 'value=2').get(K('/a')).build()
    const getBody = (i: number) => `{"action":"get","node":{"key":"/a","value":"2","modifiedIndex":${i},"createdIndex":${i}}}\n`
    const etcd = [rec('1', 'PUT /v2/keys/a', json(201, 4, setBody(4))), rec('2', 'PUT /v2/keys/a', json(200, 5, setBody(5, '2'))), rec('3', 'GET /v2/keys/a', json(200, 5, getBody(5)))]
    const server = [rec('1', 'PUT /v2/keys/a', json(201, 1, setBody(1))), rec('2', 'PUT /v2/keys/a', json(200, 3, setBody(3, '2'))), rec('3', 'GET /v2/keys/a', json(200, 3, getBody(3)))]
    const g2 = { ...group, steps: group.steps.map((s, i) => ({ ...s, id: String(i + 1) })) }
    const mismatches = compareGroup(g2, recording(g2, etcd), run(server), serverUrls).mismatches
    assert.equal(mismatches.length, 1)
    assert.match(mismatches[0]?.diff ?? '', /index drift: .* ahead by 1/)
  })

  test('ttl within one second and expiration within the tolerance conform; beyond, they do not', () => {
    const group = new GroupBuilder('g', '').put(K('/t'), 'value=v&ttl=100').build()
    const withTtl = (index: number, expiration: string, ttl: number) =>
      json(201, index, `{"action":"set","node":{"key":"/t","value":"v","expiration":"${expiration}","ttl":${ttl},"modifiedIndex":${index},"createdIndex":${index}}}\n`)
    const etcd = [rec('PUT /v2/keys/t [value=v&ttl=100]', 'PUT /v2/keys/t', withTtl(4, '2030-01-01T00:01:40.0001Z', 100))]
    const close = [rec('PUT /v2/keys/t [value=v&ttl=100]', 'PUT /v2/keys/t', withTtl(1, '2030-01-01T00:01:41.5Z', 99))]
    assert.deepEqual(compareGroup(group, recording(group, etcd), run(close), serverUrls).mismatches, [])
    const far = [rec('PUT /v2/keys/t [value=v&ttl=100]', 'PUT /v2/keys/t', withTtl(1, '2030-01-01T00:01:50Z', 97))]
    const diff = compareGroup(group, recording(group, etcd), run(far), serverUrls).mismatches[0]?.diff ?? ''
    assert.match(diff, /expiration #0/)
    assert.match(diff, /ttl #0: expected 100 ± 1, got 97/)
  })

  test('unordered listings compare as sets; sorted ones in order', () => {
    const listing = (order: string[]) => `{"action":"get","node":{"key":"/l","dir":true,"nodes":[${order.map((k) => `{"key":"/l/${k}","value":"1","modifiedIndex":4,"createdIndex":4}`).join(',')}],"modifiedIndex":4,"createdIndex":4}}\n`
    const group = new GroupBuilder('g', '').put(K('/l/a'), 'value=1').get(K('/l'), undefined, { vary: { unordered: true } }).get(K('/l'), 'sorted=true').build()
    const ids = group.steps.map((s) => s.id)
    const etcd = [rec(ids[0] ?? '', 'PUT /v2/keys/l/a', json(201, 4, setBody(4))), rec(ids[1] ?? '', 'GET /v2/keys/l', json(200, 4, listing(['b', 'a']))), rec(ids[2] ?? '', 'GET /v2/keys/l?sorted=true', json(200, 4, listing(['a', 'b'])))]
    const server = [rec(ids[0] ?? '', 'PUT /v2/keys/l/a', json(201, 4, setBody(4))), rec(ids[1] ?? '', 'GET /v2/keys/l', json(200, 4, listing(['a', 'b']))), rec(ids[2] ?? '', 'GET /v2/keys/l?sorted=true', json(200, 4, listing(['b', 'a'])))]
    const mismatches = compareGroup(group, recording(group, etcd), { steps: server, offset: 0, firstWriteIndex: 4 }, serverUrls).mismatches
    assert.deepEqual(mismatches.map((m) => m.step), [`#2 ${ids[2] ?? ''}`])
  })

  test('store stats compare as changes, and getsFail may leave out etcd\'s auth lookups (Q26)', () => {
    const stats = (gets: number, getsFail: number) => `{"getsSuccess":${gets},"getsFail":${getsFail},"watchers":0}`
    const group = new GroupBuilder('g', '')
      .put(K('/a'), 'value=1')
      .get('/v2/stats/store', undefined, { id: 's0', vary: { statsSince: 's0' } })
      .get(K('/a'))
      .get('/v2/stats/store', undefined, { id: 's1', vary: { statsSince: 's0' } })
      .build()
    const etcd = [
      rec(group.steps[0]?.id ?? '', 'PUT /v2/keys/a', json(201, 4, setBody(4))),
      rec('s0', 'GET /v2/stats/store', json(200, undefined, stats(2, 3))),
      rec(group.steps[2]?.id ?? '', 'GET /v2/keys/a', json(200, 4, '{"action":"get"}\n')),
      rec('s1', 'GET /v2/stats/store', json(200, undefined, stats(3, 4))),
    ]
    const server = (getsFail: number): StepRecord[] => [
      rec(group.steps[0]?.id ?? '', 'PUT /v2/keys/a', json(201, 1, setBody(1))),
      rec('s0', 'GET /v2/stats/store', json(200, undefined, stats(0, 0))),
      rec(group.steps[2]?.id ?? '', 'GET /v2/keys/a', json(200, 1, '{"action":"get"}\n')),
      rec('s1', 'GET /v2/stats/store', json(200, undefined, stats(1, getsFail))),
    ]
    assert.deepEqual(compareGroup(group, recording(group, etcd), run(server(0)), serverUrls).mismatches, [])
    assert.deepEqual(compareGroup(group, recording(group, etcd), run(server(1)), serverUrls).mismatches, [])
    assert.equal(compareGroup(group, recording(group, etcd), run(server(2)), serverUrls).mismatches.length, 1)
  })

  test('framing matters for small answers only', () => {
    const { group, etcd, server } = twoSteps()
    const chunked = (o: Outcome): Outcome => (o.kind === 'response' ? { ...o, framing: 'chunked' } : o)
    const s1 = server[1]
    assert.ok(s1 !== undefined)
    server[1] = { ...s1, outcome: chunked(s1.outcome) }
    const diff = compareGroup(group, recording(group, etcd), run(server), serverUrls).mismatches[0]?.diff ?? ''
    assert.match(diff, /framing: expected length, got chunked/)
  })

  test('skipped quirk steps are not compared', () => {
    const { group, etcd, server } = twoSteps()
    const result = compareGroup(group, recording(group, etcd), run([server[0] as StepRecord, { id: 'GET /v2/keys/a', skipped: 'Q19' }]), serverUrls)
    assert.deepEqual(result.mismatches, [])
    assert.equal(result.compared, 1)
  })

  test('a recording that does not match the cases asks to re-record', () => {
    const { group, etcd, server } = twoSteps()
    const [m] = compareGroup(group, recording(group, etcd.slice(0, 1)), run(server), serverUrls).mismatches
    assert.match(m?.diff ?? '', /re-run scripts\/record-conformance\.ts/)
  })
})
