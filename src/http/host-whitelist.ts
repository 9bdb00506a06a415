/**
 * `--host-whitelist` (spec/v2-auth-and-security.md §7; etcd embed/serve.go): on a plain-HTTP
 * listener, a request whose Host (port stripped, compared case-sensitively) is not listed
 * gets `421 Misdirected Request` with etcd's explanation, before CORS and routing: a defence
 * against DNS rebinding (CVE-2018-1099), where a web page reaches a local server through a
 * name its attacker controls. Installed only when the list is not `*`.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'

/** The Host header's name without its port (`[::1]:2379` → `::1`, `a:1` → `a`). */
export function hostNameOf(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    return end < 0 ? host : host.slice(1, end)
  }
  const colon = host.lastIndexOf(':')
  return colon < 0 ? host : host.slice(0, colon)
}

/** etcd's 421 text, naming the refused host (errCVE20185702). */
export function misdirectedText(host: string): string {
  return (
    '\netcd received your request, but the Host header was unrecognized.\n\n' +
    'To fix this, choose one of the following options:\n' +
    '- Enable TLS, then any HTTPS request will be allowed.\n' +
    '- Add the hostname you want to use to the whitelist in settings.\n' +
    `  - e.g. etcd --host-whitelist "${host}"\n\n` +
    'This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).\n\n'
  )
}

/** An onRequest hook that answers 421 to a Host outside `allowed`. */
export function hostWhitelistHook(allowed: readonly string[], logger?: FastifyBaseLogger) {
  const names = new Set(allowed)
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const host = hostNameOf(request.headers.host ?? '')
    if (names.has(host)) return done()
    logger?.warn({ host }, 'rejecting HTTP request to prevent DNS rebinding attacks')
    void reply.code(421).header('content-type', 'text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(misdirectedText(host))
  }
}
