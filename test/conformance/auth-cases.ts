/**
 * The v2 auth conformance cases (spec/v2-auth-and-security.md §1–4): the /v2/auth admin API,
 * and which routes answer what with auth on. Recorded from etcd 3.4.23 like every group.
 *
 * Two deliberate differences shape them:
 * - arbor is started with `--auth-guest-access readwrite` (`arborArgs`): etcd creates the
 *   `guest` role with read and write on `/*` when auth is enabled; arbor's default creates it
 *   with no permission at all (asserted by test/e2e/auth.test.ts).
 * - etcd keeps users and roles in its v2 store, so every auth change consumes etcd indexes;
 *   arbor keeps them beside the tree and its etcd index counts key changes only. The groups
 *   write a key after each batch of auth changes so that the index offset is learnt again
 *   (`indexDrift`), and compare key reads only after such a write.
 * Steps showing the etcd bugs of §5 carry `quirk` (replayed against etcd only); an empty
 * key pattern (§5.3), which arbor refuses with 400, is left out because later listings
 * would show it, and is asserted by test/e2e/auth.test.ts.
 */
import { GroupBuilder, K } from './case-builder.js'
import type { Group } from './types.js'

const json = { 'content-type': 'application/json' }

/** `Authorization: Basic base64(user:password)` as the header record of a step. */
export function basic(credentials: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` }
}

const root = basic('root:rootpw')
const alice = basic('alice:alicepw')
const bob = basic('bob:bobpw')
const dora = basic('dora:dorapw')

const arborArgs = ['--auth-guest-access', 'readwrite'] as const
const indexDrift = 'etcd stores users, roles and the enabled flag in its v2 store, so auth changes consume etcd indexes; arbor keeps them beside the tree'

/** JSON-bodied auth request options. */
function as(headers: Record<string, string> | undefined, note?: string) {
  return { headers: { ...json, ...(headers ?? {}) }, ...(note !== undefined ? { note } : {}) }
}

/** §2: the admin API with auth off, then on. */
function authAdmin(): Group {
  const g = new GroupBuilder('auth-admin', 'auth 1 2')
  g.put(K('/a'), 'value=1', undefined, { note: 'first write (etcd index 4)' })
  g.get('/v2/auth/enable')
  g.get('/v2/auth/users', undefined, { note: 'no users: null, not []' })
  g.get('/v2/auth/roles', undefined, { note: 'root is always listed' })
  g.put('/v2/auth/enable', undefined, undefined, { note: 'no root user yet: 409' })
  g.del('/v2/auth/enable', undefined, { note: 'already disabled: 409' })
  // Users.
  g.put('/v2/auth/users/alice', '{"user":"alice","password":"pw1"}', undefined, as(undefined, 'new user, password only: 201, roles null'))
  g.put('/v2/auth/users/alice', '{"user":"alice","password":"pw1"}', undefined, as(undefined, 'same password again: 200'))
  g.put('/v2/auth/users/alice', '{"user":"alice"}', undefined, as(undefined, 'nothing to change: 400'))
  g.put('/v2/auth/users/bob', '{"user":"bob","password":"pw2","roles":["reader"]}', undefined, as(undefined, 'new user with roles: 200, roles unchecked'))
  g.put('/v2/auth/users/bob', '{"user":"bob","password":"x","roles":["r2"]}', undefined, as(undefined, 'existing user with roles: 409'))
  g.put('/v2/auth/users/carol', '{"user":"carol"}', undefined, as(undefined, 'no password: 400'))
  g.put('/v2/auth/users/carol', '{"user":"carol","roles":["x"]}', undefined, as(undefined))
  g.put('/v2/auth/users/alice', '{"user":"alice","grant":["writer"]}', undefined, as(undefined, 'grant a role that does not exist yet'))
  g.put('/v2/auth/users/alice', '{"user":"alice","grant":["writer"]}', undefined, as(undefined, 'duplicate grant: 409'))
  g.put('/v2/auth/users/alice', '{"user":"alice","revoke":["nope"]}', undefined, as(undefined, 'revoke a role not held: 409'))
  g.put('/v2/auth/users/alice', '{"user":"alice","roles":["a"],"grant":["b"]}', undefined, as(undefined, 'roles with grant: 400'))
  g.put('/v2/auth/users/zed', '{"user":"zed","grant":["b"]}', undefined, as(undefined, 'grant on a missing user: 404'))
  g.put('/v2/auth/users/alice', '{"user":"other","password":"x"}', undefined, as(undefined, 'name differs from the URL: 400'))
  g.put('/v2/auth/users/alice', '{bad', undefined, as(undefined, 'broken JSON: 400'))
  g.put('/v2/auth/users/alice', '{"user":"alice","roles":"x"}', undefined, as(undefined, 'wrong type: 400'))
  g.put('/v2/auth/users/alice', '{"user":"alice","password":"pw1b","grant":["reader"]}', undefined, as(undefined, 'password and grant together'))
  g.put('/v2/auth/users/alice', '{"user":"alice","password":"pw1c"}', undefined, as(undefined, 'password change keeps the roles'))
  g.get('/v2/auth/users/alice', undefined, { note: 'etcd: 404 about the missing role (bug 5.6)', quirk: 'auth §5.6' })
  g.get('/v2/auth/users/zed', undefined, { note: 'missing user: 404' })
  // Roles.
  g.put('/v2/auth/roles/reader', '{"role":"reader","permissions":{"kv":{"read":["/pub/*"]}}}', undefined, as(undefined, 'new role: 201, missing list null'))
  g.put('/v2/auth/roles/writer', '{"role":"writer"}', undefined, as(undefined, 'new role without permissions'))
  g.put('/v2/auth/roles/writer', '{"role":"writer"}', undefined, as(undefined, 'existing role: 409'))
  g.put('/v2/auth/roles/writer', '{"role":"writer","grant":{"kv":{"write":["/pub/*","/w"],"read":["/w"]}}}', undefined, as(undefined, 'grant: 200, merged and sorted'))
  g.put('/v2/auth/roles/writer', '{"role":"writer","grant":{"kv":{"write":["/w"]}}}', undefined, as(undefined, 'duplicate grant: 409'))
  g.put('/v2/auth/roles/writer', '{"role":"writer","revoke":{"kv":{"read":["/nothere"]}}}', undefined, as(undefined, 'revoke of nothing held: 400'))
  g.put('/v2/auth/roles/writer', '{"role":"writer","revoke":{"kv":{"read":["/w"]}}}', undefined, as(undefined, 'revoke: 200'))
  g.put('/v2/auth/roles/writer', '{"role":"writer","permissions":{"kv":{"read":["/x"]}},"grant":{"kv":{"read":["/y"]}}}', undefined, as(undefined, 'permissions with grant: 400'))
  g.put('/v2/auth/roles/root', '{"role":"root"}', undefined, as(undefined, 'root role: 403'))
  g.put('/v2/auth/roles/root', '{"role":"root","grant":{"kv":{"read":["/x"]}}}', undefined, as(undefined))
  g.del('/v2/auth/roles/root', undefined, { note: 'root role: 403' })
  g.put('/v2/auth/roles/writer', '{"role":"other"}', undefined, as(undefined, 'name differs from the URL: 400'))
  g.put('/v2/auth/roles/x', '[', undefined, as(undefined, 'broken JSON: 400'))
  g.get('/v2/auth/roles/writer')
  g.get('/v2/auth/roles/nope', undefined, { note: 'missing role: 404' })
  g.get('/v2/auth/roles', undefined, { note: 'sorted, root included' })
  g.get('/v2/auth/users/alice', undefined, { note: 'roles expanded to role objects' })
  g.get('/v2/auth/users', undefined, { note: 'sorted; roles expanded; missing roles left out' })
  g.get('/v2/auth/users/', undefined, { note: 'trailing slash: the collection' })
  g.get('/v2/auth/roles/', undefined, { note: 'trailing slash: the collection' })
  g.del('/v2/auth/users/zed', undefined, { note: 'missing user: 404 without a final period' })
  g.del('/v2/auth/roles/nope', undefined, { note: "missing role: 404 doesn't exist" })
  g.post('/v2/auth/users', '{}', undefined, as(undefined, 'collections allow GET only'))
  g.req('HEAD', '/v2/auth/enable', undefined, undefined, { note: 'HEAD is not allowed either' })
  g.post('/v2/auth/users/alice', '{}', undefined, as(undefined))
  g.post('/v2/auth/enable', undefined, undefined, {})
  g.get('/v2/auth/users/a/b', undefined, { note: 'more segments: Invalid path' })
  g.get('/v2/auth/users/a%2Fb', undefined, { note: '%2F is a separator' })
  g.get('/v2/auth/roles/a/b')
  g.get('/v2/auth/nothing', undefined, { note: 'unknown auth route: 404' })
  // root and enable.
  g.put('/v2/auth/users/root', '{"user":"root","password":"rootpw"}', undefined, as(undefined, 'root is created with the root role: 201'))
  g.get('/v2/auth/users/root')
  g.put('/v2/auth/enable', undefined, undefined, { note: 'anyone may enable while auth is off' })
  g.put(K('/b'), 'value=2', undefined, { headers: root, note: 'a write as root: the index offset is learnt again' })
  g.get('/v2/auth/enable', undefined, { note: 'open to anyone' })
  g.get('/v2/auth/users', undefined, { note: 'anonymous: 401 Insufficient credentials' })
  g.get('/v2/auth/users', undefined, { headers: basic('alice:pw1c'), note: 'not root: 401' })
  g.get('/v2/auth/users', undefined, { headers: basic('root:wrong'), note: 'wrong password: 401' })
  g.get('/v2/auth/users', undefined, { headers: root, note: 'as root' })
  g.get('/v2/auth/roles', undefined, { headers: root, note: 'guest was created by enable' })
  g.get('/v2/auth/roles/guest', undefined, { headers: root })
  g.put('/v2/auth/users/alice', '{"user":"alice","grant":["x"]}', undefined, as(basic('alice:pw1c'), 'non-root admin call: 401'))
  g.put('/v2/auth/enable', undefined, undefined, { headers: root, note: 'already enabled: 409' })
  g.del('/v2/auth/users/root', undefined, { headers: root, note: 'root cannot be deleted while auth is on: 403' })
  g.put('/v2/auth/users/root', '{"user":"root","revoke":["root"]}', undefined, as(root, 'revoking root from root: 200, roles []'))
  g.get('/v2/auth/users/root', undefined, { headers: root, note: 'the root role is back' })
  g.del('/v2/auth/roles/writer', undefined, { headers: root })
  g.del('/v2/auth/users/bob', undefined, { headers: root })
  g.get('/v2/auth/users', undefined, { headers: root })
  g.del('/v2/auth/enable', undefined, { note: 'anonymous disable: 401' })
  g.del('/v2/auth/enable', undefined, { headers: root })
  g.del('/v2/auth/enable', undefined, { note: 'already disabled: 409' })
  g.get('/v2/auth/enable')
  g.put(K('/c'), 'value=3', undefined, { note: 'auth off again: anonymous writes' })
  g.get('/v2/auth/users', undefined, { note: 'auth off: open again' })
  return { ...g.build(), arborArgs, indexDrift }
}

/** §3, §4: key permissions, guest, credentials, guarded and open routes. */
function authKeys(): Group {
  const g = new GroupBuilder('auth-keys', 'auth 1 3 4 9')
  g.put('/v2/auth/users/root', '{"user":"root","password":"rootpw"}', undefined, as(undefined))
  g.put('/v2/auth/roles/reader', '{"role":"reader","permissions":{"kv":{"read":["/pub/*"]}}}', undefined, as(undefined))
  g.put('/v2/auth/roles/writer', '{"role":"writer","permissions":{"kv":{"read":["/pub/*"],"write":["/pub/*"]}}}', undefined, as(undefined))
  g.put('/v2/auth/roles/exact', '{"role":"exact","permissions":{"kv":{"read":["/dir"]}}}', undefined, as(undefined))
  g.put('/v2/auth/users/alice', '{"user":"alice","password":"alicepw","roles":["reader"]}', undefined, as(undefined))
  g.put('/v2/auth/users/bob', '{"user":"bob","password":"bobpw","roles":["writer","missing"]}', undefined, as(undefined))
  g.put('/v2/auth/users/dora', '{"user":"dora","password":"dorapw","roles":["exact"]}', undefined, as(undefined))
  g.put('/v2/auth/users/eve', '{"user":"eve","password":"evepw"}', undefined, as(undefined))
  g.put('/v2/auth/enable')
  g.put('/v2/auth/roles/guest', '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}', undefined, as(root, 'guest narrowed to nothing (arbor\'s default guest)'))
  g.put(K('/pub/a'), 'value=1', undefined, { headers: root, note: 'first key write: fixes the index offset' })
  g.put(K('/secret/s'), 'value=s', undefined, { headers: root })
  g.put(K('/dir/x'), 'value=x', undefined, { headers: root })
  // Credentials.
  g.get(K('/pub/a'), undefined, { note: 'anonymous, guest has nothing: 401/110' })
  g.get(K('/pub/a'), undefined, { headers: alice })
  g.get(K('/pub/a'), undefined, { headers: basic('alice:wrong'), note: 'wrong password' })
  g.get(K('/pub/a'), undefined, { headers: basic('mallory:alicepw'), note: 'unknown user' })
  g.get(K('/pub/a'), undefined, { headers: basic('root:'), note: 'empty password' })
  g.get(K('/pub/a'), undefined, { headers: basic('ROOT:rootpw'), note: 'names are case-sensitive' })
  g.get(K('/pub/a'), undefined, { headers: { authorization: 'Bearer abc' }, note: 'another scheme' })
  g.get(K('/pub/a'), undefined, { headers: { authorization: 'Basic !!!' }, note: 'bad base64' })
  g.get(K('/pub/a'), undefined, { headers: { authorization: 'Basic' }, note: 'scheme only' })
  g.get(K('/pub/a'), undefined, { headers: { authorization: `Basic ${Buffer.from('alice').toString('base64')}` }, note: 'no colon' })
  g.get(K('/pub/a'), undefined, { headers: { authorization: `basic ${Buffer.from('alice:alicepw').toString('base64')}` }, note: 'lower-case scheme works' })
  g.get(K('/pub/a'), undefined, { headers: { authorization: `Basic  ${Buffer.from('alice:alicepw').toString('base64')}` }, note: 'two spaces' })
  g.get(K('/pub/a'), undefined, { headers: basic('eve:evepw'), note: 'a user without roles' })
  g.get(K('/pub/a'), undefined, { headers: basic(':'), note: 'etcd: connection closed (bug 5.1)', quirk: 'auth §5.1' })
  g.get(K('/pub/a'), undefined, { headers: basic('x/../root:rootpw'), note: 'etcd: authenticates as root (bug 5.2)', quirk: 'auth §5.2' })
  // Key permissions.
  g.get(K('/pub'), undefined, { headers: alice, note: '/pub/* does not cover /pub' })
  g.get(K('/pub/'), undefined, { headers: alice, note: 'but covers /pub/' })
  g.get(K('/pub/'), 'recursive=true', { headers: alice })
  g.get(K('/pub'), 'recursive=true', { headers: alice })
  g.get(K('/secret/s'), undefined, { headers: alice })
  g.get(K('/secret/s'), undefined, { headers: root })
  g.get(K('/Pub/a'), undefined, { headers: alice, note: 'case-changed key' })
  g.put(K('/pub/b'), 'value=b', undefined, { headers: alice, note: 'read only' })
  g.put(K('/pub/b'), 'value=b', undefined, { headers: bob, note: 'write; a missing role is skipped' })
  g.put(K('/pub/b'), 'value=c', 'prevValue=b', { headers: bob })
  g.post(K('/pub'), 'value=q', undefined, { headers: bob, note: 'POST on /pub is outside /pub/*' })
  g.post(K('/pub/'), 'value=q', undefined, { headers: bob })
  g.del(K('/pub/b'), undefined, { headers: bob })
  g.del(K('/pub'), 'recursive=true', { headers: bob })
  g.put(K('/secret/t'), 'value=t', undefined, { headers: bob })
  g.get(K('/secret/s'), 'wait=true', { headers: bob, note: 'a watch is checked as a GET' })
  g.get(K('/pub/a'), 'ttl=abc', { headers: basic('alice:wrong') })
  g.put(K('/secret/s'), 'value=1', 'ttl=abc', { note: 'parse errors come before the auth check' })
  g.get(K('/dir'), undefined, { headers: dora, note: 'exact read on /dir' })
  g.get(K('/dir'), 'recursive=true', { headers: dora, note: 'a recursive read needs a * pattern' })
  g.get(K('/dir/x'), undefined, { headers: dora })
  g.head(K('/secret/s'), undefined, { note: 'HEAD anonymous: 401 without body' })
  g.req('OPTIONS', K('/secret/s'), undefined, undefined, { note: 'OPTIONS: open' })
  // Guest.
  g.put('/v2/auth/roles/guest', '{"role":"guest","grant":{"kv":{"read":["/gdir","/pub/*"]}}}', undefined, as(root))
  g.put(K('/pub/g'), 'value=g', undefined, { headers: root, note: 'index offset learnt again; later reads see only keys written since' })
  g.put(K('/gdir/x'), 'value=x', undefined, { headers: root })
  g.get(K('/pub/g'), undefined, { note: 'guest read' })
  g.put(K('/pub/z'), 'value=z', undefined, { note: 'guest cannot write' })
  g.get(K('/gdir'), undefined, { note: 'guest exact read' })
  g.get(K('/gdir'), 'recursive=true', { note: 'etcd: guest skips the recursive check (bug 5.4)', quirk: 'auth §5.4' })
  g.get(K('/pub/g'), undefined, { headers: basic('alice:wrong'), note: 'bad credentials never fall back to guest' })
  // Other routes.
  g.get('/v2/members', undefined, { note: 'open' })
  g.get('/v2/members/leader')
  g.post('/v2/members', '{"peerURLs":["http://127.0.0.1:1"]}', undefined, { headers: json, note: 'membership changes need root' })
  g.put('/v2/members/abc', '{"peerURLs":["http://127.0.0.1:1"]}', undefined, { headers: json })
  g.del('/v2/members/abc')
  g.del('/v2/members/abc', undefined, { headers: alice })
  g.get('/v2/stats/self', undefined, { note: 'open' })
  g.get('/v2/machines')
  g.get('/version')
  g.get('/health')
  g.get('/v2/auth/enable')
  // Disable: open again.
  g.del('/v2/auth/enable', undefined, { headers: root })
  g.put(K('/pub/h'), 'value=h', undefined, { note: 'index offset learnt again' })
  g.get(K('/pub/h'), undefined, { note: 'auth off: open' })
  g.del(K('/pub/h'), undefined, { note: 'auth off: anonymous delete' })
  return { ...g.build(), arborArgs, indexDrift }
}

export const authGroups: readonly Group[] = [authAdmin(), authKeys()]
