/**
 * The log as one Raft member sees it: what storage holds (durable), followed by what has
 * been appended or received but not yet handed out for persisting (unstable), plus the
 * commit and applied indexes. Modelled on etcd raft's log.go and log_unstable.go.
 *
 * Invariant: applied ≤ committed ≤ lastIndex, and firstIndex - 1 ≤ applied.
 */
import { assert } from '../lib/index.js'
import { entryDataBytes } from './message.js'
import { CompactedError, UnavailableError, type Entry, type LogStorage, type RaftIndex, type Snapshot, type Term } from './types.js'

export class RaftLog {
  /** Entries appended but not yet persisted: `unstable[i].index === unstableOffset + i`. */
  private unstable: Entry[] = []
  /** Index of the first unstable entry: storage's entries ≥ this one are to be replaced. */
  private unstableOffset: RaftIndex
  /** A snapshot received from the leader and not yet persisted (§7). */
  private unstableSnapshot: Snapshot | undefined
  /** Highest index known committed (Figure 2: commitIndex). */
  committed: RaftIndex
  /** Highest index handed to the application and acknowledged by `advance` (Figure 2: lastApplied). */
  applied: RaftIndex

  constructor(
    readonly storage: LogStorage,
    committed: RaftIndex,
    applied: RaftIndex,
  ) {
    this.unstableOffset = storage.lastIndex() + 1
    this.committed = committed
    this.applied = Math.max(applied, storage.firstIndex() - 1)
    assert(committed <= storage.lastIndex(), `commit ${committed} is beyond the last index ${storage.lastIndex()}`)
    assert(this.applied <= committed, `applied ${this.applied} is beyond commit ${committed}`)
  }

  firstIndex(): RaftIndex {
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.metadata.index + 1
    return this.storage.firstIndex()
  }

  lastIndex(): RaftIndex {
    if (this.unstable.length > 0) return this.unstableOffset + this.unstable.length - 1
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.metadata.index
    return this.storage.lastIndex()
  }

  lastTerm(): Term {
    const term = this.termIfKnown(this.lastIndex())
    assert(term !== undefined, 'the term of the last entry must be known')
    return term
  }

