/**
 * One simulated arbor member: a `RawNode`, a `MemoryLogStorage` (its disk) and a v2 `Store`
 * over a `MemoryStoreBackend`, run by a loop turn that mirrors src/server/member.ts:
 *
 *   "transaction": install a snapshot, persist entries and hard state, apply the committed
 *                  entries to the store (decoded with src/server/proposal.ts), then record the
 *                  store's state with the applied index (the durable copy, store-state.ts)
 *   after it:      send the messages (a snapshot carries the durable state at the applied
 *                  index, as member.ts withState), answer the clients whose writes were
 *                  applied here, queue read states and serve the quorum reads whose index
 *                  is applied, then advance.
 *
 * Writes are proposed with `encodeWrite` on the member the client talks to; a follower
 * forwards them through Raft and answers only once it applied the entry itself
 * (ARCHITECTURE.md decision 4). Quorum reads use ReadIndex and wait for the applied index to
 * reach the read point (decision 5). A crash loses everything but the disk: the log, the
 * hard state and the durable store copy. A power cut loses more: whatever reached the disk
 * after the last sync is gone. Each sync (a turn that src/server/durability.ts says must wait
 * for the disk, or a compaction, which the simulation treats as one) copies the whole disk
 * (entries, snapshot metadata, hard state, configuration and store copy), and a power cut puts
 * that copy back. With the real rule the turns lost only moved the commit index and applied
 * entries; a mutation that skips a sync loses entries, a term or a vote that messages relied on.
 *
 * A forwarded write that the network delivers twice enters the log once: the member drops a
 * 'prop' whose request id it has seen (src/server/recent-proposals.ts, as member.ts receive).
 *
 * `Mutation` plants a deliberate bug in this copy of the loop, only to prove that the
 * checks catch it; the real member (src/server/member.ts) is never changed.
 */
import { SeededRng, assert } from '../../src/lib/index.js'
import {
  MemoryLogStorage,
  ProposalDroppedError,
  RawNode,
  type ConfState,
  type Entry,
  type HardState,
  type Logger,
  type MemberId,
  type Message,
  type RaftConfig,
  type ReadState,
  type Ready,
  type Snapshot,
  type SnapshotMetadata,
} from '../../src/raft/index.js'
import { decodeProposal, encodeWrite } from '../../src/server/proposal.js'
import { RecentProposals } from '../../src/server/recent-proposals.js'
import { mustPersistDurably, type PersistedVote } from '../../src/server/durability.js'
import { MemoryStoreBackend, Store, defaultStoreLimits, type Event, type StoreLimits, type StoreRequest } from '../../src/store/index.js'
import { V2Error } from '../../src/v2error/index.js'
import { captureState, decodeState, emptyStoreState, encodeState, restoreState, type StoreState } from './store-state.js'

/**
 * A deliberate bug, to show the checks catch it:
 * - `quorum-read-without-read-index`: a quorum read is served from the local store at once,
 *   like a plain read.
 * - `quorum-read-before-apply`: a quorum read is served as soon as its read point is known,
 *   without waiting for the member to apply up to it.
 * - `duplicate-proposals-applied`: a forwarded write delivered twice is appended twice (no
 *   request-id filter), so it takes effect twice.
 * - `entries-not-synced`: the durability rule ignores new entries, so a turn that appends
 *   entries and acknowledges them (or counts them for the leader's commit) need not sync; a
 *   power cut then loses entries a quorum was counted on.
 * - `vote-not-synced`: the durability rule ignores term and vote changes, so a member grants
 *   a vote (or raises its term) without a sync; after a power cut it may vote again in that term.
 */
export type Mutation =
  | 'none'
  | 'quorum-read-without-read-index'
  | 'quorum-read-before-apply'
  | 'duplicate-proposals-applied'
  | 'entries-not-synced'
  | 'vote-not-synced'

/** What a client gets back: the store's event, or its error. */
export type Answer = { readonly event: Event } | { readonly error: V2Error }

/** How the simulation watches a member; each hook may throw a simulation failure. */
export interface MemberObserver {
  /** `entry` is committed and about to be applied by `member`, whose term is `term`. */
  applying(member: KvMember, entry: Entry, term: number): void
  /** `member`'s turn "committed": its durable state changed (`rewritten`: by a snapshot). */
  committed(member: KvMember, rewritten: boolean): void
  send(member: KvMember, message: Message): void
  log(text: string): void
}

