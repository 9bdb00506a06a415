/**
 * One-off requests to a peer's GET routes, for a member that is about to start: a member
 * joining with `--initial-cluster-state existing` learns the cluster ID and the member list
 * from a running member (etcd: GetClusterFromRemotePeers), and may check its version. Each
 * call opens one connection and closes it before it resolves, so nothing outlives it.
 */
import type { ConnectionOptions } from 'node:tls'
import { Client } from 'undici'
import { peerHeaders, peerPaths, decodeMemberList, decodeVersion, type PeerMemberInfo, type PeerVersion } from './wire.js'

/** Timings of a one-off peer request (ms). */
export interface PeerClientSettings {
  /** Time allowed to open the TCP connection. */
  readonly dialTimeoutMs: number
  /** Time allowed for the answer's headers, then between two pieces of its body. */
  readonly requestTimeoutMs: number
  /** TLS options for `https://` peer URLs (certificate, key, CA), ready-made; undefined: undici's defaults. */
  readonly tls?: ConnectionOptions
}

/** What GET /members of a running member says. */
export interface RemoteCluster {
  /** The cluster the answering member belongs to (its `X-Etcd-Cluster-ID`). */
  readonly clusterId: string
  readonly members: PeerMemberInfo[]
}

/** No URL answered usefully; `failures` says why, URL by URL. */
export class PeerRequestError extends Error {
  override readonly name = 'PeerRequestError'
  constructor(readonly failures: readonly { readonly url: string; readonly error: string }[]) {
    super(`no peer answered: ${failures.map((f) => `${f.url}: ${f.error}`).join('; ')}`)
  }
}

/**
 * Asks the members at `peerUrls`, one after the other, for the member list; the first good
 * answer wins.
 * @throws PeerRequestError when every URL failed (network, status other than 200, bad JSON,
 *         or no `X-Etcd-Cluster-ID`).
 */
export async function fetchPeerMembers(peerUrls: readonly string[], settings: PeerClientSettings): Promise<RemoteCluster> {
  const failures: { url: string; error: string }[] = []
  for (const url of peerUrls) {
    try {
      const { headers, body } = await getJson(url, peerPaths.members, settings)
      const clusterId = headers[peerHeaders.clusterId]
      if (typeof clusterId !== 'string' || clusterId === '') throw new Error(`no ${peerHeaders.clusterId} in the answer`)
      return { clusterId, members: decodeMemberList(body) }
    } catch (error) {
      failures.push({ url, error: error instanceof Error ? error.message : String(error) })
    }
  }
  throw new PeerRequestError(failures)
}

/**
 * Asks the member at `peerUrl` for its version.
 * @throws PeerRequestError on a network error, a status other than 200, or a bad body.
 */
export async function fetchPeerVersion(peerUrl: string, settings: PeerClientSettings): Promise<PeerVersion> {
  try {
    const { body } = await getJson(peerUrl, peerPaths.version, settings)
    return decodeVersion(body)
  } catch (error) {
    throw new PeerRequestError([{ url: peerUrl, error: error instanceof Error ? error.message : String(error) }])
  }
}

/** GET `path` on `url`'s origin over a connection of its own, closed before returning. */
async function getJson(url: string, path: string, settings: PeerClientSettings): Promise<{ headers: Record<string, string | string[] | undefined>; body: unknown }> {
  const client = new Client(new URL(url).origin, {
    connectTimeout: settings.dialTimeoutMs,
    ...(settings.tls === undefined ? {} : { connect: { ...settings.tls, timeout: settings.dialTimeoutMs } }),
    headersTimeout: settings.requestTimeoutMs,
    bodyTimeout: settings.requestTimeoutMs,
    keepAliveTimeout: settings.requestTimeoutMs,
    pipelining: 1,
    // A member list of a few hundred members fits many times over.
    maxResponseSize: 4 * 1024 * 1024,
  })
  try {
    const response = await client.request({ path, method: 'GET' })
    const text = await response.body.text()
    if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}: ${text.trim().slice(0, 300)}`)
    return { headers: response.headers, body: JSON.parse(text) as unknown }
  } finally {
    await client.destroy()
  }
}
