/**
 * Goal: the client port routes as etcd's Go ServeMux does (spec v2-api.md §1.1, §2.1): exact
 * paths, Go's plain-text 404, each handler's 405 with its Allow list, and no X-Etcd-* headers
 * on those answers.
 * Method: app.inject() against a one-member in-memory arbor.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestMember, type TestMember } from '../support/test-member.js'
import { send } from './inject.js'

describe('routing', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember()
  })
  after(() => t.close())

  const notFound = [
    '/',
    '/v2',
    '/v2/',
    '/v2/keysfoo',
    '/v2/keysfoo/a',
    '/v2/machines/',
    '/v2/stats',
    '/v2/stats/',
    '/v2/stats/store/',
    '/v2/stats/other',
    '/V2/keys',
    '/v2/KEYS',
    '/version/',
    '/healthz',
    '/v3/kv/range',
  ]
  for (const url of notFound) {
    test(`GET ${url} is Go's plain-text 404`, async () => {
      const reply = await send(t.app, 'GET', url)
      assert.equal(reply.statusCode, 404)
      assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8')
      assert.equal(reply.headers['x-content-type-options'], 'nosniff')
      assert.equal(reply.body, '404 page not found\n')
      assert.equal(reply.headers['x-etcd-index'], undefined)
      assert.equal(reply.headers['access-control-allow-origin'], '*')
    })
  }

  const notAllowed: { method: 'PATCH' | 'PUT' | 'POST' | 'DELETE' | 'HEAD' | 'TRACE'; url: string; allow: string }[] = [
    { method: 'PATCH', url: '/v2/keys/a', allow: 'HEAD,GET,PUT,POST,DELETE' },
    { method: 'TRACE', url: '/v2/keys/a', allow: 'HEAD,GET,PUT,POST,DELETE' },
    { method: 'PATCH', url: '/v2/keys', allow: 'HEAD,GET,PUT,POST,DELETE' },
    { method: 'PATCH', url: '/v2/members', allow: 'GET,POST,DELETE,PUT' },
    { method: 'PUT', url: '/v2/machines', allow: 'GET,HEAD' },
    { method: 'POST', url: '/v2/machines', allow: 'GET,HEAD' },
    { method: 'HEAD', url: '/v2/stats/self', allow: 'GET' },
    { method: 'PUT', url: '/v2/stats/store', allow: 'GET' },
    { method: 'DELETE', url: '/v2/stats/leader', allow: 'GET' },
    { method: 'HEAD', url: '/version', allow: 'GET' },
    { method: 'POST', url: '/version', allow: 'GET' },
    { method: 'PUT', url: '/health', allow: 'GET' },
  ]
  for (const row of notAllowed) {
    test(`${row.method} ${row.url} is 405 with Allow: ${row.allow}`, async () => {
      const reply = await send(t.app, row.method, row.url)
      assert.equal(reply.statusCode, 405)
      assert.equal(reply.headers.allow, row.allow)
      assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8')
      assert.equal(reply.headers['x-content-type-options'], 'nosniff')
      assert.equal(reply.body, row.method === 'HEAD' ? '' : 'Method Not Allowed\n')
      assert.equal(reply.headers['x-etcd-index'], undefined)
      assert.equal(reply.headers['x-etcd-cluster-id'], undefined)
      assert.equal(reply.headers['access-control-allow-origin'], '*')
    })
  }

  test('a 405 on /v2/keys executes nothing', async () => {
    const before = await send(t.app, 'GET', '/v2/keys/')
    await send(t.app, 'PATCH', '/v2/keys/a', 'value=1')
    const afterwards = await send(t.app, 'GET', '/v2/keys/')
    assert.equal(afterwards.body, before.body)
    assert.equal(afterwards.headers['x-etcd-index'], before.headers['x-etcd-index'])
  })

  test('/metrics answers any method', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      const reply = await send(t.app, method, '/metrics')
      assert.equal(reply.statusCode, 200, method)
    }
  })

  test('an absolute-form target is served as its local path', async () => {
    const reply = await send(t.app, 'GET', 'http://elsewhere.example:1234/version')
    assert.equal(reply.statusCode, 200)
    assert.equal(reply.body, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}')
  })
})
