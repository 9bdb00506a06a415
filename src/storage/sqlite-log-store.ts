/**
 * The Raft log, hard state and configuration in a member's database: `LogStore` (raft/types.ts,
 * after etcd raft's Storage) over the `raft_log` and `raft_state` tables.
 *
 * The log is the entries (snapshotIndex, lastIndex]; the entry at snapshotIndex is gone but its
 * term is kept, so that Raft can still check the entry just before firstIndex (§5.3, §7).
 * The bounds, the snapshot metadata and where each term starts in the log are cached in
 * memory, so `firstIndex`, `lastIndex` and `term` never read the file (Raft asks for terms
 * on every append and every acknowledgement); the cache is updated after each successful
 * write and reloaded from the file after a rollback. `entries` measures an entry as Raft does
 * (`entryDataBytes`: the UTF-8 length of its data).
 */
import { assert } from '../lib/index.js'
import {
  CompactedError,
  UnavailableError,
  entryDataBytes,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type LogStore,
  type RaftIndex,
  type Snapshot,
  type SnapshotMetadata,
  type Term,
} from '../raft/index.js'
import type { ArborDatabase } from './database.js'
import type { LogRow, RaftStateRow, Statements } from './statements.js'

export class SqliteLogStore implements LogStore {
  private readonly db: ArborDatabase
  private readonly log: Statements['log']
  private readonly raftState: Statements['raftState']
  /** Index and term of the last compacted entry (0, 0 for a log never compacted). */
  private snapshotIndex: RaftIndex = 0
  private snapshotTerm: Term = 0
  private snapshotConfState: ConfState = { voters: [] }
  /** Index of the last entry; equals snapshotIndex when the log is empty. */
  private last: RaftIndex = 0
  /** The first index of each term among the entries (snapshotIndex, last], ascending. */
  private termRuns: { first: RaftIndex; term: Term }[] = []

  /** Reads the bounds and snapshot metadata from `db`; build one per database. */
  constructor(db: ArborDatabase) {
    this.db = db
    this.log = db.statements.log
    this.raftState = db.statements.raftState
    this.reload()
    db.onReload(() => this.reload())
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    const row = this.stateRow()
    return {
      hardState: { term: row.term, vote: row.vote, commit: row.commit_index },
      confState: { voters: parseVoters(row.voters) },
    }
  }

  entries(lo: RaftIndex, hi: RaftIndex, bytesMax: number): Entry[] {
    assert(lo <= hi, `entries: lo ${lo} > hi ${hi}`)
    if (lo <= this.snapshotIndex) throw new CompactedError(`entries: index ${lo} is compacted (first ${this.firstIndex()})`)
    if (hi > this.last + 1) throw new UnavailableError(`entries: hi ${hi} is beyond last index ${this.last}`)
    const out: Entry[] = []
    let bytes = 0
    for (const row of this.log.range.iterate(lo, hi)) {
      const entry = toEntry(row)
      bytes += entryDataBytes(entry)
      if (out.length > 0 && bytes > bytesMax) break
      out.push(entry)
    }
    assertConsecutive(out, lo)
    assert(out.length >= Math.min(1, hi - lo), `entries: none read in [${lo}, ${hi})`)
    return out
  }

  term(index: RaftIndex): Term {
    if (index < this.snapshotIndex) throw new CompactedError(`term: index ${index} is compacted (first ${this.firstIndex()})`)
    if (index > this.last) throw new UnavailableError(`term: index ${index} is beyond last index ${this.last}`)
    if (index === this.snapshotIndex) return this.snapshotTerm
    // Few runs (one per term with entries), and the index asked for is nearly always in the last.
    for (let i = this.termRuns.length - 1; i >= 0; i--) {
      const run = this.termRuns[i]
      assert(run !== undefined)
      if (run.first <= index) return run.term
    }
    throw new Error(`term: entry ${index} missing inside the log`)
  }

  firstIndex(): RaftIndex {
    return this.snapshotIndex + 1
  }

  lastIndex(): RaftIndex {
    return this.last
  }

  /** The snapshot metadata; `data` is empty (the state is exported separately, snapshot.ts). */
  snapshot(): Snapshot {
    return {
      metadata: { index: this.snapshotIndex, term: this.snapshotTerm, confState: this.snapshotConfState },
      data: new Uint8Array(0),
    }
  }

  append(entries: readonly Entry[]): void {
    const first = entries[0]
    if (first === undefined) return
    assertConsecutive(entries, first.index)
    assert(first.index > this.snapshotIndex, `append: entry ${first.index} is at or below the snapshot ${this.snapshotIndex}`)
    assert(first.index <= this.last + 1, `append: entry ${first.index} leaves a gap after ${this.last}`)
    this.db.transaction(() => {
      this.log.deleteFrom.run(first.index)
      for (const e of entries) this.log.insert.run(e.index, e.term, e.type, e.data)
    })
    this.last = first.index + entries.length - 1
    this.noteAppendedTerms(entries)
  }

