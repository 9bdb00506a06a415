// Goal: the auth state's transitions and permission matching follow etcd 3.4's v2 rules
// (spec/v2-auth-and-security.md §1–3), minus the §5 bugs. Method: AuthStore over the
// in-memory backend, commands applied directly (as applied entries are), answers compared;
// the backend is reloaded to show that memory and backend agree.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AuthError, AuthStore, MemoryAuthBackend, parseBasic, patternMatches, patternMatchesRecursive, type AuthCommand } from '../../src/auth/index.js'

function fresh(): { store: AuthStore; backend: MemoryAuthBackend } {
  const backend = new MemoryAuthBackend()
  return { store: new AuthStore(backend), backend }
}

function errorOf(store: AuthStore, command: AuthCommand): [number, string] | undefined {
  try {
    store.apply(command)
    return undefined
  } catch (error) {
    assert.ok(error instanceof AuthError)
    return [error.status, error.message]
  }
}

const putUser = (name: string, o: Partial<Extract<AuthCommand, { op: 'putUser' }>> = {}): AuthCommand => ({
  op: 'putUser', mode: 'createOrUpdate', name, passwordHash: 'h', roles: null, grant: [], revoke: [], ...o,
})

describe('permission patterns', () => {
  const cases: [pattern: string, path: string, plain: boolean, recursive: boolean][] = [
    ['/foo', '/foo', true, false],
    ['/foo', '/foo/', false, false],
    ['/foo*', '/foo', true, true],
    ['/foo*', '/foobar', true, true],
    ['/foo/*', '/foo', false, false],
    ['/foo/*', '/foo/', true, true],
    ['/foo/*', '/foo/x/y', true, true],
    ['/*', '/anything', true, true],
    ['', '', false, false],
    ['', '/x', false, false],
  ]
  for (const [pattern, path, plain, recursive] of cases) {
    test(`${JSON.stringify(pattern)} on ${JSON.stringify(path)}: ${plain ? 'matches' : 'no match'}, recursive ${recursive ? 'matches' : 'no match'}`, () => {
      assert.equal(patternMatches(pattern, path), plain)
      assert.equal(patternMatchesRecursive(pattern, path), recursive)
    })
  }
})

describe('Basic credentials', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64')
  test('user up to the first colon, scheme case-insensitive, strict base64', () => {
    assert.deepEqual(parseBasic(`Basic ${b64('a:b:c')}`), { user: 'a', password: 'b:c' })
    assert.deepEqual(parseBasic(`bAsIc ${b64('a:')}`), { user: 'a', password: '' })
    assert.equal(parseBasic(`Basic ${b64('abc')}`), undefined)
    assert.equal(parseBasic(`Basic  ${b64('a:b')}`), undefined)
    assert.equal(parseBasic('Bearer x'), undefined)
    assert.equal(parseBasic('Basic !!'), undefined)
  })
})

