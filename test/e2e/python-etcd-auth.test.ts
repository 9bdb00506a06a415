/**
 * Goal: python-etcd's `etcd.auth` module (Debian's python3-etcd 0.4.5: EtcdUser, EtcdRole,
 * Auth) and its authenticated clients work against arbor's v2 auth.
 *
 * Method: one member; `python/auth_scenario.py` drives the module and prints what the client
 * saw as JSON. The same script run against etcd 3.4 printed the same, except that etcd's
 * default guest role lets the anonymous read through (arbor's guest has no permission).
 */
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { removeDir, startArbor, type ArborProcess } from '../support/arbor-process.js'

const scriptPath = resolve(import.meta.dirname, 'python/auth_scenario.py')
const python = ['/usr/bin/python3', 'python3', 'python'].find(
  (candidate) => spawnSync(candidate, ['-c', 'import etcd'], { stdio: 'ignore' }).status === 0,
)

let member: ArborProcess | undefined

before(async () => {
  member = await startArbor()
})

after(async () => {
  if (member === undefined) return
  await member.stop()
  removeDir(join(member.dataDir, '..')) // startArbor's temporary directory, around data/
})

test('python-etcd manages users, roles and auth, and its authenticated clients read and are refused as granted', { timeout: 60_000 }, () => {
  assert.ok(python !== undefined, "no interpreter here can import etcd: install Debian's python3-etcd package")
  assert.ok(member !== undefined)
  const url = new URL(member.clientUrl)
  const run = spawnSync(python, [scriptPath, url.hostname, url.port], { encoding: 'utf8', timeout: 50_000 })
  assert.equal(run.status, 0, run.stderr)
  assert.deepEqual(JSON.parse(run.stdout), {
    active: true,
    active_after: false,
    alice_read: '1',
    alice_write: 'EtcdInsufficientPermissions',
    anonymous_read: 'EtcdInsufficientPermissions',
    new_password_read: '1',
    revoked_acls: {},
    role_acls: { '/pub/*': 'R' },
    roles: ['reader', 'root'],
    users: ['alice', 'root'],
  })
})
