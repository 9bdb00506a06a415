// Goal: credentials are checked with bcrypt once, then served from a cache bounded in size
// and lifetime that any user change empties; failures are never cached. Method: an
// Authenticator over an AuthStore with real bcrypt hashes, a hand-moved clock.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AuthStore, Authenticator, MemoryAuthBackend, hashPassword } from '../../src/auth/index.js'

const header = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`

test('a verified header is cached until its lifetime ends, the oldest dropped beyond the size, all dropped on a user change', { timeout: 30_000 }, async () => {
  const store = new AuthStore(new MemoryAuthBackend())
  const hash = await hashPassword('pw')
  for (const name of ['a', 'b', 'c']) store.apply({ op: 'putUser', mode: 'createOrUpdate', name, passwordHash: hash, roles: null, grant: [], revoke: [] })
  let nowMs = 0
  const authenticator = new Authenticator(store, { cacheTtlMs: 1_000, cacheEntriesMax: 2 }, () => nowMs)
  assert.deepEqual((await authenticator.authenticate(header('a:pw'))).verified, true)
  assert.deepEqual(await authenticator.authenticate(header('a:pw')), { principal: { kind: 'user', name: 'a' }, user: 'a', verified: false })
  assert.equal((await authenticator.authenticate(header('a:bad'))).principal.kind, 'invalid')
  assert.equal((await authenticator.authenticate(header('a:bad'))).verified, true, 'failures are never cached')
  await authenticator.authenticate(header('b:pw'))
  await authenticator.authenticate(header('c:pw'))
  assert.equal(authenticator.cachedEntries, 2, 'bounded')
  assert.equal((await authenticator.authenticate(header('a:pw'))).verified, true, 'the oldest was dropped')
  nowMs += 1_001
  assert.equal((await authenticator.authenticate(header('a:pw'))).verified, true, 'expired')
  store.apply({ op: 'putUser', mode: 'createOrUpdate', name: 'a', passwordHash: await hashPassword('new'), roles: null, grant: [], revoke: [] })
  assert.equal((await authenticator.authenticate(header('a:pw'))).principal.kind, 'invalid', 'the old password stops at once')
  assert.equal((await authenticator.authenticate(undefined)).principal.kind, 'guest')
  assert.equal((await authenticator.authenticate('')).principal.kind, 'guest')
  assert.equal((await authenticator.authenticate('Basic')).principal.kind, 'invalid')
})
