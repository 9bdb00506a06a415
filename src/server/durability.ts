/**
 * Which loop turns must wait for the disk. Raft needs entries, a snapshot, the term and the
 * vote durable before any message that depends on them leaves (Raft Figure 2, "Persistent
 * state ... updated on stable storage before responding to RPCs"). The commit index and the
 * applied state need not be: after a power cut they are rebuilt from the durable log (the
 * commit index is learnt again from the leader, committed entries are applied again).
 */
import type { HardState, Ready } from '../raft/index.js'

/** The term and vote on disk, as a member last persisted them durably. */
export type PersistedVote = Pick<HardState, 'term' | 'vote'>

/**
 * Whether the turn handling `ready` must commit durably (fsync), given the term and vote
 * already on disk.
 */
export function mustPersistDurably(ready: Ready, persisted: PersistedVote): boolean {
  if (ready.entries.length > 0 || ready.snapshot !== undefined) return true
  const hardState = ready.hardState
  return hardState !== undefined && (hardState.term !== persisted.term || hardState.vote !== persisted.vote)
}