/** The store keeps every event: the durable copy is rebuilt through the backend's public API. */
const simStoreLimits: StoreLimits = { ...defaultStoreLimits, historyEventsMax: 1_000_000 }

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** The whole disk as a sync left it: what a power cut goes back to. */
interface DiskImage {
  readonly hardState: HardState
  readonly confState: ConfState
  /** Index, term and configuration of the last compacted (or installed) entry. */
  readonly snapshot: SnapshotMetadata
  /** The entries after `snapshot.index`, consecutive. */
  readonly entries: readonly Entry[]
  /** The store state recorded with the applied index. */
  readonly state: StoreState
}

/** Copies `storage` and the store copy `state` through the storage's public API (entries are immutable). */
function captureDisk(storage: MemoryLogStorage, state: StoreState): DiskImage {
  const { hardState, confState } = storage.initialState()
  const entries = storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Number.POSITIVE_INFINITY)
  return { hardState, confState, snapshot: storage.snapshot().metadata, entries, state }
}

/** A fresh storage holding exactly what `image` holds: the snapshot, then the entries and states. */
function restoreDisk(image: DiskImage): MemoryLogStorage {
  const storage = new MemoryLogStorage(image.confState)
  storage.applySnapshot(image.snapshot)
  storage.append(image.entries)
  storage.setHardState(image.hardState)
  storage.setConfState(image.confState)
  assert(storage.lastIndex() === image.snapshot.index + image.entries.length, 'restoreDisk: every entry is back')
  return storage
}

/** A quorum read waiting for its read point, then for the applied index to reach it. */
interface WaitingRead {
  readonly key: string
  readonly done: (answer: Answer) => void
}

export class KvMember {
  node: RawNode | undefined
  /** The disk: log, hard state, configuration. Survives crashes; a power cut replaces it by `synced`. */
  private disk: MemoryLogStorage
  /** The store state written with the applied index in the last turn (durable). */
  durable: StoreState = emptyStoreState
  restarts = 0
  snapshotsInstalled = 0
  private backend: MemoryStoreBackend | undefined
  private store: Store | undefined
  private appliedIndex = 0
  private readonly writes = new Map<string, (answer: Answer) => void>()
  private readonly reads = new Map<string, WaitingRead>()
  private pendingReads: ReadState[] = []
  private requestCounter = 0
  /** What survives a power cut: the disk and store copy as the last sync left them. */
  private synced: DiskImage
  /** The term and vote on disk. */
  private persistedVote: PersistedVote = { term: 0, vote: '' }
  /** Request ids of the latest writes in the log (rebuilt from the log at each start). */
  private recentProposals = new RecentProposals(1_024)
  /** The live store changed in this turn's "transaction". */
  private changed = false
  private rewritten = false

  constructor(
    readonly id: MemberId,
    voters: readonly MemberId[],
    private readonly config: Omit<RaftConfig, 'id' | 'appliedIndex'>,
    private readonly clockMs: () => number,
    private readonly observer: MemberObserver,
    private readonly mutation: Mutation,
  ) {
    this.disk = new MemoryLogStorage({ voters })
    this.synced = captureDisk(this.disk, this.durable)
  }

  /** The disk: log, hard state, configuration (the one a restart reads). */
  get storage(): MemoryLogStorage {
    return this.disk
  }

  get running(): boolean {
    return this.node !== undefined
  }

  /** Index of the last entry applied to the live store. */
  get applied(): number {
    return this.appliedIndex
  }

  /** The live store's backend (undefined while down). */
  get liveBackend(): MemoryStoreBackend | undefined {
    return this.backend
  }

  /** Starts (or restarts) from the disk: the durable store copy and the Raft log. */
  start(rngSeed: number): void {
    assert(this.node === undefined, 'start: already running')
    this.backend = restoreState(this.durable)
    this.store = new Store(this.backend, simStoreLimits)
    this.appliedIndex = this.durable.appliedIndex
    const config: RaftConfig = { ...this.config, id: this.id, appliedIndex: this.appliedIndex }
    this.node = new RawNode(config, this.storage, new SeededRng(rngSeed), silent)
    const { hardState } = this.storage.initialState()
    this.persistedVote = { term: hardState.term, vote: hardState.vote }
    this.recentProposals = new RecentProposals(1_024)
    const first = this.storage.firstIndex()
    const last = this.storage.lastIndex()
    if (first <= last) this.recentProposals.noteEntries(this.storage.entries(first, last + 1, Number.POSITIVE_INFINITY))
  }

