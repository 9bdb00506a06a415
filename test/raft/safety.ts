/**
 * The Raft safety properties both simulators check (paper Figure 3), kept in one place:
 * test/raft/simulator.ts (Raft alone) and test/sim/kv-cluster.ts (Raft and the v2 store).
 *
 * - State Machine Safety: every member applies the same entry at each index.
 * - Election Safety: at most one leader per term.
 * - Leader Completeness: a leader of a later term holds every entry committed before its
 *   term began. A committed entry's commit term is bounded from above by the highest term of
 *   a member that applied it (`termBound`): leaders of terms above that bound are checked.
 *
 * Each check returns the violation as a sentence, or undefined; the simulator turns it into
 * its own failure, with its seed and its last events.
 */
import type { Entry, LogStore, MemberId, RawNode } from '../../src/raft/index.js'
import { formatEntry } from './cluster-driver.js'

/** What a committed index holds, and the highest term of a member that applied it. */
export interface CommittedEntry {
  readonly entry: Entry
  termBound: number
}

/** A member as the checks see it: its Raft node (undefined while down) and its disk. */
export interface CheckedMember {
  readonly id: MemberId
  readonly node: RawNode | undefined
  readonly storage: LogStore
}

export class SafetyChecks {
  /** Every index applied anywhere, with the entry applied there. */
  readonly committed = new Map<number, CommittedEntry>()
  /** Who led each term seen so far. */
  readonly leaders = new Map<number, MemberId>()

  /**
   * `member`, whose term is `term`, applies `entry`.
   * @returns `{ first: true }` when no member applied this index before; a `violation` when
   *          another entry was applied there.
   */
  applied(member: MemberId, entry: Entry, term: number): { readonly first: boolean; readonly violation?: string } {
    const known = this.committed.get(entry.index)
    if (known === undefined) {
      this.committed.set(entry.index, { entry, termBound: term })
      return { first: true }
    }
    known.termBound = Math.max(known.termBound, term)
    const same = known.entry.term === entry.term && known.entry.data === entry.data && known.entry.type === entry.type
    if (same) return { first: false }
    return { first: false, violation: `${member} applies ${formatEntry(entry)} but ${formatEntry(known.entry)} was applied elsewhere` }
  }

  /**
   * Election Safety and Leader Completeness over the running members.
   * @param onNewLeader told of each term's leader the first time it is seen (for traces).
   * @returns the first violation, or undefined.
   */
  checkLeaders(members: readonly CheckedMember[], onNewLeader?: (id: MemberId, term: number) => void): string | undefined {
    for (const m of members) {
      const status = m.node?.status()
      if (status?.role !== 'leader') continue
      const known = this.leaders.get(status.term)
      if (known !== undefined && known !== m.id) return `Election Safety: ${known} and ${m.id} both lead term ${status.term}`
      if (known === undefined) {
        this.leaders.set(status.term, m.id)
        onNewLeader?.(m.id, status.term)
      }
      const violation = this.leaderCompleteness(m, status.term)
      if (violation !== undefined) return violation
    }
    return undefined
  }

  private leaderCompleteness(m: CheckedMember, term: number): string | undefined {
    const first = m.storage.firstIndex()
    for (const [index, c] of this.committed) {
      if (c.termBound >= term || index < first) continue
      if (index > m.storage.lastIndex()) return `Leader Completeness: leader ${m.id} (term ${term}) lacks committed ${index}`
      if (m.storage.term(index) !== c.entry.term) return `Leader Completeness: leader ${m.id} (term ${term}) holds another entry at ${index}`
    }
    return undefined
  }
}
