/**
 * Goal: v2 auth is replicated state: users, roles and the enabled flag changed through one
 * member hold on every member (once it has applied them: after a quorum read), survive a
 * restart, and reach a member that fell behind a log compaction (the snapshot carries them).
 *
 * Method: a 3-member cluster with `--snapshot-count 10`; requests through fetch with Basic
 * credentials; one member is stopped while more than 10 entries are committed, then started.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ArborCluster, type ClusterMember } from '../support/arbor-cluster.js'

let cluster: ArborCluster | undefined

function theCluster(): ArborCluster {
  assert(cluster !== undefined, 'the cluster was started in before()')
  return cluster
}

function basic(credentials: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }
}

const root = basic('root:rootpw')
const alice = basic('alice:alicepw')

async function call(member: ClusterMember, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<number> {
  const response = await fetch(member.clientUrl + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': path.startsWith('/v2/auth') ? 'application/json' : 'application/x-www-form-urlencoded', ...headers },
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(15_000),
  })
  await response.arrayBuffer()
  return response.status
}

/** A quorum read as root: afterwards `member` has applied everything committed before. */
async function caughtUp(member: ClusterMember): Promise<void> {
  assert.ok([200, 404].includes(await call(member, 'GET', '/v2/keys/?quorum=true', root)))
}

describe('v2 auth in a 3-member cluster', () => {
  before(async () => {
    cluster = await ArborCluster.start({ size: 3, extraArgs: ['--snapshot-count', '10'], logLevel: 'info' })
  })
  after(async () => {
    if (cluster !== undefined) await cluster.stop()
  })

  test('changes made through one member hold on the others, after a restart, and after a snapshot', { timeout: 120_000 }, async () => {
    const [n1, n2, n3] = theCluster().members
    assert(n1 !== undefined && n2 !== undefined && n3 !== undefined)
    assert.equal(await call(n1, 'PUT', '/v2/auth/users/root', {}, '{"user":"root","password":"rootpw"}'), 201)
    assert.equal(await call(n2, 'PUT', '/v2/auth/roles/reader', {}, '{"role":"reader","permissions":{"kv":{"read":["/pub/*"]}}}'), 201)
    assert.equal(await call(n3, 'PUT', '/v2/auth/users/alice', {}, '{"user":"alice","password":"alicepw","roles":["reader"]}'), 200)
    assert.equal(await call(n1, 'PUT', '/v2/keys/pub/a', {}, 'value=1'), 201)
    assert.equal(await call(n2, 'PUT', '/v2/auth/enable'), 200)
    for (const member of [n1, n2, n3]) {
      await caughtUp(member)
      assert.equal(await call(member, 'GET', '/v2/keys/pub/a'), 401, `${member.name}: anonymous refused`)
      assert.equal(await call(member, 'GET', '/v2/keys/pub/a', alice), 200, `${member.name}: alice reads`)
      assert.equal(await call(member, 'PUT', '/v2/keys/pub/a', alice, 'value=2'), 401, `${member.name}: alice cannot write`)
    }
    await theCluster().terminate(n1)
    await theCluster().restart(n1)
    await caughtUp(n1)
    assert.equal(await call(n1, 'GET', '/v2/keys/pub/a', alice), 200, 'after a restart')
    assert.equal(await call(n1, 'GET', '/v2/keys/pub/a'), 401, 'after a restart')
    // n3 misses more than snapshot-count entries, bob among them: it needs a snapshot.
    await theCluster().terminate(n3)
    await theCluster().waitForLeader([n1, n2], 20_000)
    assert.equal(await call(n1, 'PUT', '/v2/auth/users/bob', root, '{"user":"bob","password":"bobpw","roles":["reader"]}'), 200)
    for (let i = 0; i < 30; i++) assert.equal(await call(n2, 'PUT', `/v2/keys/pub/k${i}`, root, `value=${i}`), 201)
    await theCluster().restart(n3)
    await caughtUp(n3)
    assert.equal(await call(n3, 'GET', '/v2/keys/pub/k29', basic('bob:bobpw')), 200, 'bob, created while n3 was down, reads on n3')
    assert.equal(await call(n3, 'GET', '/v2/keys/pub/a'), 401, 'auth still on for n3')
    assert.match(n3.output(), /snapshot installed/, 'n3 caught up through a snapshot')
  })
})