  /** A message from the network (member.ts receive): a forwarded write seen before is dropped. */
  receive(message: Message): void {
    const node = this.mustRun()
    const dedup = message.type === 'prop' && this.mutation !== 'duplicate-proposals-applied'
    const fresh = dedup ? this.recentProposals.filterForwarded(message) : message
    if (fresh !== undefined) node.step(fresh)
  }

  /**
   * Loses everything but the disk; waiting clients get no answer. A `powerCut` also loses
   * whatever reached the disk after the last sync: the disk goes back to the copy taken then.
   */
  crash(powerCut = false): void {
    if (powerCut) {
      this.disk = restoreDisk(this.synced)
      this.durable = this.synced.state
    }
    this.node = undefined
    this.backend = undefined
    this.store = undefined
    this.writes.clear()
    this.reads.clear()
    this.pendingReads = []
    this.restarts++
  }

  /**
   * Proposes a client write; `done` is called when this member applies it.
   * @returns false when Raft refused the proposal (no leader): it will never be applied.
   */
  write(request: StoreRequest, done: (answer: Answer) => void): boolean {
    const node = this.mustRun()
    const requestId = this.nextRequestId()
    try {
      node.propose(encodeWrite(requestId, this.clockMs(), request))
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      return false
    }
    this.writes.set(requestId, done)
    return true
  }

  /** A plain read from the local store: fast, possibly stale (decision 5). */
  get(key: string): Answer {
    assert(this.store !== undefined, 'get: member is down')
    try {
      return { event: this.store.get(key, { recursive: false, sorted: false }, this.clockMs()) }
    } catch (error) {
      if (!(error instanceof V2Error)) throw error
      return { error }
    }
  }

  /** A linearizable read through ReadIndex; `done` is called once it may be served. */
  quorumGet(key: string, done: (answer: Answer) => void): void {
    const node = this.mustRun()
    if (this.mutation === 'quorum-read-without-read-index') {
      done(this.get(key))
      return
    }
    const context = this.nextRequestId()
    this.reads.set(context, { key, done })
    node.readIndex(context)
  }

  /** Runs loop turns until Raft has nothing more to hand out. */
  process(): void {
    for (let turns = 0; this.node?.hasReady() === true; turns++) {
      assert(turns < 100, `${this.id}: Ready never settles`)
      this.runTurn(this.node, this.node.ready())
    }
  }

  /** One loop turn (member.ts runTurn): the "transaction", then its effects, then advance. */
  private runTurn(node: RawNode, ready: Ready): void {
    const answers: { requestId: string; answer: Answer }[] = []
    const mustSync = mustPersistDurably(this.durabilityView(ready), this.persistedVote)
    if (ready.snapshot !== undefined) this.installSnapshot(ready.snapshot)
    if (ready.entries.length > 0) this.storage.append(ready.entries)
    this.recentProposals.noteEntries(ready.entries)
    if (ready.hardState !== undefined) this.storage.setHardState(ready.hardState)
    const term = node.status().term
    for (const entry of ready.committedEntries) this.applyEntry(entry, term, answers)
    if (this.changed) this.commitState()
    if (mustSync) this.sync()
    if (ready.hardState !== undefined) this.persistedVote = { term: ready.hardState.term, vote: ready.hardState.vote }
    for (const message of ready.messages) this.observer.send(this, this.withState(message))
    for (const { requestId, answer } of answers) {
      const done = this.writes.get(requestId)
      this.writes.delete(requestId)
      done?.(answer)
    }
    this.pendingReads.push(...ready.readStates)
    this.releaseReads()
    node.advance(ready)
  }

  /** What the durability rule is shown of `ready`: all of it, unless a mutation hides a part. */
  private durabilityView(ready: Ready): Ready {
    if (this.mutation === 'entries-not-synced') return { ...ready, entries: [] }
    if (this.mutation === 'vote-not-synced' && ready.hardState !== undefined) {
      return { ...ready, hardState: { ...ready.hardState, term: this.persistedVote.term, vote: this.persistedVote.vote } }
    }
    return ready
  }

  /** Applies one committed entry, as member.ts applyEntry (deterministic: no clock). */
  private applyEntry(entry: Entry, term: number, answers: { requestId: string; answer: Answer }[]): void {
    if (entry.index <= this.appliedIndex) return
    assert(entry.index === this.appliedIndex + 1, 'committed entries must be applied in order')
    this.observer.applying(this, entry, term)
    assert(entry.type === 'normal', 'this simulation makes no membership changes')
    if (entry.data !== '') this.applyProposal(entry.data, answers)
    this.appliedIndex = entry.index
    this.changed = true
  }

