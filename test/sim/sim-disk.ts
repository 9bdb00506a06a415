/**
 * A simulated member's disk: the `MemberStorage` the shipped member core runs on in the
 * simulator, in memory, with what a crash and a power cut lose modelled as SQLite in WAL
 * mode loses it:
 *
 * - Every transaction that returned is on disk as far as the process is concerned: a crash
 *   (kill -9) loses the process, never a committed transaction.
 * - A power cut loses everything committed since the last durable commit (the last fsync):
 *   a durable transaction syncs itself and every commit before it. The disk then goes back
 *   to the image taken at that sync.
 *
 * The disk holds the Raft log (a `MemoryLogStorage`), the store's tree and history (a
 * `MemoryStoreBackend`), the applied index and the member list, and the auth state. A state
 * reader (InstallSnapshot) encodes the applied state as JSON; `importState` decodes it.
 * Nothing here is a switch inside the shipped code: faults are what this disk forgets.
 */
import { assert } from '../../src/lib/index.js'
import { MemoryLogStorage, type ConfState, type Entry, type HardState, type SnapshotMetadata } from '../../src/raft/index.js'
import { MemoryStoreBackend, type EtcdIndex, type HistoryRecord, type NodeRecord, type StoreBackend } from '../../src/store/index.js'
import { MemoryAuthBackend } from '../../src/auth/index.js'
import type { MemberInfo, MemberStorage, StateReader } from '../../src/server/index.js'
import { captureState, decodeState, emptyStoreState, encodeState, restoreState, type StoreState } from './store-state.js'

/** The whole disk as a sync left it: what a power cut goes back to. */
interface DiskImage {
  readonly hardState: HardState
  readonly confState: ConfState
  /** Index, term and configuration of the last compacted (or installed) entry. */
  readonly snapshot: SnapshotMetadata
  /** The entries after `snapshot.index`, consecutive (entries are immutable: shared). */
  readonly entries: readonly Entry[]
  /** The tree and history, at the applied index. */
  readonly state: StoreState
  readonly members: readonly MemberInfo[]
  readonly removed: readonly string[]
}

/** What a state reader carries to a follower: the applied state and the members. */
interface EncodedState {
  readonly state: StoreState
  readonly members: readonly MemberInfo[]
}

/** Bytes per chunk of a state read: small, so that snapshots take several. */
const chunkBytes = 512

/** Told when a transaction commits (the simulation checks its invariants there). */
export type CommitListener = (durable: boolean) => void

export class SimDisk implements MemberStorage {
  log: MemoryLogStorage
  /** The store's backend as the member sees it; its content is replaced on a power cut or an import. */
  readonly storeBackend = new SwappableStoreBackend()
  /** The v2 auth state (the simulation proposes no auth change; kept across crashes). */
  readonly authBackend = new MemoryAuthBackend()
  private applied = 0
  private memberList: MemberInfo[]
  private removedIds = new Set<string>()
  private synced: DiskImage
  private depth = 0
  /** Durable commits since the disk was made (fsyncs). */
  syncs = 0
  /** States imported from a leader (InstallSnapshot) since the disk was made. */
  imports = 0
  onCommit: CommitListener | undefined
  /** Told when the applied index moves from `from` to `to` inside a transaction (before compaction). */
  onApplied: ((from: number, to: number) => void) | undefined

  constructor(members: readonly MemberInfo[], voters: readonly string[]) {
    this.log = new MemoryLogStorage({ voters })
    this.memberList = [...members]
    this.synced = this.image()
  }

  transaction<T>(fn: () => T, durable = true): T {
    this.depth += 1
    let result: T
    try {
      result = fn()
    } finally {
      this.depth -= 1
    }
    if (this.depth === 0) {
      if (durable) this.sync()
      this.onCommit?.(durable)
    }
    return result
  }

  appliedIndex(): number {
    return this.applied
  }

  setAppliedIndex(index: number): void {
    const from = this.applied
    this.applied = index
    this.onApplied?.(from, index)
  }

