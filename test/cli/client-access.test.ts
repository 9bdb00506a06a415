/**
 * Goal: the access flags of the client commands resolve as etcdctl's do and as the help says:
 * a side's own flag wins over the shared one, the v2 spellings are the same flags, the
 * password is what follows the first ":" (else the first environment variable set), a
 * missing password or half a certificate pair is one clear error, and a 401 becomes a line
 * that names the user and the member's words but never the password; a password typed into
 * a URL or a mistyped option is masked in usage errors.
 *
 * Method: the functions of src/cli/client-access.ts called directly with parsed-option
 * objects as commander builds them; no member (the e2e test client-access.test.ts covers the
 * wire). stdin is not a terminal under the test runner, so no prompt can start.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HttpStatusError, V2ClientError } from '../../src/client/index.js'
import { AccessError, accessFlagsOf, describeAccessFailure, readAccess, type AccessFlags } from '../../src/cli/client-access.js'
import { maskPasswords, parseEndpoint } from '../../src/cli/command-usage.js'

const none = { insecureSkipTlsVerify: false }

const flagCases: { name: string; parsed: Record<string, unknown>; side?: 'from' | 'to'; want: AccessFlags | 'error' }[] = [
  { name: 'nothing given', parsed: {}, want: { ...none, user: undefined, cacert: undefined, cert: undefined, key: undefined } },
  { name: 'etcdctl v3 names', parsed: { user: 'u:p', cacert: 'ca', cert: 'c', key: 'k' }, want: { ...none, user: 'u:p', cacert: 'ca', cert: 'c', key: 'k' } },
  { name: 'etcdctl v2 names', parsed: { username: 'u', caFile: 'ca', certFile: 'c', keyFile: 'k' }, want: { ...none, user: 'u', cacert: 'ca', cert: 'c', key: 'k' } },
  { name: 'both names, same value', parsed: { user: 'u', username: 'u' }, want: { ...none, user: 'u', cacert: undefined, cert: undefined, key: undefined } },
  { name: 'both names, different values', parsed: { cacert: 'a', caFile: 'b' }, want: 'error' },
  { name: 'insecure', parsed: { insecureSkipTlsVerify: true }, want: { insecureSkipTlsVerify: true, user: undefined, cacert: undefined, cert: undefined, key: undefined } },
  {
    name: "a side's own flags win, the shared ones fill in",
    parsed: { user: 'shared', cacert: 'shared-ca', toUser: 'target', fromCacert: 'source-ca' },
    side: 'to',
    want: { ...none, user: 'target', cacert: 'shared-ca', cert: undefined, key: undefined },
  },
  {
    name: 'the other side keeps the shared user',
    parsed: { user: 'shared', cacert: 'shared-ca', toUser: 'target', fromCacert: 'source-ca' },
    side: 'from',
    want: { ...none, user: 'shared', cacert: 'source-ca', cert: undefined, key: undefined },
  },
]
for (const c of flagCases) {
  test(`accessFlagsOf: ${c.name}`, () => {
    if (c.want === 'error') assert.throws(() => accessFlagsOf(c.parsed, c.side), AccessError)
    else assert.deepEqual(accessFlagsOf(c.parsed, c.side), c.want)
  })
}

/** Runs `body` with `variables` set in process.env, then puts the environment back. */
async function withEnv<T>(variables: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]))
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
  apply(variables)
  try {
    return await body()
  } finally {
    apply(saved)
  }
}

const endpoint = 'http://127.0.0.1:2379'
const variables = ['ARBOR_TO_PASSWORD', 'ARBOR_PASSWORD']

const passwordCases = [
  { name: 'after the first ":" (the rest may hold more)', user: 'root:a:b', env: {}, want: { username: 'root', password: 'a:b' } },
  { name: 'an empty one after ":"', user: 'root:', env: { ARBOR_PASSWORD: 'ignored' }, want: { username: 'root', password: '' } },
  { name: 'from ARBOR_PASSWORD', user: 'root', env: { ARBOR_PASSWORD: 'env' }, want: { username: 'root', password: 'env' } },
  { name: "from the side's variable first", user: 'root', env: { ARBOR_TO_PASSWORD: 'side', ARBOR_PASSWORD: 'env' }, want: { username: 'root', password: 'side' } },
]
for (const c of passwordCases) {
  test(`readAccess takes the password ${c.name}`, async () => {
    const access = await withEnv({ ARBOR_TO_PASSWORD: undefined, ARBOR_PASSWORD: undefined, ...c.env }, () =>
      readAccess({ ...none, user: c.user }, variables, endpoint),
    )
    assert.deepEqual(access.credentials, c.want)
    assert.equal(access.flags.user, 'root', 'the flags keep the user name only')
  })
}