  private applyProposal(data: string, answers: { requestId: string; answer: Answer }[]): void {
    const store = this.store
    assert(store !== undefined)
    const proposal = decodeProposal(data)
    if (proposal.kind === 'expire') {
      store.expire(proposal.timeMs, proposal.keysMax)
      return
    }
    // Member attributes live beside the store (member.ts applyAttributes); none are proposed here.
    if (proposal.kind === 'attributes') return
    // Auth changes live beside the store too (member.ts); the simulator proposes none.
    if (proposal.kind === 'auth') return
    const request = JSON.parse(proposal.json) as StoreRequest
    try {
      answers.push({ requestId: proposal.requestId, answer: { event: store.apply(request, proposal.timeMs) } })
    } catch (error) {
      if (!(error instanceof V2Error)) throw error
      answers.push({ requestId: proposal.requestId, answer: { error } })
    }
  }

  /** The end of the turn's "transaction": the store and its applied index become durable together. */
  private commitState(): void {
    assert(this.backend !== undefined)
    this.durable = captureState(this.backend, this.appliedIndex)
    this.changed = false
    this.observer.committed(this, this.rewritten)
    this.rewritten = false
  }

  /** Everything written so far reaches the disk (a turn's fsync syncs the earlier turns too). */
  private sync(): void {
    this.synced = captureDisk(this.disk, this.durable)
  }

  /** Replaces the log and the store by a leader's snapshot (Raft §7; decision 7). */
  private installSnapshot(snapshot: Snapshot): void {
    const state = decodeState(snapshot.data)
    assert(state.appliedIndex === snapshot.metadata.index, 'snapshot state is taken at the snapshot index')
    assert(state.appliedIndex > this.appliedIndex, 'a snapshot is installed only ahead of the applied index')
    this.storage.applySnapshot(snapshot.metadata)
    this.backend = restoreState(state)
    this.store = new Store(this.backend, simStoreLimits)
    this.appliedIndex = state.appliedIndex
    this.snapshotsInstalled++
    this.changed = true
    this.rewritten = true
    this.observer.log(`${this.id} install snapshot ${snapshot.metadata.index}/${snapshot.metadata.term}`)
  }

  /**
   * A follower that fell behind the compacted log gets the applied state itself (member.ts
   * withStates, as etcd merges its snapshot): the snapshot Raft names is replaced by one at
   * this member's applied index, where the durable state stands after the turn, with the
   * configuration in effect there.
   */
  private withState(message: Message): Message {
    if (message.type !== 'snap' || message.snapshot === undefined) return message
    assert(this.durable.appliedIndex === this.appliedIndex, 'messages leave after the turn is durable')
    const index = this.appliedIndex
    assert(index >= message.snapshot.metadata.index, 'the applied state is at or after the compacted log')
    const metadata = { index, term: this.storage.term(index), confState: this.storage.initialState().confState }
    return { ...message, snapshot: { metadata, data: encodeState(this.durable) } }
  }

  /**
   * Compacts the log at `index` (kept ≤ the applied index, as the member loop does).
   * @returns whether anything was compacted.
   */
  compact(index: number): boolean {
    if (index > this.appliedIndex || index < this.storage.firstIndex()) return false
    this.storage.compact(index)
    // A compaction must not outlive the applied state it relies on: here it is a sync point.
    this.sync()
    return true
  }

  /** Serves the quorum reads whose read point is applied (member.ts releaseReads). */
  private releaseReads(): void {
    const waiting: ReadState[] = []
    for (const read of this.pendingReads) {
      const ready = this.mutation === 'quorum-read-before-apply' || read.index <= this.appliedIndex
      if (!ready) {
        waiting.push(read)
        continue
      }
      const request = this.reads.get(read.context)
      this.reads.delete(read.context)
      request?.done(this.get(request.key))
    }
    this.pendingReads = waiting
  }

  private mustRun(): RawNode {
    assert(this.node !== undefined, `${this.id} is down`)
    return this.node
  }

  /** Request ids never repeat, across restarts too (member id, incarnation, counter). */
  private nextRequestId(): string {
    this.requestCounter++
    return `${this.id}.${this.restarts}.${this.requestCounter}`
  }
}