  /**
   * Term of the entry at `index`, including the compaction point (firstIndex - 1).
   * @returns undefined when `index` is compacted or beyond the last index: both are normal
   *          (a follower behind a snapshot, a probe past the end).
   */
  termIfKnown(index: RaftIndex): Term | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined
    if (index === 0) return 0
    const snapshot = this.unstableSnapshot
    if (snapshot !== undefined && index === snapshot.metadata.index) return snapshot.metadata.term
    if (index >= this.unstableOffset) return this.unstable[index - this.unstableOffset]?.term
    try {
      return this.storage.term(index)
    } catch (error) {
      if (error instanceof CompactedError || error instanceof UnavailableError) return undefined
      throw error
    }
  }

  matchTerm(index: RaftIndex, term: Term): boolean {
    return this.termIfKnown(index) === term
  }

  /** Whether a log ending at (`lastIndex`, `lastTerm`) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: RaftIndex, lastTerm: Term): boolean {
    const ourTerm = this.lastTerm()
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex())
  }

  /**
   * Appends `entries` (consecutive, indexes already set), cutting any suffix from
   * entries[0].index on. Never cuts a committed entry (Leader Completeness, §5.4).
   * Appending at the end extends the unstable array in place, so a leader's many proposals
   * in one loop turn cost time linear in their number (`unstableEntries` says who may hold
   * that array).
   * @returns the new last index.
   */
  append(entries: readonly Entry[]): RaftIndex {
    const first = entries[0]
    if (first === undefined) return this.lastIndex()
    assert(first.index > this.committed, `append at ${first.index} would cut committed ${this.committed}`)
    assert(first.index <= this.lastIndex() + 1, `append at ${first.index} leaves a gap after ${this.lastIndex()}`)
    if (first.index === this.unstableOffset + this.unstable.length) {
      for (const entry of entries) this.unstable.push(entry)
    } else if (first.index <= this.unstableOffset) {
      this.unstableOffset = first.index
      this.unstable = [...entries]
    } else {
      this.unstable = this.unstable.slice(0, first.index - this.unstableOffset).concat(entries)
    }
    return this.lastIndex()
  }

  /**
   * The AppendEntries receiver rules (Figure 2, rules 2 to 5): if our entry at `prevIndex`
   * has `prevTerm`, append what is new in `entries`, cutting a conflicting suffix, and move
   * the commit index to min(`leaderCommit`, index of the last new entry).
   * @returns the index of the last entry the leader sent (prevIndex + entries.length), or
   *          undefined when our log does not match at `prevIndex` (normal during repair).
   */
  maybeAppend(prevIndex: RaftIndex, prevTerm: Term, leaderCommit: RaftIndex, entries: readonly Entry[]): RaftIndex | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined
    const lastNew = prevIndex + entries.length
    const conflict = this.findConflict(entries)
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with the committed log`)
      this.append(entries.slice(conflict - prevIndex - 1))
    }
    this.commitTo(Math.min(leaderCommit, lastNew))
    return lastNew
  }

  /** Index of the first of `entries` whose term differs from ours (or that we lack); 0 when none. */
  private findConflict(entries: readonly Entry[]): RaftIndex {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index
    }
    return 0
  }

  /**
   * The largest index ≤ `index` whose term is ≤ `term`, for fast back-tracking (thesis §5.3,
   * etcd's findConflictByTerm): every entry after it up to `index` has a larger term, so it
   * cannot match an entry of `term` or below. Stops at the compaction point.
   */
  findConflictByTerm(index: RaftIndex, term: Term): RaftIndex {
    let i = Math.min(index, this.lastIndex())
    for (; i > this.firstIndex() - 1; i--) {
      const t = this.termIfKnown(i)
      if (t === undefined || t <= term) break
    }
    return i
  }

  /** Moves the commit index forward to `index` (never back). */
  commitTo(index: RaftIndex): void {
    if (index <= this.committed) return
    assert(index <= this.lastIndex(), `commit ${index} is beyond the last index ${this.lastIndex()}`)
    this.committed = index
  }

  /**
   * Commits up to `index` if that entry is of `term`: a leader commits only entries of its
   * own term by counting replicas (§5.4.2; Figure 8).
   * @returns whether the commit index moved.
   */
  maybeCommit(index: RaftIndex, term: Term): boolean {
    if (index <= this.committed) return false
    if (this.termIfKnown(index) !== term) return false
    this.commitTo(index)
    return true
  }

  /**
   * Entries in [lo, hi), ascending, at most `bytesMax` bytes of data (but at least one).
   * Callers check lo ≥ firstIndex and hi ≤ lastIndex + 1 first.
   */
  slice(lo: RaftIndex, hi: RaftIndex, bytesMax: number): Entry[] {
    assert(lo >= this.firstIndex(), `slice: ${lo} is compacted`)
    assert(hi <= this.lastIndex() + 1, `slice: ${hi} is beyond the log`)
    if (lo >= hi) return []
    let out: Entry[] = []
    if (lo < this.unstableOffset) out = this.storage.entries(lo, Math.min(hi, this.unstableOffset), bytesMax)
    if (out.length > 0 && out.length < Math.min(hi, this.unstableOffset) - lo) return out
    const unstableLo = Math.max(lo, this.unstableOffset)
    if (bytesMax === Infinity) {
      // No limit: nothing to measure (committed entries for the application, whole-log reads).
      if (unstableLo < hi) out = out.concat(this.unstable.slice(unstableLo - this.unstableOffset, hi - this.unstableOffset))
      assert(out.length === hi - lo, `slice: entries ${lo} to ${hi - 1} missing`)
      return out
    }
    let bytes = out.reduce((sum, e) => sum + entryDataBytes(e), 0)
    for (let index = unstableLo; index < hi; index++) {
      const entry = this.unstable[index - this.unstableOffset]
      assert(entry !== undefined, `slice: unstable entry ${index} missing`)
      bytes += entryDataBytes(entry)
      if (out.length > 0 && bytes > bytesMax) break
      out.push(entry)
    }
    return out
  }

  /** Committed entries not yet handed to the application: (applied, committed]. */
  nextCommittedEntries(): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex())
    if (lo > this.committed) return []
    return this.slice(lo, this.committed + 1, Infinity)
  }

  hasNextCommittedEntries(): boolean {
    return this.committed >= Math.max(this.applied + 1, this.firstIndex())
  }

  /**
   * Entries to persist, in order. The array itself, not a copy: later appends may change it,
   * so a caller that keeps it past the next `append` copies it (RawNode.ready does).
   */
  unstableEntries(): readonly Entry[] {
    return this.unstable
  }

  pendingSnapshot(): Snapshot | undefined {
    return this.unstableSnapshot
  }

  /** The application persisted the entries up to `index` (of `term`): they leave the unstable part. */
  stableTo(index: RaftIndex, term: Term): void {
    if (index < this.unstableOffset) return
    const entry = this.unstable[index - this.unstableOffset]
    if (entry === undefined || entry.term !== term) return
    this.unstable = this.unstable.slice(index - this.unstableOffset + 1)
    this.unstableOffset = index + 1
  }

  /** The application persisted the snapshot at `index`. */
  stableSnapTo(index: RaftIndex): void {
    if (this.unstableSnapshot?.metadata.index === index) this.unstableSnapshot = undefined
  }

  /** The application applied the entries up to `index`. */
  appliedTo(index: RaftIndex): void {
    if (index <= this.applied) return
    assert(index <= this.committed, `applied ${index} is beyond commit ${this.committed}`)
    this.applied = index
  }

  /** Replaces the whole log by `snapshot` (§7: the follower discards its log). */
  restore(snapshot: Snapshot): void {
    const index = snapshot.metadata.index
    assert(index > this.committed, 'restore: a snapshot must be ahead of the commit index')
    this.unstableSnapshot = snapshot
    this.unstable = []
    this.unstableOffset = index + 1
    this.committed = index
  }
}
