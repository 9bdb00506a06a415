/**
 * Goal: the client commands reach secured members with etcdctl's flags. Against a member with
 * v2 auth on, `snapshot save`, `export`, `import` and `migrate --to-user` work with `--user`
 * (or `--username`, the password from ARBOR_PASSWORD, or typed at a terminal prompt that does
 * not echo it) and fail without it, or with a wrong
 * password, with one line that says the credentials are missing or refused and never shows
 * the password. Against https members, `export --cacert` works and fails clearly without the
 * CA; a member with `--client-cert-auth` needs `--cert/--key`, and one from another CA is refused.
 *
 * Method: three one-member arbors from source on loopback, started once for the file: plain
 * http with auth enabled (root), https, and https with `--client-cert-auth`; throwaway
 * certificates from test/support/tls-certs.ts; the `arbor` command as a child process (on a
 * pseudo-terminal made by util-linux `script` for the prompt); trees read back over HTTP with
 * the test's own requests.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'undici'
import { removeDir, startArbor, tempDir, tlsAgent, type ArborProcess } from '../support/arbor-process.js'
import { runArbor, type CliRun } from '../support/arbor-cli.js'
import { makeCa, makeLeaf, type CertFiles, type TestCa } from '../support/tls-certs.js'

const mainTs = resolve(import.meta.dirname, '../../src/cli/main.ts')
const rootPassword = 'r00t-Secret'
const wrongPassword = 'not-the-Password'
const rootAuthorization = `Basic ${Buffer.from(`root:${rootPassword}`).toString('base64')}`

let dir = ''
let ca: TestCa
let client: CertFiles
let strangerClient: CertFiles
const started: ArborProcess[] = []
let secured: ArborProcess
let tlsMember: ArborProcess
let mtlsMember: ArborProcess

/** The environment of a CLI run: this process's, without any ARBOR_*PASSWORD, plus `extra`. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env)) if (/^ARBOR_.*PASSWORD$/.test(name)) delete env[name]
  return { ...env, ...extra }
}

function arbor(args: readonly string[], io: { stdinFile?: string; stdoutFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return runArbor(args, { timeoutMs: 30_000, env: envWith(), ...io })
}

/**
 * Runs `arbor <args>` on a pseudo-terminal (util-linux `script`), types `answer` and Enter
 * once `prompt` has been printed, and returns everything the terminal showed.
 */
async function onTerminal(args: readonly string[], prompt: string, answer: string): Promise<{ code: number | null; output: string }> {
  const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`
  const command = [process.execPath, '--import', 'tsx', mainTs, ...args].map(quote).join(' ')
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: envWith() })
  let output = ''
  let answered = false
  const onOutput = (chunk: Buffer): void => {
    output += chunk.toString()
    if (!answered && output.includes(prompt)) {
      answered = true
      child.stdin.write(`${answer}\r`)
    }
  }
  child.stdout.on('data', onOutput)
  child.stderr.on('data', onOutput)
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL')
  }, 30_000)
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  clearTimeout(timer)
  child.stdin.destroy()
  return { code, output }
}

/** Asserts a run failed with `code` and one stderr line matching `pattern`, no password in it. */
function assertOneLineFailure(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, run.stderr)
  const lines = run.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one line: ${run.stderr}`)
  assert.match(lines[0]!, pattern)
  for (const text of [run.stdout, run.stderr]) {
    assert(!text.includes(rootPassword), 'the password never shows')
    assert(!text.includes(wrongPassword), 'nor a wrong one')
  }
}

/** A v2 request to the auth member as root. */
async function asRoot(method: 'GET' | 'PUT', path: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await request(secured.clientUrl + path, {
    method,
    headers: { authorization: rootAuthorization, ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
    ...(body === undefined ? {} : { body }),
  })
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> }
}

/** The value of `key` on the auth member, read as root; undefined when it is missing. */
async function rootValue(key: string): Promise<string | undefined> {
  return ((await asRoot('GET', `/v2/keys${key}`)).json.node as { value?: string } | undefined)?.value
}

/** The value of `key` on `member` over https, trusting the test CA (and with the client certificate). */
async function valueOverTls(member: ArborProcess, key: string): Promise<string | undefined> {
  const dispatcher = tlsAgent({ caFile: ca.certFile, certFile: client.certFile, keyFile: client.keyFile })
  try {
    const response = await request(`${member.clientUrl}/v2/keys${key}`, { dispatcher })
    const body = (await response.body.json()) as { node?: { value?: string } }
    return body.node?.value
  } finally {
    await dispatcher.close()
  }
}

/** An export file holding `nodes` (the format of node-lines.ts). */
function exportFile(name: string, nodes: readonly { key: string; value?: string; dir?: boolean }[]): string {
  const path = join(dir, name)
  const header = { format: 'arbor-export', version: 1, endpoint: 'http://127.0.0.1:2379', prefix: '/', etcdIndex: 1, exportedAt: new Date().toISOString() }
  writeFileSync(path, [header, ...nodes].map((line) => JSON.stringify(line)).join('\n') + '\n')
  return path
}

