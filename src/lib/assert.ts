/**
 * Assertions for facts only a bug can break. A failed assertion throws `AssertionFailure`;
 * in `raft`, `store`, `storage` and the member loop that ends the process, and a restart
 * replays the log (STYLE.md §3). Client mistakes are `V2Error`s, never assertions.
 */

/** Thrown when an invariant does not hold. Never caught to continue. */
export class AssertionFailure extends Error {
  override readonly name = 'AssertionFailure'
}

/** Fails with `message` unless `condition` is true. One condition per call. */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionFailure(message)
}

/** Marks the `default:` branch of a switch over a closed union. */
export function unreachable(value: never): never {
  throw new AssertionFailure(`unreachable: ${JSON.stringify(value)}`)
}
