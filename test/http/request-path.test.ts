/**
 * Goal: the request target is read as Go's net/http reads it before etcd's handlers run
 * (spec v2-api.md §1.2, §7.1): decoded paths, the 301 of a path needing cleaning (nothing
 * executes), the plain 400 of a bad escape.
 * Method: unit tables for parseRequestTarget/cleanPath/escapePath, then app.inject() against
 * an in-memory member for the answers a client sees.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { cleanPath, escapePath, htmlEscape, parseRequestTarget } from '../../src/http/request-path.js'
import { startTestMember, type TestMember } from '../support/test-member.js'
import { keySpace, send } from './inject.js'

describe('cleanPath (Go net/http cleanPath)', () => {
  const cases: [string, string][] = [
    ['', '/'],
    ['a', '/a'],
    ['/', '/'],
    ['//', '/'],
    ['/a//b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../a', '/a'],
    ['/..', '/'],
    ['/.', '/'],
    ['/a/b/', '/a/b/'],
    ['/a/b/..', '/a'],
    ['/a/b/../', '/a/'],
    ['/a/./', '/a/'],
    ['/v2/keys/../../a/b', '/a/b'],
    ['/a/.../b', '/a/.../b'],
    ['/a/..b/c', '/a/..b/c'],
  ]
  for (const [input, want] of cases) test(`"${input}" → "${want}"`, () => assert.equal(cleanPath(input), want))
})

describe('escapePath (Go URL.EscapedPath, for Location)', () => {
  const cases: [string, string][] = [
    ['/v2/keys/a', '/v2/keys/a'],
    ['/a b', '/a%20b'],
    ['/a\r\nb', '/a%0D%0Ab'],
    ['/a?b#c%', '/a%3Fb%23c%25'],
    ["/$&+,:;=@-_.~'", "/$&+,:;=@-_.~%27"],
    ['/ünï', '/%C3%BCn%C3%AF'],
    ['/a\u0000', '/a%00'],
  ]
  for (const [input, want] of cases) test(`${JSON.stringify(input)} → ${want}`, () => assert.equal(escapePath(input), want))
})

describe('htmlEscape (Go html.EscapeString)', () => {
  test('escapes & \' < > "', () => assert.equal(htmlEscape(`a&b'c<d>e"f`), 'a&amp;b&#39;c&lt;d&gt;e&#34;f'))
})

describe('parseRequestTarget', () => {
  const cases: { raw: string; path?: string; rawQuery?: string; redirectTo?: string; invalid?: true }[] = [
    { raw: '/v2/keys/a?x=1', path: '/v2/keys/a', rawQuery: 'x=1' },
    { raw: '/v2/keys/a%2Fb', path: '/v2/keys/a/b', rawQuery: '' },
    { raw: '/v2/keys/hello%20world', path: '/v2/keys/hello world', rawQuery: '' },
    { raw: '/v2/keys/h+plus', path: '/v2/keys/h+plus', rawQuery: '' },
    { raw: '/v2/keys/a%3Fb?c=%3F', path: '/v2/keys/a?b', rawQuery: 'c=%3F' },
    { raw: '/v2/keys/pct%25', path: '/v2/keys/pct%', rawQuery: '' },
    { raw: '/v2/keys/a/b/', path: '/v2/keys/a/b/', rawQuery: '' },
    { raw: '/v2/keys/a?', path: '/v2/keys/a', rawQuery: '' },
    { raw: '/v2/keys/a?b?c', path: '/v2/keys/a', rawQuery: 'b?c' },
    // Go's ParseRequestURI has no fragment: a '#' stays in the path or the query.
    { raw: '/v2/keys/a#b', path: '/v2/keys/a#b', rawQuery: '' },
    { raw: '/v2/keys/a?value=1#x', path: '/v2/keys/a', rawQuery: 'value=1#x' },
    { raw: 'http://other.example:99/v2/keys/a?x', path: '/v2/keys/a', rawQuery: 'x' },
    { raw: '/v2/keys//a/b?recursive=true', path: '/v2/keys//a/b', redirectTo: '/v2/keys/a/b?recursive=true' },
    { raw: '/v2/keys/a/c/%2E%2E/b', path: '/v2/keys/a/c/../b', redirectTo: '/v2/keys/a/b' },
    { raw: '/v2/keys/a/c/%2e%2e/b', path: '/v2/keys/a/c/../b', redirectTo: '/v2/keys/a/b' },
    { raw: '/v2/keys/a/..%2fb', path: '/v2/keys/a/../b', redirectTo: '/v2/keys/b' },
    { raw: '/v2/keys/../../a/b', path: '/v2/keys/../../a/b', redirectTo: '/a/b' },
    { raw: '/v2/keys/../x', path: '/v2/keys/../x', redirectTo: '/v2/x' },
    { raw: '/v2/keys/./a', path: '/v2/keys/./a', redirectTo: '/v2/keys/a' },
    { raw: '/v2/keys//a%0D%0Ab', path: '/v2/keys//a\r\nb', redirectTo: '/v2/keys/a%0D%0Ab' },
    { raw: '/v2/keys/%zz', invalid: true },
    { raw: '/v2/keys/%2', invalid: true },
    { raw: '/v2/keys/%', invalid: true },
    { raw: '/v2/keys/a%G0?x=1', invalid: true },
  ]
  for (const c of cases) {
    test(`${c.raw}`, () => {
      const target = parseRequestTarget(c.raw)
      if (c.invalid === true) return assert.equal(target, undefined)
      assert.ok(target !== undefined)
      assert.equal(target.path, c.path)
      if (c.rawQuery !== undefined) assert.equal(target.rawQuery, c.rawQuery)
      assert.equal(target.redirectTo, c.redirectTo)
    })
  }
})

describe('answers through the app', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember()
    await send(t.app, 'PUT', '/v2/keys/a/b', 'value=1')
  })
  after(() => t.close())

  test('GET of a path needing cleaning: 301 with Go\'s HTML anchor and the query kept', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys//a/b?recursive=true&x=<&y')
    assert.equal(reply.statusCode, 301)
    assert.equal(reply.headers.location, '/v2/keys/a/b?recursive=true&x=<&y')
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(reply.body, '<a href="/v2/keys/a/b?recursive=true&amp;x=&lt;&amp;y">Moved Permanently</a>.\n\n')
    assert.equal(reply.headers['access-control-allow-origin'], '*', 'CORS headers are on the 301')
    assert.equal(reply.headers['x-etcd-index'], undefined)
  })

  test('HEAD of a path needing cleaning: 301, the HTML content type, no body', async () => {
    const reply = await send(t.app, 'HEAD', '/v2/keys/a/./b')
    assert.equal(reply.statusCode, 301)
    assert.equal(reply.headers.location, '/v2/keys/a/b')
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(reply.body, '')
  })

  for (const method of ['PUT', 'POST', 'DELETE'] as const) {
    test(`${method} of a path needing cleaning: 301, no body, no Content-Type, nothing written`, async () => {
      const before = await keySpace(t.app)
      const reply = await send(t.app, method, '/v2/keys/x/%2E%2E/a/b?recursive=true', 'value=2')
      assert.equal(reply.statusCode, 301)
      assert.equal(reply.headers.location, '/v2/keys/a/b?recursive=true')
      assert.equal(reply.headers['content-type'], undefined)
      assert.equal(reply.headers['content-length'], '0')
      assert.equal(reply.body, '')
      assert.deepEqual(await keySpace(t.app), before)
    })
  }

  test('.. can climb out of /v2/keys: the redirect leaves the key space', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/../../a/b', 'value=3')
    assert.equal(reply.statusCode, 301)
    assert.equal(reply.headers.location, '/a/b')
  })

  test('a trailing slash is served directly as the key without it', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/a/b/')
    assert.equal(reply.statusCode, 200)
    assert.equal(JSON.parse(reply.body).node.key, '/a/b')
  })

  test('an encoded slash is a separator', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/a%2Fb')
    assert.equal(reply.statusCode, 200)
    assert.equal(JSON.parse(reply.body).node.key, '/a/b')
  })

  for (const url of ['/v2/keys/%zz', '/v2/keys/%2', '/v2/keys/a%', '/v2/members/%g0', '/nope/%zz']) {
    test(`a bad escape in the path (${url}) is a plain 400 that closes the connection, without CORS`, async () => {
      const reply = await send(t.app, 'GET', url)
      assert.equal(reply.statusCode, 400)
      assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8')
      assert.equal(reply.headers.connection, 'close')
      assert.equal(reply.body, '400 Bad Request')
      assert.equal(reply.headers['access-control-allow-origin'], undefined)
    })
  }

  test('a bad escape in the real request target (no raw-URL header) gets the same plain 400', async () => {
    const reply = await t.app.inject({ method: 'GET', url: '/v2/keys/%zz?x=1' })
    assert.equal(reply.statusCode, 400)
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(reply.headers.connection, 'close')
    assert.equal(reply.body, '400 Bad Request')
    assert.equal(reply.headers['access-control-allow-origin'], undefined)
  })

  test('invalid UTF-8 escapes are valid escapes: the key is stored, rendered with U+FFFD', async () => {
    const reply = await t.app.inject({
      method: 'PUT',
      url: '/v2/keys/u/%FF%FE',
      payload: 'value=%C0%AF',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(reply.statusCode, 201)
    // Go writes each invalid byte as the escape \ufffd (spec §1.4).
    assert.ok(reply.body.includes(String.raw`"key":"/u/\ufffd\ufffd","value":"\ufffd\ufffd"`), reply.body)
    assert.equal((await send(t.app, 'DELETE', '/v2/keys/u?recursive=true')).statusCode, 200)
  })

  test('a bad escape in the path is a 400 for PUT too, and nothing is written', async () => {
    const before = await keySpace(t.app)
    const reply = await send(t.app, 'PUT', '/v2/keys/%zz', 'value=1')
    assert.equal(reply.statusCode, 400)
    assert.deepEqual(await keySpace(t.app), before)
  })
})