  members(): MemberInfo[] {
    return [...this.memberList].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  upsertMember(member: MemberInfo): void {
    this.memberList = [...this.memberList.filter((m) => m.id !== member.id), member]
  }

  removeMember(id: string): void {
    this.memberList = this.memberList.filter((m) => m.id !== id)
    this.removedIds.add(id)
  }

  isRemoved(id: string): boolean {
    return this.removedIds.has(id)
  }

  openStateReader(): StateReader {
    const encoded: EncodedState = { state: captureState(this.storeBackend.inner, this.applied), members: this.memberList }
    const bytes = new TextEncoder().encode(JSON.stringify(encoded))
    let offset = 0
    let closed = false
    return {
      appliedIndex: this.applied,
      next: () => {
        assert(!closed, 'a closed state reader is not read')
        if (offset >= bytes.length) return undefined
        const chunk = bytes.subarray(offset, offset + chunkBytes)
        offset += chunk.length
        return chunk
      },
      close: () => {
        closed = true
      },
    }
  }

  importState(data: Uint8Array): void {
    const encoded = JSON.parse(new TextDecoder().decode(data)) as EncodedState
    const state = decodeState(new TextEncoder().encode(JSON.stringify(encoded.state)))
    this.storeBackend.inner = restoreState(state)
    this.applied = state.appliedIndex
    this.memberList = [...encoded.members]
    this.imports += 1
  }

  /** The tree and history as the member left them (the live backend). */
  get backend(): MemoryStoreBackend {
    return this.storeBackend.inner
  }

  /**
   * A power cut: the disk goes back to what the last durable commit left.
   * @returns whether applied entries were lost with it.
   */
  powerCut(): boolean {
    const image = this.synced
    const lostApplied = image.state.appliedIndex < this.applied
    const log = new MemoryLogStorage(image.confState)
    log.applySnapshot(image.snapshot)
    log.append(image.entries)
    log.setHardState(image.hardState)
    log.setConfState(image.confState)
    assert(log.lastIndex() === image.snapshot.index + image.entries.length, 'powerCut: every synced entry is back')
    this.log = log
    this.storeBackend.inner = restoreState(image.state)
    this.applied = image.state.appliedIndex
    this.memberList = [...image.members]
    this.removedIds = new Set(image.removed)
    return lostApplied
  }

  /** Everything committed so far reaches the disk (an fsync syncs the earlier commits too). */
  private sync(): void {
    this.syncs += 1
    this.synced = this.image()
  }

  private image(): DiskImage {
    const { hardState, confState } = this.log.initialState()
    const entries = this.log.entries(this.log.firstIndex(), this.log.lastIndex() + 1, Number.POSITIVE_INFINITY)
    const state = this.applied === 0 && this.storeBackend.inner.lastEventIndex() === 0 ? emptyStoreState : captureState(this.storeBackend.inner, this.applied)
    return { hardState, confState, snapshot: this.log.snapshot().metadata, entries, state, members: [...this.memberList], removed: [...this.removedIds] }
  }
}

/** A store backend whose content can be replaced underneath the store that uses it. */
class SwappableStoreBackend implements StoreBackend {
  inner = new MemoryStoreBackend()
  getNode(key: string): NodeRecord | undefined {
    return this.inner.getNode(key)
  }
  children(dirKey: string): NodeRecord[] {
    return this.inner.children(dirKey)
  }
  descendants(dirKey: string): NodeRecord[] {
    return this.inner.descendants(dirKey)
  }
  putNode(node: NodeRecord): void {
    this.inner.putNode(node)
  }
  deleteTree(key: string): void {
    this.inner.deleteTree(key)
  }
  earliestExpirationMs(): number | undefined {
    return this.inner.earliestExpirationMs()
  }
  expiredBy(timeMs: number, limit?: number): NodeRecord[] {
    return this.inner.expiredBy(timeMs, limit)
  }
  appendEvent(record: HistoryRecord): void {
    this.inner.appendEvent(record)
  }
  eventsFrom(fromIndex: EtcdIndex, limit: number): HistoryRecord[] {
    return this.inner.eventsFrom(fromIndex, limit)
  }
  oldestEventIndex(): EtcdIndex | undefined {
    return this.inner.oldestEventIndex()
  }
  lastEventIndex(): EtcdIndex {
    return this.inner.lastEventIndex()
  }
  trimEventsBefore(index: EtcdIndex): void {
    this.inner.trimEventsBefore(index)
  }
}
