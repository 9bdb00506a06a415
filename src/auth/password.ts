/**
 * Password hashing and checking: bcrypt at cost 10, etcd's (spec §1 "Users"), computed by
 * @node-rs/bcrypt in libuv's thread pool, never on the event loop. The only place in arbor
 * that touches a password.
 */
import { hash, verify } from '@node-rs/bcrypt'

/** bcrypt cost of new hashes (etcd v2 uses Go's default, 10). */
export const bcryptCost = 10

/**
 * A valid cost-10 hash of a random password nobody knows: an unknown user's password is
 * checked against it, so that an unknown user and a wrong password take the same time
 * (spec §5.5).
 */
const dummyHash = '$2y$10$vGO4vno5EtVYEyTjVH1ILucfp3tIWGkYS1H9lXjY.Q3OKc.cZi8B6'

/** The bcrypt hash of `password` (about 50–100 ms of one pool thread). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, bcryptCost)
}

/**
 * Whether `password` matches `passwordHash`; with `passwordHash` undefined (unknown user)
 * the dummy hash is checked instead and the answer is false. bcrypt's comparison of the
 * derived hashes is constant-time.
 */
export async function verifyPassword(password: string, passwordHash: string | undefined): Promise<boolean> {
  try {
    const ok = await verify(password, passwordHash ?? dummyHash)
    return ok && passwordHash !== undefined
  } catch {
    // A stored hash bcrypt cannot read matches nothing.
    return false
  }
}
