/**
 * The one question `http` asks `auth` per request (ARCHITECTURE.md, "Where new capabilities
 * go"): may the sender of this request do this? While auth is off the answer is always yes
 * and no credential is looked at. Credentials are checked at most once per request, by the
 * member's one `Authenticator` (shared by all its listeners); bcrypt runs and failed logins
 * are counted (`/metrics`), and failures logged with the user name tried, never the password.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Authenticator, Principal } from '../auth/index.js'
import type { MemberApi } from '../server/index.js'

const principals = new WeakMap<FastifyRequest, Promise<Principal>>()

/** Where the gate counts what authentication did (`MemberMetrics`). */
export interface AuthMetrics {
  /** A request whose credentials did not verify (wrong password, unknown user, malformed). */
  countFailedLogin(): void
  /** Credentials were checked with bcrypt (not answered from the verified-credential cache). */
  countPasswordVerification(): void
}

export class AuthGate {
  constructor(
    private readonly member: MemberApi,
    private readonly authenticator: Authenticator,
    private readonly metrics: AuthMetrics,
    private readonly logger?: FastifyBaseLogger,
  ) {}

  /** Whether auth is enabled on this member now. */
  get enabled(): boolean {
    return this.member.auth.isEnabled()
  }

  /**
   * May the sender read (`write` false) or write `path`, the request path after `/v2/keys`
   * with its trailing slash? (spec §3: etcd's key check, guest for anonymous requests.)
   */
  async mayAccessKey(request: FastifyRequest, path: string, write: boolean, recursive: boolean): Promise<boolean> {
    if (!this.enabled) return true
    return this.member.auth.allows(await this.principalOf(request), path, write, recursive)
  }

  /** Does the sender hold the root role (always while auth is off)? */
  async isRoot(request: FastifyRequest): Promise<boolean> {
    if (!this.enabled) return true
    return this.member.auth.isRoot(await this.principalOf(request))
  }

  private principalOf(request: FastifyRequest): Promise<Principal> {
    let principal = principals.get(request)
    if (principal === undefined) {
      principal = this.authenticate(request)
      principals.set(request, principal)
    }
    return principal
  }

  private async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization
    const attempt = await this.authenticator.authenticate(header)
    if (attempt.verified) this.metrics.countPasswordVerification()
    if (attempt.principal.kind === 'invalid') {
      this.metrics.countFailedLogin()
      this.logger?.warn({ user: attempt.user, remoteAddress: request.socket.remoteAddress }, 'authentication failed')
    }
    return attempt.principal
  }
}
