/**
 * Goal: hostile and malformed input gets an etcd-style answer (the status and errorCode of
 * the spec's tables, or a 4xx/close where the spec allows one), never a crash, a hang on a
 * complete request, a 5xx etcd would not give, or a change to data the request did not name
 * (spec v2-auth-and-security.md §8-§9, v2-api.md §1-§2).
 * Method: one real arbor process (test/support/arbor-process.ts) on loopback. Requests that
 * `fetch` would normalize or refuse to send go over raw sockets (node:net). After each group
 * the member must answer /health and a normal PUT/GET, and groups that must not write compare
 * the whole key space and the etcd index before and after.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { removeDir, startArbor, type ArborProcess } from '../support/arbor-process.js'

/** What came back on a raw connection. */
interface RawExchange {
  /** Everything received, one char per byte. */
  readonly text: string
  /** The server closed the connection (or reset it) before our deadline. */
  readonly closed: boolean
}

/** The first HTTP response in `text`, or undefined when none was received. */
interface RawReply {
  readonly status: number
  readonly headers: ReadonlyMap<string, string>
  readonly body: string
}

const formType = 'application/x-www-form-urlencoded'

let arbor: ArborProcess
let port = 0
let canary = 0

/** Sends `data` on a new connection and collects the answer until close or `waitMs`. */
function exchange(data: string | Buffer | readonly (string | Buffer)[], waitMs = 5_000): Promise<RawExchange> {
  const parts = Array.isArray(data) ? data : [data]
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let settled = false
    const finish = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed })
    }
    const timer = setTimeout(() => finish(false), waitMs)
    socket.on('connect', () => {
      for (const part of parts) socket.write(part)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => undefined) // 'close' follows
    socket.on('close', () => finish(true))
  })
}

/** Parses the first response of a raw exchange (Content-Length, chunked or until close). */
function parseReply(text: string): RawReply | undefined {
  const headEnd = text.indexOf('\r\n\r\n')
  if (headEnd === -1) return undefined
  const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n')
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)
  if (match === null) return undefined
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
  let body = text.slice(headEnd + 4)
  const length = headers.get('content-length')
  if (length !== undefined) body = body.slice(0, Number(length))
  else if (headers.get('transfer-encoding') === 'chunked') body = dechunk(body)
  return { status: Number(match[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') }
}

function dechunk(raw: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at)
    if (lineEnd === -1) return out
    const size = parseInt(raw.slice(at, lineEnd), 16)
    if (!(size > 0)) return out
    out += raw.slice(lineEnd + 2, lineEnd + 2 + size)
    at = lineEnd + 2 + size + 2
  }
}

/** A raw request with Host and Connection: close, as one string (latin1). */
function rawRequest(method: string, target: string, headers: Record<string, string> = {}, body = ''): Buffer {
  const all: Record<string, string> = { Host: '127.0.0.1', Connection: 'close', ...headers }
  if (body !== '' && all['Content-Length'] === undefined) all['Content-Length'] = String(Buffer.byteLength(body, 'latin1'))
  const head = Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  return Buffer.from(`${method} ${target} HTTP/1.1\r\n${head}\r\n${body}`, 'latin1')
}

/** A fetch against the member. */
async function call(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => Record<string, unknown> }> {
  const init: RequestInit = { method, headers: body === undefined ? headers : { 'content-type': formType, ...headers } }
  if (body !== undefined) init.body = body
  const response = await fetch(`${arbor.clientUrl}${path}`, init)
  const text = await response.text()
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> }
}

/** The visible key space and the etcd index. */
async function keySpace(): Promise<{ index: string | null; body: string }> {
  const reply = await call('GET', '/v2/keys/?recursive=true&sorted=true')
  assert.equal(reply.status, 200)
  return { index: reply.headers.get('x-etcd-index'), body: reply.text }
}

/** The member is up: /health, then a PUT and a GET of a hidden key (not in listings). */
async function assertAlive(): Promise<void> {
  const health = await call('GET', '/health')
  assert.equal(health.status, 200)
  assert.equal(health.text, '{"health":"true"}')
  canary += 1
  const put = await call('PUT', '/v2/keys/_canary', `value=${canary}`)
  assert.ok(put.status === 200 || put.status === 201, `canary PUT answered ${put.status}`)
  const get = await call('GET', '/v2/keys/_canary')
  assert.equal((get.json().node as { value: string }).value, String(canary))
}

