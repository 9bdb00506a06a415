/**
 * CORS as etcd's `--cors` sets it (spec v2-api.md §1.3): with no list (or `*`) every answer
 * carries the three headers with origin `*`; with a list, only a listed `Origin` is echoed.
 * OPTIONS on any path is answered 200 with just these headers, before routing.
 *
 * Written here rather than with @fastify/cors because etcd sends Allow-Methods and
 * Allow-Headers on every answer (not only pre-flights), and clients were written against that.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'

/** Sets the CORS headers `allowedOrigins` grants to `request` ([] or ['*']: any origin). */
export function corsHook(
  allowedOrigins: readonly string[],
): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  const any = allowedOrigins.length === 0 || allowedOrigins.includes('*')
  const allowed = new Set(allowedOrigins)
  return (request, reply, done) => {
    let origin: string | undefined = '*'
    if (!any) {
      const asked = request.headers.origin
      origin = typeof asked === 'string' && allowed.has(asked) ? asked : undefined
    }
    if (origin !== undefined) setCorsHeaders(reply, origin)
    done()
  }
}

function setCorsHeaders(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-headers', 'accept, content-type, authorization')
  reply.header('access-control-allow-methods', 'POST, GET, OPTIONS, PUT, DELETE')
  reply.header('access-control-allow-origin', origin)
}