before(async () => {
  dir = tempDir('arbor-client-access-')
  ca = makeCa(dir, 'good')
  mkdirSync(join(dir, 'stranger'))
  const stranger = makeCa(join(dir, 'stranger'), 'stranger')
  const server = makeLeaf(ca, 'server', 'arbor-server')
  client = makeLeaf(ca, 'client', 'client')
  strangerClient = makeLeaf(stranger, 'client', 'client')
  const serverFlags = ['--cert-file', server.certFile, '--key-file', server.keyFile]
  ;[secured, tlsMember, mtlsMember] = await Promise.all([
    startArbor(),
    startArbor({ clientTls: { caFile: ca.certFile }, extraArgs: serverFlags }),
    startArbor({
      clientTls: { caFile: ca.certFile, certFile: client.certFile, keyFile: client.keyFile },
      extraArgs: [...serverFlags, '--trusted-ca-file', ca.certFile, '--client-cert-auth'],
    }),
  ])
  started.push(secured, tlsMember, mtlsMember)
  const user = await request(`${secured.clientUrl}/v2/auth/users/root`, { method: 'PUT', body: JSON.stringify({ user: 'root', password: rootPassword }) })
  assert.equal(user.statusCode, 201, await user.body.text())
  await user.body.dump()
  const enable = await request(`${secured.clientUrl}/v2/auth/enable`, { method: 'PUT' })
  assert.equal(enable.statusCode, 200, await enable.body.text())
  await enable.body.dump()
})

after(async () => {
  for (const member of started) {
    await member.stop()
    removeDir(join(member.dataDir, '..'))
  }
  removeDir(dir)
})

