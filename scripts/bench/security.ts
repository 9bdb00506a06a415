/**
 * The security settings a benchmark run measures under, applied alike to arbor and etcd 3.4:
 *  - `--tls`: client and peer URLs are https. One throwaway CA per run (made with openssl by
 *    test/support/tls-certs.ts in the run's temporary directory) signs one member
 *    certificate (SANs 127.0.0.1 and localhost) that every member serves on its client and
 *    peer URLs and presents to its peers; peers must present it (`--peer-client-cert-auth`).
 *    The load driver trusts the CA.
 *  - `--client-cert-auth` (with `--tls`): the client URLs also demand a certificate signed by
 *    the CA (`--trusted-ca-file --client-cert-auth`; in etcd 3.4 `--trusted-ca-file` alone
 *    already demands one), and the driver presents a client certificate (CN `bench`).
 *  - `--auth`: once the cluster is up, the v2 auth API creates user `root`, a role `bench-rw`
 *    with read and write on `/*`, user `bench` holding it, and enables auth; every measured
 *    request then carries `Authorization: Basic` for `bench`, so each one is authenticated
 *    and checked against the role. (The guest role differs — etcd 3.4 creates it with read
 *    and write on `/*`, arbor with none — which is why no request goes anonymous.)
 * Answers of the set-up steps, checked against etcd 3.4.23 and arbor by hand: root 201,
 * role 201, bench with roles 200, enable 200 (empty body); afterwards a wrong password on a
 * key answers 401 errorCode 110 on both.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { makeCa, makeLeaf, type CertFiles } from '../../test/support/tls-certs.js'
import { requestOnce, type Access } from './load.js'

/** What a run turns on; `clientCertAuth` needs `tls`. */
export interface SecuritySettings {
  readonly tls: boolean
  readonly clientCertAuth: boolean
  readonly auth: boolean
}

/** The user every request runs as under `--auth`, and its role. */
export const benchUser = 'bench'
export const benchRole = 'bench-rw'
/** Bound on auth becoming visible on every member after it was enabled, in ms. */
const authSpreadTimeoutMs = 10_000

/**
 * The settings in one word for reports: `none`, or the parts in use joined by `+`, in the
 * order `tls`, `client-cert`, `auth` (e.g. `tls+auth`).
 */
export function securityLabel(settings: SecuritySettings): string {
  const parts = [
    ...(settings.tls ? ['tls'] : []),
    ...(settings.tls && settings.clientCertAuth ? ['client-cert'] : []),
    ...(settings.auth ? ['auth'] : []),
  ]
  return parts.length === 0 ? 'none' : parts.join('+')
}

/** One sentence saying what `securityLabel(settings)` means, for the report's header. */
export function securityDescription(settings: SecuritySettings): string {
  const tls = !settings.tls
    ? 'plain http'
    : `client and peer TLS with one throwaway CA (peer certificates checked${settings.clientCertAuth ? ', client certificates demanded' : ''})`
  const auth = settings.auth ? `auth on, every request as user ${benchUser} (role ${benchRole}: read and write on /*)` : 'auth off'
  return `${tls}; ${auth}`
}

/** The certificates of one run. */
export interface BenchCerts {
  /** The CA every member and the driver trust (PEM file). */
  readonly caFile: string
  /** Served by every member on client and peer URLs, and presented to peers. */
  readonly member: CertFiles
  /** Presented by the driver when client certificates are demanded (CN `bench`). */
  readonly client: CertFiles
}

/** Makes a CA, the member certificate and the driver's client certificate in `dir` (openssl). */
export function makeBenchCerts(dir: string): BenchCerts {
  const ca = makeCa(dir, 'bench')
  return { caFile: ca.certFile, member: makeLeaf(ca, 'member', 'member'), client: makeLeaf(ca, benchUser, benchUser) }
}

/** The etcd TLS flags of every member (the same for arbor and etcd). */
export function memberTlsFlags(certs: BenchCerts, clientCertAuth: boolean): string[] {
  return [
    '--cert-file', certs.member.certFile,
    '--key-file', certs.member.keyFile,
    ...(clientCertAuth ? ['--trusted-ca-file', certs.caFile, '--client-cert-auth'] : []),
    '--peer-cert-file', certs.member.certFile,
    '--peer-key-file', certs.member.keyFile,
    '--peer-trusted-ca-file', certs.caFile,
    '--peer-client-cert-auth',
  ]
}

/** The passwords of one run (random, never printed). */
export interface BenchCredentials {
  readonly rootPassword: string
  readonly benchPassword: string
}

