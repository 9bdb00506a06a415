/**
 * From an `Authorization` header to a principal (spec §1 "Authentication"): HTTP Basic
 * only, the scheme word matched case-insensitively, strict base64, the user name up to the
 * first colon, taken as an opaque string (never path-cleaned: spec §5.1, §5.2).
 *
 * bcrypt is paid once per credential, not per request: a header value that verified is
 * remembered for `cacheTtlMs`, at most `cacheEntriesMax` of them, and forgotten as soon as
 * any user changes. Failures are never cached, so a wrong password and an unknown user both
 * cost one bcrypt comparison (the unknown one against a dummy hash: spec §5.5).
 */
import type { AuthStore, Principal } from './auth-store.js'
import { verifyPassword } from './password.js'

/** Limits of the credential cache; each comes from config. */
export interface CredentialCacheSettings {
  /** How long a verified `Authorization` value is trusted without bcrypt (ms). */
  readonly cacheTtlMs: number
  /** Most verified values remembered; the oldest is dropped beyond it. */
  readonly cacheEntriesMax: number
}

/** Longest `Authorization` value looked at (bytes); longer ones are invalid credentials. */
export const authorizationBytesMax = 4_096

/** `user` and `password` of a Basic `Authorization` value, or undefined when it is not one. */
export function parseBasic(header: string): { user: string; password: string } | undefined {
  if (header.length > authorizationBytesMax) return undefined
  if (header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined
  const encoded = header.slice(6)
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) return undefined
  const decoded = new TextDecoder('utf-8').decode(base64Bytes(encoded))
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

function base64Bytes(encoded: string): Uint8Array {
  const binary = atob(encoded)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** What one authentication did, for metrics and logs (never the password). */
export interface AuthAttempt {
  readonly principal: Principal
  /** The user name tried, when the header was Basic. */
  readonly user?: string
  /** True when bcrypt ran (not answered from the cache). */
  readonly verified: boolean
}

/**
 * Checks Basic credentials against `store`, remembering verified ones. Build ONE per member
 * and hand it to every client listener, so the cache and its limits hold for the member.
 */
export class Authenticator {
  /** Header value → user name and the time it stops being trusted; insertion order = age. */
  private readonly cache = new Map<string, { name: string; expiresAtMs: number; generation: number }>()

  constructor(
    private readonly store: AuthStore,
    private readonly settings: CredentialCacheSettings,
    private readonly nowMs: () => number,
  ) {}

  /**
   * The principal of a request with this `Authorization` value: guest without one (or an
   * empty one), the user when the credentials verify, `invalid` otherwise.
   */
  async authenticate(header: string | undefined): Promise<AuthAttempt> {
    if (header === undefined || header === '') return { principal: { kind: 'guest' }, verified: false }
    const generation = this.store.generation()
    const cached = this.cache.get(header)
    if (cached !== undefined) {
      if (cached.generation === generation && cached.expiresAtMs > this.nowMs()) {
        return { principal: { kind: 'user', name: cached.name }, user: cached.name, verified: false }
      }
      this.cache.delete(header)
    }
    const basic = parseBasic(header)
    if (basic === undefined) return { principal: { kind: 'invalid' }, verified: false }
    const ok = await verifyPassword(basic.password, this.store.passwordHashOf(basic.user))
    if (!ok) return { principal: { kind: 'invalid' }, user: basic.user, verified: true }
    // A user changed while bcrypt ran: the answer may be stale, so it is not remembered.
    if (this.store.generation() === generation) this.remember(header, basic.user, generation)
    else if (this.store.passwordHashOf(basic.user) === undefined) return { principal: { kind: 'invalid' }, user: basic.user, verified: true }
    return { principal: { kind: 'user', name: basic.user }, user: basic.user, verified: true }
  }

  /** Entries in the cache now (for tests). */
  get cachedEntries(): number {
    return this.cache.size
  }

  private remember(header: string, name: string, generation: number): void {
    if (this.settings.cacheEntriesMax <= 0 || this.settings.cacheTtlMs <= 0) return
    while (this.cache.size >= this.settings.cacheEntriesMax) {
      const oldest = this.cache.keys().next()
      if (oldest.done === true) break
      this.cache.delete(oldest.value)
    }
    this.cache.set(header, { name, expiresAtMs: this.nowMs() + this.settings.cacheTtlMs, generation })
  }
}