describe('against a member with v2 auth on', () => {
  test('snapshot save works as root, and without --user or with a wrong password fails with one clear line', async () => {
    const file = join(dir, 'backup.db')
    const saved = await arbor(['snapshot', 'save', file, '--endpoints', secured.clientUrl, '--user', `root:${rootPassword}`])
    assert.equal(saved.code, 0, saved.stderr)
    assert.match(saved.stdout, /^Snapshot saved at .*backup\.db/)
    assert(existsSync(file))
    const anonymous = await arbor(['snapshot', 'save', join(dir, 'anonymous.db'), '--endpoints', secured.clientUrl])
    assertOneLineFailure(anonymous, 1, /^arbor snapshot: no snapshot saved: http:\/\/127\.0\.0\.1:\d+ requires credentials \(401: Insufficient credentials\): give --user USER\[:PASSWORD\]$/)
    const wrong = await arbor(['snapshot', 'save', join(dir, 'wrong.db'), '--endpoints', secured.clientUrl, '--user', `root:${wrongPassword}`])
    assertOneLineFailure(wrong, 1, /refused the credentials of user "root" \(401: Insufficient credentials\)/)
    assert(!existsSync(join(dir, 'anonymous.db')) && !existsSync(join(dir, 'wrong.db')))
  })

  test('import and export take --user (or --username, the password from ARBOR_PASSWORD)', async () => {
    const file = exportFile('auth-in.jsonl', [{ key: '/auth', dir: true }, { key: '/auth/a', value: 'one' }, { key: '/auth/b', value: 'two' }])
    const imported = await arbor(['import', '--endpoints', secured.clientUrl, '--user', `root:${rootPassword}`, file])
    assert.equal(imported.code, 0, imported.stderr)
    assert.equal(await rootValue('/auth/b'), 'two')
    const out = join(dir, 'auth-out.jsonl')
    const exported = await arbor(['export', '--endpoints', secured.clientUrl, '--prefix', '/auth', '--username', 'root'], {
      stdoutFile: out,
      env: envWith({ ARBOR_PASSWORD: rootPassword }),
    })
    assert.equal(exported.code, 0, exported.stderr)
    const keys = readFileSync(out, 'utf8').trimEnd().split('\n').slice(1).map((line) => (JSON.parse(line) as { key: string; value?: string }))
    assert.deepEqual(keys.map((n) => [n.key, n.value]), [['/auth', undefined], ['/auth/a', 'one'], ['/auth/b', 'two']])
  })

  test('import and export without --user fail with one line naming the missing credentials', async () => {
    const file = exportFile('anonymous-in.jsonl', [{ key: '/anonymous', value: 'x' }])
    const imported = await arbor(['import', '--endpoints', secured.clientUrl, file])
    assert.equal(imported.code, 1, imported.stderr)
    assert.match(imported.stderr, /^arbor import: http:\/\/127\.0\.0\.1:\d+ requires credentials \(110: The request requires user authentication \(Insufficient credentials\) \[\d+\]\): give --user/m)
    assert.equal((await asRoot('GET', '/v2/keys/anonymous')).status, 404, 'nothing was written')
    const exported = await arbor(['export', '--endpoints', secured.clientUrl, '--user', `root:${wrongPassword}`])
    assertOneLineFailure(exported, 1, /^arbor export: http:\/\/127\.0\.0\.1:\d+ refused the credentials of user "root" \(110: The request requires user authentication/)
  })

  test('--user without a password asks for it on a terminal, without echoing it', async () => {
    const run = await onTerminal(['export', '--endpoints', secured.clientUrl, '--user', 'root'], 'Password of root at ', rootPassword)
    assert.equal(run.code, 0, run.output)
    assert.match(run.output, /"format":"arbor-export"/)
    assert.match(run.output, /arbor export: wrote \d+ keys/)
    assert(!run.output.includes(rootPassword), `the password is not echoed: ${run.output}`)
  })

  test('--user without a password, no ARBOR_PASSWORD and no terminal is bad usage (exit 2), asked before anything is sent', async () => {
    const run = await arbor(['export', '--endpoints', secured.clientUrl, '--user', 'root'])
    assertOneLineFailure(run, 2, /^arbor export: no password for user "root": give --user root:PASSWORD or set ARBOR_PASSWORD \(stdin is not a terminal to ask on\)$/)
    const both = await arbor(['export', '--endpoints', secured.clientUrl, '--user', 'root:a', '--username', 'root:b'])
    assertOneLineFailure(both, 2, /^arbor export: give --user or --username, not both$/)
  })
})

describe('against https members', () => {
  test('export --cacert reads over TLS (--ca-file too); without the CA the certificate is refused in one line', async () => {
    const file = exportFile('tls-in.jsonl', [{ key: '/tls/k', value: 'over tls' }])
    const imported = await arbor(['import', '--endpoints', tlsMember.clientUrl, '--cacert', ca.certFile, file])
    assert.equal(imported.code, 0, imported.stderr)
    assert.equal(await valueOverTls(tlsMember, '/tls/k'), 'over tls')
    const exported = await arbor(['export', '--endpoints', tlsMember.clientUrl, '--ca-file', ca.certFile, '--prefix', '/tls'])
    assert.equal(exported.code, 0, exported.stderr)
    assert.match(exported.stdout, /"key":"\/tls\/k","value":"over tls"/)
    const untrusted = await arbor(['export', '--endpoints', tlsMember.clientUrl])
    assertOneLineFailure(untrusted, 1, /^arbor export: TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed: the member's certificate is not trusted \(.+\): give the CA that signed it with --cacert$/)
    const insecure = await arbor(['export', '--endpoints', tlsMember.clientUrl, '--insecure-skip-tls-verify', '--prefix', '/tls'])
    assert.equal(insecure.code, 0, insecure.stderr)
  })

  test('with --client-cert-auth, --cert/--key are needed, and a certificate from another CA is refused', async () => {
    const file = exportFile('mtls-in.jsonl', [{ key: '/mtls/k', value: 'mutual' }])
    const imported = await arbor(['import', '--endpoints', mtlsMember.clientUrl, '--cacert', ca.certFile, '--cert', client.certFile, '--key', client.keyFile, file])
    assert.equal(imported.code, 0, imported.stderr)
    assert.equal(await valueOverTls(mtlsMember, '/mtls/k'), 'mutual')
    const withoutCert = await arbor(['export', '--endpoints', mtlsMember.clientUrl, '--cacert', ca.certFile])
    assertOneLineFailure(withoutCert, 1, /^arbor export: TLS connection to https:\/\/127\.0\.0\.1:\d+ refused: the member requires a client certificate \(give --cert and --key\)$/)
    const stranger = await arbor(['export', '--endpoints', mtlsMember.clientUrl, '--cacert', ca.certFile, '--cert-file', strangerClient.certFile, '--key-file', strangerClient.keyFile])
    assertOneLineFailure(stranger, 1, /^arbor export: TLS connection to https:\/\/127\.0\.0\.1:\d+ refused: the member did not accept the client certificate --cert .*client\.pem/)
    const halfPair = await arbor(['export', '--endpoints', mtlsMember.clientUrl, '--cacert', ca.certFile, '--cert', client.certFile])
    assertOneLineFailure(halfPair, 2, /^arbor export: --cert and --key go together: give both or neither$/)
  })
})

describe('migrate with credentials and TLS on each side', () => {
  test('migrate from an https member (--from-cacert) into the auth member (--to-user) copies and verifies', async () => {
    const file = exportFile('migrate-in.jsonl', [{ key: '/moved', dir: true }, { key: '/moved/a', value: 'A' }, { key: '/moved/b/c', value: 'C' }])
    const seeded = await arbor(['import', '--endpoints', tlsMember.clientUrl, '--cacert', ca.certFile, file])
    assert.equal(seeded.code, 0, seeded.stderr)
    const refused = await arbor(['migrate', '--from', tlsMember.clientUrl, '--to', secured.clientUrl, '--prefix', '/moved', '--from-cacert', ca.certFile])
    assertOneLineFailure(refused, 1, /^arbor migrate: target: http:\/\/127\.0\.0\.1:\d+ requires credentials/)
    const run = await arbor(['migrate', '--from', tlsMember.clientUrl, '--to', secured.clientUrl, '--prefix', '/moved', '--from-cacert', ca.certFile, '--to-user', `root:${rootPassword}`])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /created 4, updated 0, unchanged 0/)
    assert.match(run.stderr, /verified \d+ nodes: 0 differ/)
    assert(!run.stderr.includes(rootPassword))
    assert.equal(await rootValue('/moved/b/c'), 'C')
  })
})