export function newCredentials(): BenchCredentials {
  return { rootPassword: randomBytes(12).toString('base64url'), benchPassword: randomBytes(12).toString('base64url') }
}

/** `Basic base64(user:password)`, the only scheme etcd's v2 auth knows. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

/** One request of the auth set-up and the statuses that mean it worked. */
export interface AuthStep {
  readonly method: 'PUT'
  readonly path: string
  readonly json?: string
  readonly okStatuses: readonly number[]
}

/**
 * The v2 auth API requests that create root, the bench role and user, then enable auth,
 * sent while auth is off (so without credentials). Creating a user with roles answers 200
 * in etcd 3.4 (201 without roles); both are accepted.
 */
export function authSetupSteps(credentials: BenchCredentials): AuthStep[] {
  return [
    { method: 'PUT', path: '/v2/auth/users/root', json: JSON.stringify({ user: 'root', password: credentials.rootPassword }), okStatuses: [201] },
    {
      method: 'PUT', path: `/v2/auth/roles/${benchRole}`,
      json: JSON.stringify({ role: benchRole, permissions: { kv: { read: ['/*'], write: ['/*'] } } }), okStatuses: [201],
    },
    {
      method: 'PUT', path: `/v2/auth/users/${benchUser}`,
      json: JSON.stringify({ user: benchUser, password: credentials.benchPassword, roles: [benchRole] }), okStatuses: [200, 201],
    },
    { method: 'PUT', path: '/v2/auth/enable', okStatuses: [200] },
  ]
}

/**
 * How the driver reaches the members: over https it trusts the run's CA (and presents the
 * client certificate when `clientCertAuth`); under auth every request is `bench`'s.
 */
export function driverAccess(certs: BenchCerts | undefined, clientCertAuth: boolean, credentials: BenchCredentials | undefined): Access {
  const tls =
    certs === undefined
      ? undefined
      : {
          ca: readFileSync(certs.caFile, 'utf8'),
          ...(clientCertAuth ? { cert: readFileSync(certs.client.certFile, 'utf8'), key: readFileSync(certs.client.keyFile, 'utf8') } : {}),
        }
  return {
    ...(tls === undefined ? {} : { tls }),
    ...(credentials === undefined ? {} : { authorization: basicAuthorization(benchUser, credentials.benchPassword) }),
  }
}

/**
 * Runs `authSetupSteps` on the first member, then checks every member: it reports auth
 * enabled (waiting up to `authSpreadTimeoutMs` for the change to reach it), a PUT as `bench`
 * succeeds, and the same PUT with a wrong password answers 401.
 * @param access TLS only (no credentials): the set-up runs before auth is on.
 * @throws Error naming the step or member that answered otherwise.
 */
export async function enableAuth(clientUrls: readonly string[], access: Access, credentials: BenchCredentials): Promise<void> {
  const first = clientUrls[0] ?? ''
  for (const step of authSetupSteps(credentials)) {
    const answer = await requestOnce(first, access, step)
    if (!step.okStatuses.includes(answer.status)) throw new Error(`auth set-up ${step.method} ${step.path} answered ${answer.status} ${answer.body.slice(0, 300)}`)
  }
  const check = { method: 'PUT' as const, path: '/v2/keys/bench-auth-check', form: 'value=1' }
  for (const url of clientUrls) {
    await waitAuthEnabled(url, access)
    const bench = await requestOnce(url, access, { ...check, authorization: basicAuthorization(benchUser, credentials.benchPassword) })
    if (bench.status < 200 || bench.status >= 300) throw new Error(`${url}: PUT as ${benchUser} answered ${bench.status} ${bench.body.slice(0, 300)}`)
    const wrong = await requestOnce(url, access, { ...check, authorization: basicAuthorization(benchUser, `${credentials.benchPassword}-wrong`) })
    if (wrong.status !== 401) throw new Error(`${url}: PUT with a wrong password answered ${wrong.status}, not 401: auth is not on`)
  }
}

async function waitAuthEnabled(url: string, access: Access): Promise<void> {
  const deadline = Date.now() + authSpreadTimeoutMs
  for (;;) {
    const answer = await requestOnce(url, access, { method: 'GET', path: '/v2/auth/enable' })
    if (answer.status === 200 && (JSON.parse(answer.body) as { enabled?: unknown }).enabled === true) return
    if (Date.now() >= deadline) throw new Error(`${url}: auth not enabled within ${authSpreadTimeoutMs} ms: ${answer.status} ${answer.body.slice(0, 300)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
