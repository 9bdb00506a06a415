/**
 * Goal: `--host-whitelist` as etcd has it (spec v2-auth-and-security.md §7): a listed Host
 * (port stripped, case-sensitive) is served, any other gets 421 with etcd's text naming it,
 * before CORS and routing; `*` (the default) serves every Host.
 * Method: app.inject() against members built with each setting.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestMember, type TestMember } from '../support/test-member.js'
import { hostNameOf, misdirectedText } from '../../src/http/host-whitelist.js'

describe('--host-whitelist example.com,127.0.0.1', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember({ http: { hostWhitelist: ['example.com', '127.0.0.1'] } })
  })
  after(() => t.close())

  const cases: [host: string, status: number][] = [
    ['example.com', 200],
    ['example.com:2379', 200],
    ['127.0.0.1:2379', 200],
    ['EXAMPLE.com', 421],
    ['evil.com:2379', 421],
    ['[::1]:2379', 421],
  ]
  for (const [host, status] of cases) {
    test(`Host ${host}: ${status}`, async () => {
      const reply = await t.app.inject({ method: 'GET', url: '/version', headers: { host } })
      assert.equal(reply.statusCode, status)
      if (status === 421) {
        assert.equal(reply.body, misdirectedText(hostNameOf(host)))
        assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8')
        assert.equal(reply.headers['access-control-allow-origin'], undefined, 'refused before CORS')
      }
    })
  }
})

describe('--host-whitelist * (the default)', () => {
  let t: TestMember
  before(async () => {
    t = await startTestMember({ http: { hostWhitelist: ['*'] } })
  })
  after(() => t.close())
  test('any Host is served', async () => {
    const reply = await t.app.inject({ method: 'GET', url: '/version', headers: { host: 'evil.com' } })
    assert.equal(reply.statusCode, 200)
  })
})

describe('--host-whitelist example.com on a TLS listener', () => {
  let t: TestMember
  before(async () => {
    // etcd checks the Host on plain-HTTP listeners only: a TLS client already checked the name.
    t = await startTestMember({ http: { hostWhitelist: ['example.com'], tls: {} } })
  })
  after(() => t.close())
  test('any Host is served', async () => {
    const reply = await t.app.inject({ method: 'GET', url: '/version', headers: { host: 'evil.com' } })
    assert.equal(reply.statusCode, 200)
  })
})

test('the 421 text is etcd\'s, naming the host', () => {
  assert.equal(hostNameOf('[::1]:2379'), '::1')
  assert.match(misdirectedText('evil.com'), /^\netcd received your request, but the Host header was unrecognized\.\n[\s\S]*--host-whitelist "evil\.com"\n\nThis requirement has been added to help prevent "DNS Rebinding" attacks \(CVE-2018-5702\)\.\n\n$/)
})