/** Runs `requests`, checks the member is unchanged and alive afterwards. */
async function withoutWrites(requests: () => Promise<void>): Promise<void> {
  const before = await keySpace()
  await requests()
  assert.deepEqual(await keySpace(), before, 'the key space and the etcd index are unchanged')
  await assertAlive()
}

/** Asserts an etcd-style v2 error. */
function assertV2Error(reply: { status: number; text: string }, status: number, errorCode: number, cause?: string): void {
  assert.equal(reply.status, status, reply.text)
  const body = JSON.parse(reply.text) as { errorCode: number; cause?: string }
  assert.equal(body.errorCode, errorCode, reply.text)
  if (cause !== undefined) assert.equal(body.cause, cause)
}

/** Asserts that a malformed exchange ended in a 4xx (allowed ones) or a bare close. */
function assertRefused(result: RawExchange, allowed: readonly number[], what: string): void {
  assert.ok(result.closed, `${what}: the server closed the connection`)
  const reply = parseReply(result.text)
  if (reply === undefined) {
    assert.equal(result.text, '', `${what}: nothing but a full response is sent`)
    return
  }
  assert.ok(allowed.includes(reply.status), `${what}: answered ${reply.status}`)
}

/** A slow-loris connection: what it received and whether the server ended it. */
interface SlowConnection {
  readonly socket: Socket
  received: string
  ended: boolean
}

const slowLoris: SlowConnection[] = []
let slowLorisStartedMs = 0
let stalledBody: Socket | undefined

