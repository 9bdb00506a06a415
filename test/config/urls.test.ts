// Goal: member URLs and --initial-cluster are accepted and refused as etcd 3.4.23 does
// (pkg/types/urls.go, embed/config.go), plus arbor's stricter rules for what it cannot do.
// Method: tables of URL → expected problem (or none), for each use.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  bindAddressOf,
  parseInitialCluster,
  renderInitialCluster,
  splitUrlList,
  uniqueUrls,
  urlProblem,
  type UrlUse,
} from '../../src/config/urls.js'

const cases: { url: string; use: UrlUse; problem?: RegExp }[] = [
  { url: 'http://127.0.0.1:2379', use: 'listen' },
  { url: 'http://0.0.0.0:0', use: 'listen' },
  { url: 'http://localhost:2379', use: 'listen' },
  { url: 'http://[::1]:2379', use: 'listen' },
  { url: 'HTTP://127.0.0.1:2379', use: 'listen' },
  { url: 'https://127.0.0.1:2379', use: 'listen' },
  { url: 'unix://127.0.0.1:2379', use: 'listen', problem: /^URL scheme must be http or https: unix:/ },
  { url: 'unix://127.0.0.1:2379', use: 'listen', problem: /^URL scheme must be http / },
  { url: 'http://example.com:2379', use: 'listen', problem: /^URL host must be an IP address or localhost/ },
  { url: 'http://:2379', use: 'listen', problem: /^URL host must be an IP address or localhost/ },
  { url: 'http://256.0.0.1:2379', use: 'listen', problem: /^URL host must be an IP address/ },
  { url: 'http://[zz]:2379', use: 'listen', problem: /^URL host is not an IPv6 address/ },
  { url: 'http://127.0.0.1:65536', use: 'listen', problem: /^URL port must be between 0 and 65535/ },
  { url: 'http://127.0.0.1:2379/', use: 'listen', problem: /^URL must not contain a path, query or fragment: http:\/\/127.0.0.1:2379\/$/ },
  { url: 'http://127.0.0.1:2379/x', use: 'advertise', problem: /^URL must not contain a path/ },
  { url: 'http://127.0.0.1:2379?a=b', use: 'advertise', problem: /^URL must not contain a path, query/ },
  { url: 'http://127.0.0.1', use: 'advertise', problem: /^URL address does not have the form "host:port": http:\/\/127.0.0.1$/ },
  { url: 'http://u:p@127.0.0.1:1', use: 'advertise', problem: /^URL must not contain user information/ },
  { url: '127.0.0.1:2379', use: 'advertise', problem: /^not a URL of the form scheme:\/\/host:port/ },
  { url: '', use: 'advertise', problem: /^empty URL in the list$/ },
  { url: 'https://node-1.example.com:2379', use: 'advertise' },
  { url: 'ftp://a:1', use: 'advertise', problem: /^URL scheme must be http or https: ftp:\/\/a:1$/ },
  { url: 'http://:2379', use: 'advertise', problem: /^URL host must not be empty/ },
  { url: 'http://a:0', use: 'advertise', problem: /^URL port must be between 1 and 65535/ },
  { url: 'http://foo.com', use: 'origin', problem: /does not have the form "host:port"/ },
  { url: 'https://b.example:443', use: 'origin' },
]

describe('urlProblem', () => {
  for (const c of cases) {
    test(`${c.use} ${JSON.stringify(c.url)} is ${c.problem === undefined ? 'accepted' : 'refused'}`, () => {
      const problem = urlProblem(c.url, c.use)
      if (c.problem === undefined) assert.equal(problem, undefined)
      else assert.match(problem ?? '', c.problem)
    })
  }
})

describe('bindAddressOf', () => {
  test('gives the host and the explicit port, even the default port of the scheme', () => {
    assert.deepEqual(bindAddressOf('http://127.0.0.1:2379'), { host: '127.0.0.1', port: 2379 })
    assert.deepEqual(bindAddressOf('http://127.0.0.1:80'), { host: '127.0.0.1', port: 80 })
  })
  test('unbrackets an IPv6 host', () => {
    assert.deepEqual(bindAddressOf('http://[::1]:2380'), { host: '::1', port: 2380 })
  })
  test('refuses a URL that is not a listen URL (a bug in the caller)', () => {
    assert.throws(() => bindAddressOf('http://example.com:1'), { name: 'AssertionFailure' })
  })
})

describe('URL lists', () => {
  test('split on commas with each item trimmed; empty items kept for the checks', () => {
    assert.deepEqual(splitUrlList(' http://a:1 ,http://b:2,'), ['http://a:1', 'http://b:2', ''])
  })
  test('repeats are dropped, order kept', () => {
    assert.deepEqual(uniqueUrls(['http://b:2', 'http://a:1', 'http://b:2']), ['http://b:2', 'http://a:1'])
  })
})

describe('parseInitialCluster', () => {
  test('groups the URLs of a repeated name, in order of first appearance', () => {
    assert.deepEqual(parseInitialCluster('b=http://b:2380, a=http://a:1,b=http://b:2381'), [
      { name: 'b', peerUrls: ['http://b:2380', 'http://b:2381'] },
      { name: 'a', peerUrls: ['http://a:1'] },
    ])
  })
  test('skips empty items as etcd does', () => {
    assert.deepEqual(parseInitialCluster(',a=http://a:1,,'), [{ name: 'a', peerUrls: ['http://a:1'] }])
    assert.deepEqual(parseInitialCluster(''), [])
  })
  test('an item without "=" or without a name is refused with a reason', () => {
    assert.equal(parseInitialCluster('foo'), 'expected name=URL items separated by commas, got "foo"')
    assert.equal(parseInitialCluster('=http://a:1'), 'member name must not be empty in "=http://a:1"')
  })
  test('renders back to the flag form', () => {
    const text = 'a=http://a:1,a=http://a:2,b=http://b:1'
    const members = parseInitialCluster(text)
    assert.ok(Array.isArray(members))
    assert.equal(renderInitialCluster(members), text)
  })
})