  /**
   * Discards every entry after `index` (for `--force-new-cluster`, which drops the entries
   * not known to be committed, as etcd does). `index` is at least the snapshot index.
   */
  truncateAfter(index: RaftIndex): void {
    assert(index >= this.snapshotIndex, `truncateAfter: ${index} is below the snapshot ${this.snapshotIndex}`)
    if (index >= this.last) return
    this.log.deleteFrom.run(index + 1)
    this.last = index
    while ((this.termRuns.at(-1)?.first ?? -1) > index) this.termRuns.pop()
  }

  setHardState(hardState: HardState): void {
    this.raftState.setHardState.run(hardState.term, hardState.vote, hardState.commit)
  }

  setConfState(confState: ConfState): void {
    this.raftState.setVoters.run(JSON.stringify(confState.voters))
  }

  applySnapshot(snapshot: SnapshotMetadata): void {
    assert(snapshot.index >= this.snapshotIndex, `applySnapshot: ${snapshot.index} is older than ${this.snapshotIndex}`)
    const voters = JSON.stringify(snapshot.confState.voters)
    this.db.transaction(() => {
      this.log.deleteFrom.run(0)
      this.raftState.setSnapshot.run(snapshot.index, snapshot.term, voters)
      this.raftState.setVoters.run(voters)
    })
    this.snapshotIndex = snapshot.index
    this.snapshotTerm = snapshot.term
    this.snapshotConfState = { voters: [...snapshot.confState.voters] }
    this.last = snapshot.index
    this.termRuns = []
  }

  /**
   * Discards the entries ≤ `index`; that entry's term stays known, as the snapshot's term.
   * The snapshot's configuration becomes the configuration in effect now.
   * @throws CompactedError when `index` ≤ the current snapshot index (as etcd's Compact).
   * @throws UnavailableError when `index` > lastIndex.
   */
  compact(index: RaftIndex): void {
    if (index <= this.snapshotIndex) throw new CompactedError(`compact: index ${index} is already compacted`)
    if (index > this.last) throw new UnavailableError(`compact: index ${index} is beyond last index ${this.last}`)
    const term = this.term(index)
    const voters = this.stateRow().voters
    this.db.transaction(() => {
      this.log.deleteThrough.run(index)
      this.raftState.setSnapshot.run(index, term, voters)
    })
    this.snapshotIndex = index
    this.snapshotTerm = term
    this.snapshotConfState = { voters: parseVoters(voters) }
    this.dropCompactedTermRuns()
  }

  /** Entries from `entries[0].index` on replaced what was there: the runs follow. */
  private noteAppendedTerms(entries: readonly Entry[]): void {
    const from = entries[0]?.index ?? this.last + 1
    while ((this.termRuns.at(-1)?.first ?? -1) >= from) this.termRuns.pop()
    for (const entry of entries) {
      if (this.termRuns.at(-1)?.term !== entry.term) this.termRuns.push({ first: entry.index, term: entry.term })
    }
  }

  /** Runs wholly at or below the snapshot index are gone; the next one starts after it. */
  private dropCompactedTermRuns(): void {
    let drop = 0
    while (drop + 1 < this.termRuns.length && (this.termRuns[drop + 1]?.first ?? Infinity) <= this.snapshotIndex + 1) drop++
    this.termRuns.splice(0, drop)
    const head = this.termRuns[0]
    if (head !== undefined && head.first <= this.snapshotIndex) head.first = this.snapshotIndex + 1
    if (this.last === this.snapshotIndex) this.termRuns = []
  }

  /** Reads the cached bounds back from the file, checking that the log has no hole at its start. */
  private reload(): void {
    const row = this.stateRow()
    const bounds = this.log.bounds.get()
    assert(bounds !== undefined, 'raft_log bounds missing')
    this.snapshotIndex = row.snapshot_index
    this.snapshotTerm = row.snapshot_term
    this.snapshotConfState = { voters: parseVoters(row.snapshot_voters) }
    this.last = bounds.last ?? row.snapshot_index
    this.termRuns = this.log.termRuns.all()
    if (bounds.first !== null) {
      assert(bounds.first === row.snapshot_index + 1, `raft_log starts at ${bounds.first}, snapshot at ${row.snapshot_index}`)
    }
  }

  private stateRow(): RaftStateRow {
    const row = this.raftState.get.get()
    assert(row !== undefined, 'raft_state row missing')
    return row
  }
}

function toEntry(row: LogRow): Entry {
  assert(row.type === 'normal' || row.type === 'confChange', `raft_log ${row.idx}: bad type ${row.type}`)
  return { index: row.idx, term: row.term, type: row.type as EntryType, data: row.data }
}

function parseVoters(json: string): string[] {
  const voters: unknown = JSON.parse(json)
  assert(Array.isArray(voters), 'voters is not a JSON array')
  for (const v of voters) assert(typeof v === 'string', 'voter id is not a string')
  return voters as string[]
}

/** Asserts that `entries` are consecutive from `firstIndex`, with terms never decreasing (§5.3). */
function assertConsecutive(entries: readonly Entry[], firstIndex: RaftIndex): void {
  let previousTerm = 0
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]
    assert(entry !== undefined, 'hole in entries')
    assert(entry.index === firstIndex + i, `entry ${entry.index} is not at position ${firstIndex + i}`)
    assert(entry.term >= previousTerm, `entry ${entry.index} has term ${entry.term} below ${previousTerm}`)
    previousTerm = entry.term
  }
}
