/**
 * Goal: the client is a package export of its own, `arbor/client`, served by the built bundle
 * (dist/client.mjs, made by `npm run build`, which `npm test` runs first), typed from the
 * sources; and "exports" closes every other deep import of the package.
 *
 * Method: the package imports itself by name (Node resolves a package's own "exports"), and
 * the module it gets is compared with the sources'.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as fromSource from '../../src/client/index.js'

const bundle = resolve(import.meta.dirname, '../../dist/client.mjs')

test('arbor/client is the built bundle, with the same exports and error mapping as the sources', async () => {
  assert(existsSync(bundle), `${bundle} is missing: run npm run build`)
  const client = await import('arbor/client')
  assert.deepEqual(Object.keys(client).sort(), Object.keys(fromSource).sort())
  assert.notEqual(client.V2ClientError, fromSource.V2ClientError, 'loaded from dist/, not from src/')
  const error = client.errorFromResponse(404, '{"errorCode":100,"message":"Key not found","cause":"/k","index":3}')
  assert.ok(error instanceof client.V2ClientError)
  assert.ok(client.isV2Error(error, client.v2ErrorCodes.KeyNotFound))
})

test('deep imports other than arbor/client and arbor/package.json are closed', async () => {
  await assert.rejects(import('arbor/dist/arbor.mjs' as string), (e: unknown) => (e as { code?: string }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')
  const manifest = (await import('arbor/package.json', { with: { type: 'json' } })) as { default: { name: string } }
  assert.equal(manifest.default.name, 'arbor')
})