describe('AuthStore', () => {
  test('users: create answers 201 with null roles, root gets the root role, duplicates and empty passwords refused', () => {
    const { store } = fresh()
    assert.deepEqual(store.apply(putUser('alice')), { kind: 'user', status: 201, name: 'alice', roles: null })
    assert.deepEqual(store.apply(putUser('bob', { mode: 'create', roles: ['r'] })), { kind: 'user', status: 200, name: 'bob', roles: ['r'] })
    assert.deepEqual(store.apply(putUser('root')), { kind: 'user', status: 201, name: 'root', roles: ['root'] })
    assert.deepEqual(errorOf(store, putUser('bob', { mode: 'create', roles: ['x'] })), [409, 'auth: User bob already exists.'])
    assert.deepEqual(errorOf(store, putUser('carol', { passwordHash: null })), [400, 'auth: Cannot create user carol with an empty password'])
    assert.deepEqual(errorOf(store, putUser('alice', { passwordHash: null })), [400, 'auth: User not updated. Use grant/revoke/password to update the user.'])
  })

  test('users: grant and revoke sort, refuse duplicates and ungranted roles; root keeps its role on reads', () => {
    const { store } = fresh()
    store.apply(putUser('root'))
    store.apply(putUser('u'))
    assert.deepEqual(store.apply(putUser('u', { mode: 'update', passwordHash: null, grant: ['b', 'a'] })), { kind: 'user', status: 200, name: 'u', roles: ['a', 'b'] })
    assert.deepEqual(errorOf(store, putUser('u', { mode: 'update', passwordHash: null, grant: ['a'] })), [409, 'auth: Granting duplicate role a for user u'])
    assert.deepEqual(errorOf(store, putUser('u', { mode: 'update', passwordHash: null, revoke: ['z'] })), [409, 'auth: Revoking ungranted role z for user u'])
    assert.deepEqual(errorOf(store, putUser('nobody', { mode: 'update', grant: ['a'] })), [404, 'auth: User nobody does not exist.'])
    assert.deepEqual(store.apply(putUser('root', { mode: 'update', passwordHash: null, revoke: ['root'] })), { kind: 'user', status: 200, name: 'root', roles: [] })
    assert.deepEqual(store.user('root')?.roles, ['root'])
  })

  test('enable needs root, creates guest per the guest access, refuses twice; root cannot be deleted while on', () => {
    const { store, backend } = fresh()
    assert.deepEqual(errorOf(store, { op: 'enable', guestAccess: 'none' }), [409, 'auth: No root user available, please create one'])
    store.apply(putUser('root'))
    store.apply({ op: 'enable', guestAccess: 'none' })
    assert.deepEqual(store.role('guest')?.permissions, { read: [], write: [] })
    assert.deepEqual(errorOf(store, { op: 'enable', guestAccess: 'none' }), [409, 'auth: already enabled'])
    assert.deepEqual(errorOf(store, { op: 'deleteUser', name: 'root' }), [403, 'auth: Cannot delete root user while auth is enabled.'])
    store.apply({ op: 'disable' })
    assert.deepEqual(errorOf(store, { op: 'disable' }), [409, 'auth: already disabled'])
    store.apply({ op: 'deleteRole', name: 'guest' })
    store.apply({ op: 'enable', guestAccess: 'readwrite' })
    assert.deepEqual(store.role('guest')?.permissions, { read: ['/*'], write: ['/*'] })
    const reloaded = new AuthStore(backend)
    assert.equal(reloaded.isEnabled(), true)
    assert.deepEqual(reloaded.allRoles().map((r) => r.name), ['guest', 'root'])
  })

  test('roles: root is built in, grant merges and sorts, revoke of nothing is "not updated"', () => {
    const { store } = fresh()
    assert.deepEqual(errorOf(store, { op: 'createRole', role: { name: 'root', permissions: { read: null, write: null } } }), [403, 'auth: Cannot modify role root: is root role.'])
    store.apply({ op: 'createRole', role: { name: 'w', permissions: { read: null, write: ['/b'] } } })
    const granted = store.apply({ op: 'updateRole', name: 'w', grant: { read: ['/x'], write: ['/a'] }, revoke: { read: null, write: null } })
    assert.deepEqual(granted, { kind: 'role', status: 200, role: { name: 'w', permissions: { read: ['/x'], write: ['/a', '/b'] } } })
    assert.deepEqual(errorOf(store, { op: 'updateRole', name: 'w', grant: { read: ['/x'], write: null }, revoke: { read: null, write: null } }), [409, 'auth: Granting duplicate read permission /x'])
    assert.deepEqual(errorOf(store, { op: 'updateRole', name: 'w', grant: { read: null, write: null }, revoke: { read: ['/no'], write: null } }), [400, 'auth: Role not updated. Use grant/revoke to update the role.'])
    assert.deepEqual(errorOf(store, { op: 'deleteRole', name: 'nope' }), [404, "auth: Role nope doesn't exist."])
  })

  test('allows: roles, guest, recursive rule for everyone, missing roles skipped, invalid never guest', () => {
    const { store } = fresh()
    store.apply(putUser('root'))
    store.apply({ op: 'createRole', role: { name: 'exact', permissions: { read: ['/dir'], write: null } } })
    store.apply({ op: 'createRole', role: { name: 'guest', permissions: { read: ['/dir', '/pub/*'], write: null } } })
    store.apply(putUser('d', { mode: 'create', roles: ['missing', 'exact'] }))
    assert.equal(store.allows({ kind: 'guest' }, '/anything', true, false), true, 'auth off: everything')
    store.apply({ op: 'enable', guestAccess: 'none' })
    const d = { kind: 'user', name: 'd' } as const
    assert.equal(store.allows(d, '/dir', false, false), true)
    assert.equal(store.allows(d, '/dir', false, true), false)
    assert.equal(store.allows(d, '/dir', true, false), false)
    assert.equal(store.allows({ kind: 'guest' }, '/dir', false, true), false, 'guest obeys the recursive rule (§5.4)')
    assert.equal(store.allows({ kind: 'guest' }, '/pub/', false, true), true)
    assert.equal(store.allows({ kind: 'invalid' }, '/pub/a', false, false), false)
    assert.equal(store.allows({ kind: 'user', name: 'root' }, '/x', true, true), true)
    assert.equal(store.isRoot(d), false)
    assert.equal(store.isRoot({ kind: 'user', name: 'root' }), true)
  })
})
