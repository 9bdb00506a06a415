/**
 * `MemoryLogStorage`: the Raft log, hard state and configuration held in memory, for tests,
 * the cluster simulator and anything that needs a `LogStore` without a disk. Same contract
 * as the SQLite store (storage/sqlite-log-store.ts); modelled on etcd raft's MemoryStorage
 * (storage.go), written from its documented behaviour.
 *
 * The log is the entries (snapshotIndex, lastIndex]; the entry at snapshotIndex is gone but
 * its term is kept, so that the consistency check of the first entry after it still works
 * (Raft §5.3, §7).
 */
import { assert } from '../lib/index.js'
import { entryDataBytes } from './message.js'
import {
  CompactedError,
  UnavailableError,
  type ConfState,
  type Entry,
  type HardState,
  type LogStore,
  type RaftIndex,
  type Snapshot,
  type SnapshotMetadata,
  type Term,
} from './types.js'

export class MemoryLogStorage implements LogStore {
  private hardState: HardState = { term: 0, vote: '', commit: 0 }
  /** Configuration in effect (the last one persisted). */
  private confState: ConfState
  /** Index, term and configuration of the last compacted entry; (0, 0) for a log never compacted. */
  private snapshotMetadata: SnapshotMetadata
  /** Entries after the snapshot: `log[i].index === snapshotMetadata.index + 1 + i`. */
  private log: Entry[] = []

  /** @param confState the configuration a new member starts with (no voters when omitted). */
  constructor(confState: ConfState = { voters: [] }) {
    this.confState = { voters: [...confState.voters] }
    this.snapshotMetadata = { index: 0, term: 0, confState: this.confState }
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.confState }
  }

  entries(lo: RaftIndex, hi: RaftIndex, bytesMax: number): Entry[] {
    assert(lo <= hi, `entries: lo ${lo} > hi ${hi}`)
    if (lo <= this.snapshotMetadata.index) throw new CompactedError(`entries: index ${lo} is compacted`)
    if (hi > this.lastIndex() + 1) throw new UnavailableError(`entries: hi ${hi} is beyond ${this.lastIndex()}`)
    const out: Entry[] = []
    let bytes = 0
    for (let index = lo; index < hi; index++) {
      const entry = this.log[index - this.firstIndex()]
      assert(entry !== undefined, `entries: entry ${index} missing`)
      bytes += entryDataBytes(entry)
      if (out.length > 0 && bytes > bytesMax) break
      out.push(entry)
    }
    return out
  }

  term(index: RaftIndex): Term {
    if (index < this.snapshotMetadata.index) throw new CompactedError(`term: index ${index} is compacted`)
    if (index > this.lastIndex()) throw new UnavailableError(`term: index ${index} is beyond ${this.lastIndex()}`)
    if (index === this.snapshotMetadata.index) return this.snapshotMetadata.term
    const entry = this.log[index - this.firstIndex()]
    assert(entry !== undefined, `term: entry ${index} missing`)
    return entry.term
  }

  firstIndex(): RaftIndex {
    return this.snapshotMetadata.index + 1
  }

  lastIndex(): RaftIndex {
    return this.snapshotMetadata.index + this.log.length
  }

  /** The snapshot metadata; `data` is empty (the application fills it when it sends one). */
  snapshot(): Snapshot {
    return { metadata: this.snapshotMetadata, data: new Uint8Array(0) }
  }

  append(entries: readonly Entry[]): void {
    const first = entries[0]
    if (first === undefined) return
    assert(first.index > this.snapshotMetadata.index, `append: entry ${first.index} is at or below the snapshot`)
    assert(first.index <= this.lastIndex() + 1, `append: entry ${first.index} leaves a gap after ${this.lastIndex()}`)
    for (let i = 1; i < entries.length; i++) {
      assert(entries[i]?.index === first.index + i, 'append: entries are not consecutive')
    }
    this.log = this.log.slice(0, first.index - this.firstIndex()).concat(entries)
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState
  }

  setConfState(confState: ConfState): void {
    this.confState = { voters: [...confState.voters] }
  }

  applySnapshot(snapshot: SnapshotMetadata): void {
    assert(snapshot.index >= this.snapshotMetadata.index, `applySnapshot: ${snapshot.index} is older than the current one`)
    this.snapshotMetadata = snapshot
    this.confState = { voters: [...snapshot.confState.voters] }
    this.log = []
  }

  /**
   * Discards the entries ≤ `index`, keeping that entry's term as the snapshot's term and the
   * configuration in effect as the snapshot's configuration.
   * @throws CompactedError when `index` ≤ the current snapshot index (as the SQLite store).
   * @throws UnavailableError when `index` > lastIndex.
   */
  compact(index: RaftIndex): void {
    if (index <= this.snapshotMetadata.index) throw new CompactedError(`compact: index ${index} is already compacted`)
    if (index > this.lastIndex()) throw new UnavailableError(`compact: index ${index} is beyond ${this.lastIndex()}`)
    const term = this.term(index)
    this.log = this.log.slice(index - this.firstIndex() + 1)
    this.snapshotMetadata = { index, term, confState: this.confState }
  }
}
