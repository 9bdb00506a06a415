/**
 * Goal: three members talk to each other only over mutual TLS (`https://` peer URLs,
 * `--peer-cert-file`, `--peer-key-file`, `--peer-trusted-ca-file`, `--peer-client-cert-auth`):
 * they elect a leader, replicate writes, and survive a leader SIGKILL; a fourth process whose
 * certificate is not signed by the cluster's CA can neither join nor disturb it (the leader
 * and the term stay the same).
 *
 * Method: real members (child processes) on loopback; throwaway certificates made by openssl
 * at run time (test/support/tls-certs.ts); the stranger is started with
 * `--initial-cluster-state existing` against the cluster's peer URLs.
 */
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { ArborCluster, ClusterMember, v2Request } from '../support/arbor-cluster.js'
import { freePort, removeDir, tempDir } from '../support/arbor-process.js'
import { makeCa, makeLeaf } from '../support/tls-certs.js'

let dir = ''
let cluster: ArborCluster | undefined

before(async () => {
  dir = tempDir('arbor-peer-tls-')
  const ca = makeCa(dir, 'cluster')
  const peer = makeLeaf(ca, 'peer', 'arbor-member')
  cluster = await ArborCluster.start({
    size: 3,
    peerScheme: 'https',
    extraArgs: ['--peer-cert-file', peer.certFile, '--peer-key-file', peer.keyFile, '--peer-trusted-ca-file', ca.certFile, '--peer-client-cert-auth', '--peer-cert-allowed-cn', 'arbor-member'],
  })
})

after(async () => {
  await cluster?.stop()
  removeDir(dir)
})

test('a peer-TLS cluster elects, replicates, survives a leader SIGKILL, and keeps a stranger out', async () => {
  assert(cluster !== undefined)
  for (const member of cluster.members) assert.match(member.peerUrl, /^https:/)
  const leader = await cluster.waitForLeader()
  const put = await v2Request(leader.clientUrl, 'PUT', '/v2/keys/tls/a', { form: 'value=1' })
  assert.equal(put.status, 201)
  for (const member of cluster.members) await cluster.waitForIndex(member, put.etcdIndex)

  await cluster.kill(leader)
  const survivors = cluster.live()
  const next = await cluster.waitForLeader(survivors, 15_000)
  assert.notEqual(next.name, leader.name)
  const put2 = await v2Request(next.clientUrl, 'PUT', '/v2/keys/tls/b', { form: 'value=2' })
  assert.equal(put2.status, 201)
  for (const member of survivors) await cluster.waitForIndex(member, put2.etcdIndex)
  const termBefore = Number((await fetch(`${next.clientUrl}/v2/keys/`)).headers.get('x-raft-term'))
  assert.ok(termBefore > 0)

  // A stranger: a certificate from another CA, same CN, trying to join through the peer URLs.
  const strangerCa = makeCa(join(dir), 'stranger')
  const strangerCert = makeLeaf(strangerCa, 'stranger-peer', 'arbor-member')
  const stranger = new ClusterMember('rogue', await freePort(), await freePort(), join(dir, 'rogue'), {}, 'https')
  const initialCluster = [...survivors, stranger].map((m) => `${m.name}=${m.peerUrl}`).join(',')
  stranger.spawn([
    '--name', 'rogue', '--data-dir', stranger.dataDir,
    '--listen-client-urls', stranger.clientUrl, '--advertise-client-urls', stranger.clientUrl,
    '--listen-peer-urls', stranger.peerUrl, '--initial-advertise-peer-urls', stranger.peerUrl,
    '--initial-cluster', initialCluster, '--initial-cluster-state', 'existing',
    '--peer-cert-file', strangerCert.certFile, '--peer-key-file', strangerCert.keyFile, '--peer-trusted-ca-file', strangerCa.certFile,
  ])
  await stranger.waitForExit()
  assert.equal(stranger.exit.code, 2, stranger.output())
  assert.match(stranger.output(), /no peer answered/)

  const after = await cluster.waitForLeader(survivors)
  assert.equal(after.name, next.name)
  const termAfter = Number((await fetch(`${next.clientUrl}/v2/keys/`)).headers.get('x-raft-term'))
  assert.equal(termAfter, termBefore)
  const members = await v2Request(next.clientUrl, 'GET', '/v2/members')
  assert.equal(members.json.members.length, 3)
})
