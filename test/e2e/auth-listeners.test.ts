/**
 * Goal: a real member with two client URLs checks credentials with ONE cache and counts
 * failed logins in ONE series: a credential bcrypt verified on one listener is answered from
 * the cache on the other (`--auth-cache-ttl-ms`, `--auth-cache-entries-max` hold per member,
 * not per listener).
 * Method: one member started with two plain-HTTP `--listen-client-urls`; root created and
 * auth enabled over HTTP; requests with the same Basic credentials on each URL; bcrypt runs
 * (`arbor_auth_password_verifications_total`) and failed logins
 * (`arbor_auth_failed_logins_total`) read from `/metrics` on both.
 */
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { freePort, removeDir, startArbor, type ArborProcess } from '../support/arbor-process.js'

let member: ArborProcess | undefined
const urls: string[] = []

before(async () => {
  const ports = [await freePort(), await freePort()]
  for (const port of ports) urls.push(`http://127.0.0.1:${port}`)
  member = await startArbor({
    clientPort: ports[0],
    extraArgs: ['--listen-client-urls', urls.join(','), '--advertise-client-urls', urls.join(',')],
  })
})

after(async () => {
  if (member === undefined) return
  await member.stop()
  removeDir(join(member.dataDir, '..')) // startArbor's temporary directory, around data/
})

function basic(credentials: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` }
}

async function status(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<number> {
  const response = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body }) })
  await response.arrayBuffer()
  return response.status
}

/** The value of the unlabelled sample `name` in `url`'s /metrics, or undefined. */
async function sample(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(url + '/metrics')).text()
  const line = text.split('\n').find((l) => l.startsWith(name + ' '))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

test('two client listeners of one member share verified credentials and the failed-login count', { timeout: 60_000 }, async () => {
  const [a, b] = urls
  assert(a !== undefined && b !== undefined)
  const json = { 'content-type': 'application/json' }
  assert.equal(await status(a, 'PUT', '/v2/auth/users/root', json, '{"user":"root","password":"rootpw"}'), 201)
  assert.equal(await status(b, 'PUT', '/v2/auth/enable'), 200)
  const verifications = 'arbor_auth_password_verifications_total'
  const failed = 'arbor_auth_failed_logins_total'

  assert.equal(await status(a, 'GET', '/v2/keys/', basic('root:rootpw')), 200)
  assert.equal(await sample(a, verifications), 1)
  assert.equal(await status(b, 'GET', '/v2/keys/', basic('root:rootpw')), 200)
  assert.equal(await sample(b, verifications), 1, 'the second listener answered from the member\'s cache')

  assert.equal(await status(a, 'GET', '/v2/keys/', basic('root:wrong')), 401)
  assert.equal(await status(b, 'GET', '/v2/keys/', basic('root:wrong')), 401)
  for (const url of urls) {
    assert.equal(await sample(url, failed), 2, `failed logins of both listeners, read on ${url}`)
    assert.equal(await sample(url, verifications), 3, 'failures are never cached')
  }
})
