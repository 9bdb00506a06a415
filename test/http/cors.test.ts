/**
 * Goal: CORS as etcd's --cors sets it (spec v2-api.md §1.3, v2-auth-and-security.md §7): with
 * no list or `*`, the three headers on every answer; with a list, only a listed Origin is
 * echoed (no Vary); OPTIONS anywhere is an empty 200 before routing.
 * Method: app.inject() against members built with each setting.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { LightMyRequestResponse } from 'fastify'
import { startTestMember, type TestMember } from '../support/test-member.js'
import { send } from './inject.js'

const methods = 'POST, GET, OPTIONS, PUT, DELETE'
const headers = 'accept, content-type, authorization'

function corsOf(reply: LightMyRequestResponse): Record<string, unknown> {
  return {
    origin: reply.headers['access-control-allow-origin'],
    methods: reply.headers['access-control-allow-methods'],
    headers: reply.headers['access-control-allow-headers'],
    vary: reply.headers.vary,
  }
}

const anyOrigin = { origin: '*', methods, headers, vary: undefined }
const none = { origin: undefined, methods: undefined, headers: undefined, vary: undefined }

for (const corsOrigins of [[], ['*']]) {
  describe(`--cors ${JSON.stringify(corsOrigins)}: every answer allows any origin`, () => {
    let t: TestMember
    before(async () => {
      t = await startTestMember({ http: { corsOrigins } })
    })
    after(() => t.close())

    const requests: { method: 'GET' | 'PUT' | 'PATCH' | 'HEAD' | 'DELETE'; url: string; body?: string; status: number }[] = [
      { method: 'PUT', url: '/v2/keys/a', body: 'value=1', status: 201 },
      { method: 'GET', url: '/v2/keys/a', status: 200 },
      { method: 'HEAD', url: '/v2/keys/a', status: 200 },
      { method: 'GET', url: '/v2/keys/missing', status: 404 },
      { method: 'GET', url: '/v2/keys/a?sorted=zz', status: 400 },
      { method: 'DELETE', url: '/v2/keys/?recursive=true', status: 400 },
      { method: 'GET', url: '/v2/keys//a', status: 301 },
      { method: 'PATCH', url: '/v2/keys/a', status: 405 },
      { method: 'GET', url: '/nowhere', status: 404 },
      { method: 'GET', url: '/v2/members', status: 200 },
      { method: 'GET', url: '/v2/stats/self', status: 200 },
      { method: 'GET', url: '/version', status: 200 },
      { method: 'GET', url: '/health', status: 200 },
      { method: 'GET', url: '/v2/keys/a?wait=true&waitIndex=1', status: 200 },
    ]
    for (const r of requests) {
      test(`${r.method} ${r.url} (${r.status}) carries the three CORS headers`, async () => {
        const reply = await send(t.app, r.method, r.url, r.body, { origin: 'http://anything.example' })
        assert.equal(reply.statusCode, r.status)
        assert.deepEqual(corsOf(reply), anyOrigin)
      })
    }

    for (const url of ['/v2/keys/a', '/nowhere', '/v2/keys/a?sorted=zz&prevValue=', '/v2/members/12', '/metrics']) {
      test(`OPTIONS ${url} is an empty 200 with the CORS headers`, async () => {
        const reply = await send(t.app, 'OPTIONS' as 'GET', url)
        assert.equal(reply.statusCode, 200)
        assert.equal(reply.headers['content-length'], '0')
        assert.equal(reply.body, '')
        assert.equal(reply.headers['x-etcd-index'], undefined)
        assert.deepEqual(corsOf(reply), anyOrigin)
      })
    }

    test('OPTIONS writes nothing', async () => {
      const before = await send(t.app, 'GET', '/v2/keys/')
      await send(t.app, 'OPTIONS' as 'GET', '/v2/keys/b', 'value=1')
      const afterwards = await send(t.app, 'GET', '/v2/keys/')
      assert.equal(afterwards.headers['x-etcd-index'], before.headers['x-etcd-index'])
    })
  })
}

describe('--cors with a list: only a listed Origin is echoed', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember({ http: { corsOrigins: ['http://a.example:8080', 'https://b.example:443'] } })
  })
  after(() => t.close())

  test('a listed origin is echoed with the two companion headers, without Vary', async () => {
    const reply = await send(t.app, 'PUT', '/v2/keys/a', 'value=1', { origin: 'http://a.example:8080' })
    assert.equal(reply.statusCode, 201)
    assert.deepEqual(corsOf(reply), { origin: 'http://a.example:8080', methods, headers, vary: undefined })
  })

  test('the second listed origin too', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/a', undefined, { origin: 'https://b.example:443' })
    assert.deepEqual(corsOf(reply), { origin: 'https://b.example:443', methods, headers, vary: undefined })
  })

  for (const origin of ['http://evil.example', 'http://a.example:8081', 'HTTP://A.EXAMPLE:8080', 'http://a.example:8080/', 'null']) {
    test(`an unlisted origin (${origin}) gets no CORS headers but is served`, async () => {
      const reply = await send(t.app, 'GET', '/v2/keys/a', undefined, { origin })
      assert.equal(reply.statusCode, 200)
      assert.deepEqual(corsOf(reply), none)
    })
  }

  test('no Origin gets no CORS headers but is served', async () => {
    const reply = await send(t.app, 'GET', '/v2/keys/a')
    assert.equal(reply.statusCode, 200)
    assert.deepEqual(corsOf(reply), none)
  })

  test('OPTIONS from a listed origin: 200 with its headers', async () => {
    const reply = await send(t.app, 'OPTIONS' as 'GET', '/v2/keys/a', undefined, { origin: 'http://a.example:8080' })
    assert.equal(reply.statusCode, 200)
    assert.deepEqual(corsOf(reply), { origin: 'http://a.example:8080', methods, headers, vary: undefined })
  })

  test('OPTIONS from another origin: 200 without CORS headers', async () => {
    const reply = await send(t.app, 'OPTIONS' as 'GET', '/v2/keys/a', undefined, { origin: 'http://evil.example' })
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.body, '')
    assert.deepEqual(corsOf(reply), none)
  })
})
