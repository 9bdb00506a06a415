/**
 * How this member opens connections to its peers when TLS is on: an undici connector that
 * asks the CLI for the current TLS options at each new connection, so a certificate
 * reloaded from disk is presented by the next connection without a restart (etcd re-reads
 * its certificates at each handshake). The options are ready-made (certificate, key, CA,
 * whether the peer is verified); nothing here reads a file.
 */
import type { ConnectionOptions } from 'node:tls'
import { buildConnector } from 'undici'

/** The TLS options of the next connection to a peer (an `https://` peer URL). */
export type DialTls = () => ConnectionOptions

/**
 * An undici `connect` function for `Pool`/`Client`: plain TCP for `http://` origins, TLS with
 * `dialTls()` for `https://`. The connector is rebuilt only when `dialTls()` returns another
 * object, so TLS sessions are reused between reloads.
 * @param timeoutMs time allowed to open the connection, TLS handshake included (ms).
 */
export function connectorOf(dialTls: DialTls, timeoutMs: number): buildConnector.connector {
  let built: { readonly tls: ConnectionOptions; readonly connect: buildConnector.connector } | undefined
  return (options, callback) => {
    const tls = dialTls()
    if (built?.tls !== tls) built = { tls, connect: buildConnector({ ...tls, timeout: timeoutMs }) }
    built.connect(options, callback)
  }
}
