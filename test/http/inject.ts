/**
 * Shared helpers of the HTTP tests: requests through `app.inject()` with a form body, and a
 * snapshot of the whole key space to prove that a request changed nothing.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import assert from 'node:assert/strict'
import { rawUrlHeader } from '../support/test-member.js'

/** The Content-Type etcd clients send with a form body. */
export const formType = { 'content-type': 'application/x-www-form-urlencoded' } as const

/**
 * Sends `method url` with `body` as a form (or no body when undefined). `url` is sent as
 * the raw request target, byte for byte (through the test member's raw-URL header).
 */
export function send(
  app: FastifyInstance,
  method: NonNullable<InjectOptions['method']>,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const raw = { [rawUrlHeader]: url, ...headers }
  if (body === undefined) return app.inject({ method, url: '/', headers: raw })
  return app.inject({ method, url: '/', payload: body, headers: { ...formType, ...raw } })
}

/** The key space and the etcd index, to compare before and after a request. */
export async function keySpace(app: FastifyInstance): Promise<{ index: string; body: string }> {
  const reply = await app.inject({ method: 'GET', url: '/v2/keys/?recursive=true&sorted=true' })
  assert.equal(reply.statusCode, 200)
  return { index: String(reply.headers['x-etcd-index']), body: reply.body }
}

/** A reply's v2 error fields, for compact assertions. */
export function v2Error(reply: LightMyRequestResponse): { status: number; errorCode: number; cause?: string; index: number } {
  const body = reply.json() as { errorCode: number; message: string; cause?: string; index: number }
  const out: { status: number; errorCode: number; cause?: string; index: number } = {
    status: reply.statusCode,
    errorCode: body.errorCode,
    index: body.index,
  }
  if (body.cause !== undefined) out.cause = body.cause
  return out
}

/**
 * Resolves once `condition()` holds, checking after each pass of the event loop (no timer).
 * @throws Error after `passesMax` passes.
 */
export async function until(condition: () => boolean, passesMax = 10_000): Promise<void> {
  for (let pass = 0; pass < passesMax; pass++) {
    if (condition()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error('condition not reached')
}