test('readAccess without a password anywhere (and no terminal) says where to give one', async () => {
  await withEnv({ ARBOR_TO_PASSWORD: undefined, ARBOR_PASSWORD: undefined }, async () => {
    await assert.rejects(readAccess({ ...none, user: 'root' }, variables, endpoint), {
      name: 'AccessError',
      message: 'no password for user "root": give --user root:PASSWORD or set ARBOR_TO_PASSWORD or ARBOR_PASSWORD (stdin is not a terminal to ask on)',
    })
  })
})

const fileCases = [
  { name: 'an empty user name', flags: { ...none, user: ':pw' }, message: /^--user needs a user name/ },
  { name: '--cert without --key', flags: { ...none, cert: '/nonexistent/c.pem' }, message: /^--cert and --key go together/ },
  { name: 'an unreadable --cacert', flags: { ...none, cacert: '/nonexistent/ca.pem' }, message: /^cannot read --cacert \/nonexistent\/ca\.pem: ENOENT$/ },
  { name: 'a --cacert that is no PEM', flags: { ...none, cacert: import.meta.filename }, message: /^cannot use --cacert .*client-access\.test\.ts: it holds no PEM certificate$/ },
  { name: 'a --cert that is no PEM', flags: { ...none, cert: import.meta.filename, key: import.meta.filename }, message: /^cannot use the TLS files .*client-access\.test\.ts: / },
]
for (const c of fileCases) {
  test(`readAccess refuses ${c.name}`, async () => {
    await assert.rejects(readAccess(c.flags, variables, endpoint), (error: unknown) => {
      assert(error instanceof AccessError)
      assert.match(error.message, c.message)
      return true
    })
  })
}

test('a 401 names the user and the member’s words, never the password', async () => {
  const flags: AccessFlags = { ...none, user: 'alice' }
  const refusedKeys = new V2ClientError(110, 'The request requires user authentication', 'Insufficient credentials', 0, 401)
  const withUser = await describeAccessFailure(refusedKeys, { flags, credentials: { username: 'alice', password: 's3cret' } }, endpoint)
  assert.equal(
    withUser,
    'http://127.0.0.1:2379 refused the credentials of user "alice" (110: The request requires user authentication (Insufficient credentials) [0]): check the user, its password and its roles',
  )
  const refusedSnapshot = new HttpStatusError(401, '{"message":"Insufficient credentials"}')
  const anonymous = await describeAccessFailure(refusedSnapshot, { flags: none }, endpoint)
  assert.equal(anonymous, 'http://127.0.0.1:2379 requires credentials (401: Insufficient credentials): give --user USER[:PASSWORD]')
  assert.equal(await describeAccessFailure(new V2ClientError(100, 'Key not found', '/k', 3, 404), { flags: none }, endpoint), undefined)
})

const maskCases = [
  { text: "argument 'http://root:pw@127.0.0.1:2379' is invalid", want: "argument 'http://***@127.0.0.1:2379' is invalid" },
  { text: "argument 'https://root@h:1' is invalid", want: "argument 'https://***@h:1' is invalid" },
  { text: "unknown option '--usr=root:pw'", want: "unknown option '--usr=root:***'" },
  { text: "unknown option '--to-usr=root:p:w'", want: "unknown option '--to-usr=root:***'" },
  { text: "unknown option '--endpoint=http://h:1'", want: "unknown option '--endpoint=http://h:1'" },
  { text: "unknown option '--usr' (Did you mean --user?)", want: "unknown option '--usr' (Did you mean --user?)" },
]
for (const c of maskCases) {
  test(`maskPasswords: ${c.text}`, () => assert.equal(maskPasswords(c.text), c.want))
}

test('an endpoint URL with a user or password is refused without echoing it', () => {
  assert.throws(() => parseEndpoint('http://root:pw@127.0.0.1:2379'), (error: Error) => {
    assert.equal(error.message, 'http://127.0.0.1:2379: give the user and password with --user, not in the URL')
    return true
  })
  assert.equal(parseEndpoint('https://127.0.0.1:2379/v2'), 'https://127.0.0.1:2379')
})