describe('bad input against a real member', () => {
  before(async () => {
    arbor = await startArbor({ extraArgs: ['--unsafe-no-fsync'] })
    port = Number(new URL(arbor.clientUrl).port)
    for (const [path, body] of [
      ['/v2/keys/seed/a', 'value=1'],
      ['/v2/keys/seed/b', 'value=2'],
      ['/v2/keys/seed/dir/c', 'value=3'],
      ['/v2/keys/x', 'value=keep'],
    ] as const) {
      assert.equal((await call('PUT', path, body)).status, 201)
    }
  })

  after(async () => {
    for (const connection of slowLoris) connection.socket.destroy()
    stalledBody?.destroy()
    await arbor.stop()
    assert.doesNotMatch(arbor.output(), /request failed|Error:|AssertionFailure/, 'no error was logged')
    removeDir(arbor.dataDir.replace(/\/data$/, ''))
  })

  test('slow-loris connections and a stalled body are opened (checked at the end)', async () => {
    slowLorisStartedMs = Date.now()
    for (let i = 0; i < 32; i++) {
      const socket = connect(port, '127.0.0.1')
      const connection: SlowConnection = { socket, received: '', ended: false }
      socket.on('data', (chunk: Buffer) => (connection.received += chunk.toString('latin1')))
      socket.on('end', () => (connection.ended = true))
      socket.on('close', () => (connection.ended = true))
      socket.on('error', () => undefined)
      socket.write(`GET /v2/keys/seed HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${i}: `)
      slowLoris.push(connection)
    }
    stalledBody = connect(port, '127.0.0.1')
    stalledBody.on('error', () => undefined)
    stalledBody.write(`PUT /v2/keys/stalled HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${formType}\r\nContent-Length: 100\r\n\r\nvalue=`)
    await assertAlive()
  })

  test('bad numbers and booleans get their v2 errors and write nothing', async () => {
    const rows: [string, string, string | undefined, number, number, string | undefined][] = [
      ['PUT', '/v2/keys/x?ttl=-1', 'value=1', 400, 202, 'invalid value for "ttl"'],
      ['PUT', '/v2/keys/x?ttl=1.5', 'value=1', 400, 202, 'invalid value for "ttl"'],
      ['PUT', '/v2/keys/x?ttl=0x10', 'value=1', 400, 202, 'invalid value for "ttl"'],
      ['PUT', '/v2/keys/x?ttl=18446744073709551616', 'value=1', 400, 202, 'invalid value for "ttl"'],
      ['PUT', '/v2/keys/x?ttl=18446744073709551615', 'value=1', 400, 202, 'invalid value for "ttl"'],
      ['PUT', '/v2/keys/x?ttl=' + '9'.repeat(100), 'value=1', 400, 202, 'invalid value for "ttl"'],
      ['PUT', '/v2/keys/x', 'value=1&ttl=NaN', 400, 202, 'invalid value for "ttl"'],
      ['PUT', '/v2/keys/x?prevIndex=abc', 'value=1', 400, 203, 'invalid value for "prevIndex"'],
      ['PUT', '/v2/keys/x?prevIndex=-1', 'value=1', 400, 203, 'invalid value for "prevIndex"'],
      ['DELETE', '/v2/keys/x?prevIndex=18446744073709551616', undefined, 400, 203, 'invalid value for "prevIndex"'],
      ['GET', '/v2/keys/x?wait=true&waitIndex=1e3', undefined, 400, 203, 'invalid value for "waitIndex"'],
      ['GET', '/v2/keys/x?recursive=yes', undefined, 400, 209, 'invalid value for "recursive"'],
      ['GET', '/v2/keys/x?sorted=', undefined, 400, 209, 'invalid value for "sorted"'],
      ['PUT', '/v2/keys/x?dir=maybe', 'value=1', 400, 209, 'invalid value for "dir"'],
      ['PUT', '/v2/keys/x?prevExist=tRuE', 'value=1', 400, 209, 'invalid value for prevExist'],
      ['PUT', '/v2/keys/x?wait=true', 'value=1', 400, 209, '"wait" can only be used with GET requests'],
      ['DELETE', '/v2/keys/x?recursive=2', undefined, 400, 209, 'invalid value for "recursive"'],
      ['PUT', '/v2/keys/x?prevValue=', 'value=1', 400, 201, '"prevValue" cannot be empty'],
      ['PUT', '/v2/keys/x?refresh=true', 'value=1', 400, 211, 'A value was provided on a refresh'],
      ['PUT', '/v2/keys/x?refresh=true', undefined, 400, 212, 'No TTL value set'],
      ['PUT', '/v2/keys/x?prevIndex=18446744073709551615', 'value=1', 412, 101, undefined],
      ['PUT', '/v2/keys/nope?prevIndex=18446744073709551615', 'value=1', 404, 100, '/nope'],
      ['DELETE', '/v2/keys/?recursive=true', undefined, 400, 107, '/'],
      ['PUT', '/v2/keys/seed', 'value=1', 403, 102, '/seed'],
      ['PUT', '/v2/keys/x/y', 'value=1', 400, 104, '/x'],
      ['DELETE', '/v2/keys/seed?dir=true', undefined, 403, 108, '/seed'],
    ]
    await withoutWrites(async () => {
      for (const [method, path, body, status, errorCode, cause] of rows) {
        assertV2Error(await call(method, path, body), status, errorCode, cause)
      }
    })
  })

  test('dot segments, double slashes and encoded dots are redirected, never executed', async () => {
    const rows: [string, string, string][] = [
      ['PUT', '/v2/keys/seed/../x', '/v2/keys/x'],
      ['PUT', '/v2/keys//x', '/v2/keys/x'],
      ['PUT', '/v2/keys/seed/%2e%2e/x', '/v2/keys/x'],
      ['PUT', '/v2/keys/seed/%2E%2E/x', '/v2/keys/x'],
      ['PUT', '/v2/keys/seed/..%2fx', '/v2/keys/x'],
      ['POST', '/v2/keys/./seed', '/v2/keys/seed'],
      ['DELETE', '/v2/keys/x/../seed?recursive=true', '/v2/keys/seed?recursive=true'],
      ['DELETE', '/v2/keys/../x', '/v2/x'],
      ['PUT', '/v2/keys/../../a/b', '/a/b'],
      ['PUT', '/v2/keys/seed/a%0D%0A/..//x', '/v2/keys/seed/x'],
    ]
    await withoutWrites(async () => {
      for (const [method, target, location] of rows) {
        const result = await exchange(rawRequest(method, target, { 'Content-Type': formType }, 'value=overwritten'))
        const reply = parseReply(result.text)
        assert.ok(reply !== undefined, target)
        assert.equal(reply.status, 301, target)
        assert.equal(reply.headers.get('location'), location, target)
        assert.equal(reply.body, '')
      }
      const get = parseReply((await exchange(rawRequest('GET', '/v2/keys/seed/%2e/a'))).text)
      assert.equal(get?.status, 301)
      assert.equal(get?.body, '<a href="/v2/keys/seed/a">Moved Permanently</a>.\n\n')
    })
  })

  test('percent-encoding edge cases: bad escapes are 400, encoded separators and NULs are keys', async () => {
    await withoutWrites(async () => {
      for (const target of ['/v2/keys/%zz', '/v2/keys/%2', '/v2/keys/a%', '/v2/keys/%G0/x', '/v2/members/%%']) {
        const reply = parseReply((await exchange(rawRequest('PUT', target, { 'Content-Type': formType }, 'value=1'))).text)
        assert.equal(reply?.status, 400, target)
        assert.equal(reply?.headers.get('content-type'), 'text/plain; charset=utf-8')
        assert.equal(reply?.body, '400 Bad Request')
      }
      assertV2Error(await call('GET', '/v2/keys/x?recursive=%zz'), 400, 210, 'invalid URL escape "%zz"')
      assertV2Error(await call('PUT', '/v2/keys/x', 'value=%zz'), 400, 210, 'invalid URL escape "%zz"')
      assertV2Error(await call('PUT', '/v2/keys/x', 'value=%'), 400, 210, 'invalid URL escape "%"')
      assertV2Error(await call('PUT', '/v2/keys/x?a=1;b=2', 'value=1'), 400, 210, 'invalid semicolon separator in query')
      assertV2Error(await call('PUT', '/v2/keys/x', 'value=a;b'), 400, 210, 'invalid semicolon separator in query')
      assertV2Error(await call('PUT', '/v2/keys/x', 'value=1', { 'content-type': ';;;' }), 400, 210, 'mime: no media type')
      assertV2Error(await call('GET', '/v2/keys/x/%00/y'), 400, 104, '/x')
    })
    const nul = await call('PUT', '/v2/keys/enc/nul%00x', 'value=a%00b%01%7F')
    assert.equal(nul.status, 201)
    assert.equal(JSON.parse(nul.text).node.key, '/enc/nul\u0000x')
    assert.match(nul.text, /"key":"\/enc\/nul\\u0000x","value":"a\\u0000b\\u0001\u007f"/)
    const slash = await call('PUT', '/v2/keys/enc/a%2Fb', 'value=1')
    assert.equal(JSON.parse(slash.text).node.key, '/enc/a/b')
    await assertAlive()
  })

  test('raw control characters and NULs in the request are refused with 400 or a close', async () => {
    await withoutWrites(async () => {
      const inputs: [string, Buffer][] = [
        ['NUL in the target', Buffer.from('GET /v2/keys/x\u0000 HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1')],
        ['control char in the target', Buffer.from('PUT /v2/keys/x\u0001 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', 'latin1')],
        ['raw space in the target', Buffer.from('PUT /v2/keys/a b HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', 'latin1')],
        ['NUL in a header value', Buffer.from('GET /v2/keys/x HTTP/1.1\r\nHost: a\r\nX-A: b\u0000c\r\n\r\n', 'latin1')],
        ['bare CR in a header', Buffer.from('GET /v2/keys/x HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n', 'latin1')],
        ['control byte in Content-Type', rawRequest('PUT', '/v2/keys/x', { 'Content-Type': ';;;==\u0001' }, 'value=1')],
        ['raw 0xFF in the target', Buffer.from('PUT /v2/keys/\u00ff HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', 'latin1')],
        ['raw UTF-8 in the target', Buffer.from('PUT /v2/keys/\u00c3\u00bc HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', 'latin1')],
      ]
      for (const [what, data] of inputs) assertRefused(await exchange(data), [400], what)
    })
  })

  test('invalid UTF-8 is stored; answers stay valid UTF-8 JSON with U+FFFD', async () => {
    for (const [path, value] of [
      ['/v2/keys/utf/%FF%FE', '%C0%AF'],
      ['/v2/keys/utf/%ED%A0%80%FF', '%ED%A0%80'],
      ['/v2/keys/utf/ok%C3%BC', '%FF'],
    ] as const) {
      const reply = await fetch(`${arbor.clientUrl}${path}`, { method: 'PUT', body: `value=${value}`, headers: { 'content-type': formType } })
      assert.equal(reply.status, 201, path)
      const bytes = Buffer.from(await reply.arrayBuffer())
      assert.equal(Buffer.from(bytes.toString('utf8'), 'utf8').compare(bytes), 0, 'the answer is valid UTF-8')
      const body = JSON.parse(bytes.toString('utf8')) as { node: { key: string; value: string } }
      assert.ok(body.node.value.includes('\ufffd'), JSON.stringify(body))
    }
    const listing = JSON.parse((await call('GET', '/v2/keys/utf?sorted=true')).text) as { node: { nodes: { key: string }[] } }
    assert.deepEqual(listing.node.nodes.map((n) => n.key), ['/utf/ok\u00fc', '/utf/\ufffd\ufffd', '/utf/\ufffd\ufffd\ufffd\ufffd'].sort())
    await assertAlive()
  })

  test('a 2 MiB value is stored and read back; 11 MiB and 32 MiB bodies are 400/210 http: POST too large', async () => {
    const value = 'v'.repeat(2 * 1024 * 1024)
    assert.equal((await call('PUT', '/v2/keys/big', `value=${value}`)).status, 201)
    assert.equal((JSON.parse((await call('GET', '/v2/keys/big')).text).node as { value: string }).value, value)
    await withoutWrites(async () => {
      const size = 11 * 1024 * 1024
      const body = Buffer.alloc(size, 0x61)
      body.write('value=', 'latin1')
      // A client still sending when the answer comes must read it, not a reset.
      const tooLarge = '{"errorCode":210,"message":"Invalid POST form","cause":"http: POST too large","index":0}\n'
      for (let i = 0; i < 3; i++) {
        const reply = await call('PUT', '/v2/keys/big', body.toString('latin1'))
        assert.equal(reply.status, 400)
        assert.equal(reply.text, tooLarge)
      }
      const reply32 = await call('PUT', '/v2/keys/big', 'value=' + 'b'.repeat(32 * 1024 * 1024))
      assert.equal(reply32.status, 400)
      assert.equal(reply32.text, tooLarge)
      // A client that announces the size and waits for an answer before sending gets one too.
      const head = rawRequest('PUT', '/v2/keys/big', { 'Content-Type': formType, 'Content-Length': String(size) })
      const waiting = await exchange(head, 4_000)
      assert.ok(waiting.closed, 'answered and closed without the body')
      assert.equal(parseReply(waiting.text)?.body, tooLarge)
      const chunked = await exchange([
        rawRequest('POST', '/v2/keys/big', { 'Content-Type': formType, 'Transfer-Encoding': 'chunked' }),
        `${size.toString(16)}\r\n`,
        body,
        '\r\n0\r\n\r\n',
      ])
      assert.equal(parseReply(chunked.text)?.status, 400, 'a chunked body is cut at the limit too')
    })
  })

  test('5 000 and 50 000 parameters are parsed; the first value wins', async () => {
    const many = (n: number): string => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join('&')
    assert.equal((await call('PUT', '/v2/keys/params/a', `value=first&${many(5_000)}`)).status, 201)
    assert.equal((await call('PUT', '/v2/keys/params/b', `${many(50_000)}&value=last`)).status, 201)
    const repeats = Array.from({ length: 5_000 }, (_, i) => `value=${i}`).join('&')
    assert.equal((await call('PUT', '/v2/keys/params/c', repeats)).status, 201)
    assert.equal((await call('GET', `/v2/keys/params/a?${many(5_000)}`)).status, 200)
    const values = JSON.parse((await call('GET', '/v2/keys/params?recursive=true&sorted=true')).text) as {
      node: { nodes: { value: string }[] }
    }
    assert.deepEqual(values.node.nodes.map((n) => n.value), ['first', 'last', '0'])
    await assertAlive()
  })

  test('long request lines are answered: an 8 KiB key is stored, a 100 KiB key is 400/209', async () => {
    const key8k = 'k'.repeat(8 * 1024)
    assert.equal((await call('PUT', `/v2/keys/long/${key8k}`, 'value=1')).status, 201)
    assert.equal((await call('GET', `/v2/keys/long/${key8k}`)).status, 200)
    await withoutWrites(async () => {
      const key100k = 'k'.repeat(100 * 1024)
      assertV2Error(await call('PUT', `/v2/keys/long/${key100k}`, 'value=1'), 400, 209, 'key is longer than 65536 bytes')
      const query = await call('GET', `/v2/keys/long?sorted=true&pad=${'q'.repeat(100 * 1024)}`)
      assert.equal(query.status, 200)
    })
  })

  test('garbage request lines get 400 or a close', async () => {
    await withoutWrites(async () => {
      const inputs: [string, string | Buffer][] = [
        ['garbage', 'HELLO\r\n\r\n'],
        ['bad version', 'GET / HTTP/9.9\r\nHost: a\r\n\r\n'],
        ['version x.y', 'GET / HTTP/x.y\r\nHost: a\r\n\r\n'],
        ['extra token', 'GET / HTTP/1.1 x\r\nHost: a\r\n\r\n'],
        ['lower-case method', 'get /v2/keys/ HTTP/1.1\r\nHost: a\r\n\r\n'],
        ['unknown method', 'FOO /v2/keys/ HTTP/1.1\r\nHost: a\r\n\r\n'],
        ['10 KiB method', `${'A'.repeat(10 * 1024)} / HTTP/1.1\r\nHost: a\r\n\r\n`],
        ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
        ['TLS ClientHello', Buffer.from('16030100a5010000a10303' + '00'.repeat(64), 'hex')],
        ['header without colon', 'GET /v2/keys/ HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n'],
        ['HTTP/1.1 without Host', 'GET /v2/keys/ HTTP/1.1\r\n\r\n'],
        ['binary noise', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256))],
      ]
      for (const [what, data] of inputs) assertRefused(await exchange(data), [400, 405, 505], what)
    })
  })

  test('bad Content-Length and Transfer-Encoding are refused and write nothing', async () => {
    const put = (headers: Record<string, string>, body: string): Buffer =>
      rawRequest('PUT', '/v2/keys/x', { 'Content-Type': formType, ...headers }, body)
    await withoutWrites(async () => {
      const inputs: [string, Buffer][] = [
        ['negative', put({ 'Content-Length': '-1' }, 'value=bad')],
        ['plus sign', put({ 'Content-Length': '+9' }, 'value=bad')],
        ['hex', put({ 'Content-Length': '0x9' }, 'value=bad')],
        ['30 digits', put({ 'Content-Length': '1'.repeat(30) }, 'value=bad')],
        ['list', put({ 'Content-Length': '9, 8' }, 'value=bad')],
        ['gzip', put({ 'Transfer-Encoding': 'gzip', 'Content-Length': '9' }, 'value=bad')],
        ['bogus', put({ 'Transfer-Encoding': 'bogus' }, 'value=bad')],
        ['chunked twice', put({ 'Transfer-Encoding': 'chunked, chunked' }, '9\r\nvalue=bad\r\n0\r\n\r\n')],
        ['bad chunk size', put({ 'Transfer-Encoding': 'chunked' }, 'zz\r\nvalue=bad\r\n0\r\n\r\n')],
        ['missing chunk CRLF', put({ 'Transfer-Encoding': 'chunked' }, '9\r\nvalue=badXX0\r\n\r\n')],
      ]
      for (const [what, data] of inputs) assertRefused(await exchange(data), [400, 501], what)
      const conflicting = Buffer.from(
        `PUT /v2/keys/x HTTP/1.1\r\nHost: a\r\nContent-Type: ${formType}\r\nContent-Length: 9\r\nContent-Length: 10\r\n\r\nvalue=bad`,
        'latin1',
      )
      assertRefused(await exchange(conflicting), [400], 'conflicting Content-Length')
    })
  })

  test('a header block over 1 MiB is 431', async () => {
    await withoutWrites(async () => {
      const result = await exchange(rawRequest('GET', '/v2/keys/', { 'X-Big': 'a'.repeat(1024 * 1024 + 1024) }))
      assertRefused(result, [431], 'huge header')
      assert.equal(parseReply(result.text)?.status, 431)
    })
  })

  test('100 abandoned watches are freed', async () => {
    const sockets: Socket[] = []
    const registered: Promise<void>[] = []
    for (let i = 0; i < 100; i++) {
      const socket = connect(port, '127.0.0.1')
      socket.on('error', () => undefined)
      sockets.push(socket)
      registered.push(new Promise((resolve) => socket.once('data', () => resolve())))
      socket.write(`GET /v2/keys/abandoned${i % 10}?wait=true${i % 2 === 0 ? '&stream=true' : ''} HTTP/1.1\r\nHost: a\r\n\r\n`)
    }
    await Promise.all(registered)
    const stats = async (): Promise<number> => (JSON.parse((await call('GET', '/v2/stats/store')).text) as { watchers: number }).watchers
    assert.equal(await stats(), 100)
    for (const socket of sockets) socket.destroy()
    const deadline = Date.now() + 5_000
    while ((await stats()) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.equal(await stats(), 0)
    await assertAlive()
  })

  test('32 clients incrementing one counter by compare-and-swap lose no update', async () => {
    assert.equal((await call('PUT', '/v2/keys/counter', 'value=0')).status, 201)
    let swaps = 0
    const statuses = new Map<number, number>()
    const client = async (): Promise<void> => {
      for (let round = 0; round < 15; round++) {
        const node = (JSON.parse((await call('GET', '/v2/keys/counter')).text) as { node: { value: string; modifiedIndex: number } }).node
        const reply = await call('PUT', `/v2/keys/counter?prevIndex=${node.modifiedIndex}`, `value=${Number(node.value) + 1}`)
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1)
        if (reply.status === 200) swaps += 1
        else assertV2Error(reply, 412, 101)
      }
    }
    await Promise.all(Array.from({ length: 32 }, client))
    const final = (JSON.parse((await call('GET', '/v2/keys/counter')).text) as { node: { value: string } }).node.value
    assert.equal(Number(final), swaps)
    assert.ok(swaps >= 15, `at least one swap per round: ${swaps}`)
    assert.deepEqual([...statuses.keys()].sort(), swaps === 480 ? [200] : [200, 412])
    await assertAlive()
  })

  test('32 concurrent prevExist=false on one key: exactly one 201, the rest 412/105', async () => {
    const replies = await Promise.all(Array.from({ length: 32 }, (_, i) => call('PUT', '/v2/keys/once?prevExist=false', `value=${i}`)))
    const created = replies.filter((r) => r.status === 201)
    assert.equal(created.length, 1)
    for (const r of replies.filter((reply) => reply.status !== 201)) assertV2Error(r, 412, 105, '/once')
    const winner = (created[0]?.json().node as { value: string }).value
    assert.equal((JSON.parse((await call('GET', '/v2/keys/once')).text).node as { value: string }).value, winner)
    await assertAlive()
  })

  test('64 concurrent POSTs create 64 distinct in-order keys, listed in order', async () => {
    const replies = await Promise.all(Array.from({ length: 64 }, (_, i) => call('POST', '/v2/keys/queue', `value=${i}`)))
    assert.ok(replies.every((r) => r.status === 201))
    const keys = replies.map((r) => (r.json().node as { key: string }).key)
    assert.equal(new Set(keys).size, 64)
    for (const key of keys) assert.match(key, /^\/queue\/\d{20}$/)
    const listing = JSON.parse((await call('GET', '/v2/keys/queue?sorted=true')).text) as { node: { nodes: { key: string }[] } }
    assert.deepEqual(listing.node.nodes.map((n) => n.key), [...keys].sort())
    await assertAlive()
  })

  test('the stalled body wrote nothing; slow-loris connections are closed after the headers timeout', async () => {
    assert.equal((await call('GET', '/v2/keys/stalled')).status, 404)
    // The CLI's headers timeout is 10 s; Node checks it once a second.
    const deadline = slowLorisStartedMs + 14_000
    while (slowLoris.some((c) => !c.ended) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const open = slowLoris.filter((c) => !c.ended)
    assert.equal(open.length, 0, `${open.length} slow-loris connections still open`)
    for (const c of slowLoris) assert.ok(c.received === '' || c.received.startsWith('HTTP/1.1 408 '), c.received)
    await assertAlive()
  })
})
