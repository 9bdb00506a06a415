/**
 * One simulated arbor member: the shipped member core (src/server/core) wired as the CLI
 * wires it — a `RawNode`, a v2 `Store`, an `AuthStore` — but on a simulated disk
 * (sim-disk.ts), a simulated network (the simulation's `PeerSender`), the simulation's clock
 * and a scheduler that runs only when the simulation says so. Nothing of the loop is copied
 * here: this file only builds the parts, hands the core its inputs, and watches what leaves it.
 *
 * A crash drops the process (core, Raft node, store, pending timers and callbacks) and keeps
 * the disk; a power cut also loses what the disk had not synced. A restart builds a new core
 * from the disk, as the CLI does.
 */
import { SeededRng, assert, type Clock } from '../../src/lib/index.js'
import { RawNode, type Entry, type Logger, type MemberId, type Message, type RaftConfig, type Ready } from '../../src/raft/index.js'
import { Store, defaultStoreLimits, type Event, type MemoryStoreBackend, type StoreLimits, type StoreRequest } from '../../src/store/index.js'
import { AuthStore } from '../../src/auth/index.js'
import { MemberCore, type MemberInfo, type MemberSettings, type PeerSender, type Scheduler, type StateReader } from '../../src/server/index.js'
import { V2Error } from '../../src/v2error/index.js'
import { SimDisk } from './sim-disk.js'

/** What a client gets back: the store's event, or its error. */
export type Answer = { readonly event: Event } | { readonly error: V2Error }

/** How the simulation watches a member; each hook may throw a simulation failure. */
export interface MemberObserver {
  /** Raft handed `member` the Ready `ready` (its turn is about to run). */
  turn(member: SimMember, ready: Ready): void
  /** `entry` is committed and applied by `member` (persisted, not yet compacted), whose term is `term`. */
  applying(member: SimMember, entry: Entry, term: number): void
  /** `member`'s turn committed its transaction (`rewritten`: a snapshot replaced its state). */
  committed(member: SimMember, rewritten: boolean): void
  /** `member` sends `message` (after its turn committed). */
  send(member: SimMember, message: Message): void
  log(text: string): void
}

/** The store keeps every event: the durable copy is rebuilt through the backend's public API. */
const simStoreLimits: StoreLimits = { ...defaultStoreLimits, historyEventsMax: 1_000_000 }

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/**
 * The scheduler of one member process: `soon` work waits for `runSoon`, `after` timers for
 * `fireDue` with the simulated time. A crash throws the whole scheduler away.
 */
class SimScheduler implements Scheduler {
  private queue: (() => void)[] = []
  private timers: { readonly atMs: number; readonly fn: () => void; cancelled: boolean }[] = []
  constructor(private readonly clock: Clock) {}
  soon(fn: () => void): void {
    this.queue.push(fn)
  }
  after(delayMs: number, fn: () => void): () => void {
    const timer = { atMs: this.clock.nowMs() + delayMs, fn, cancelled: false }
    this.timers.push(timer)
    return () => {
      timer.cancelled = true
    }
  }
  /** Runs queued work, and what it queues, until none is left. @returns how much ran. */
  runSoon(limit: number): number {
    let ran = 0
    while (this.queue.length > 0) {
      assert(ran < limit, 'the member keeps scheduling work: it never settles')
      const work = this.queue
      this.queue = []
      for (const fn of work) fn()
      ran += work.length
    }
    return ran
  }
  /** Fires the timers due at the clock's time, in the order they were set. */
  fireDue(): void {
    const nowMs = this.clock.nowMs()
    const due = this.timers.filter((t) => t.atMs <= nowMs)
    if (due.length === 0) return
    this.timers = this.timers.filter((t) => t.atMs > nowMs)
    for (const timer of due) if (!timer.cancelled) timer.fn()
  }
}

/** A process incarnation: what a crash loses. */
interface Process {
  readonly core: MemberCore
  readonly node: RawNode
  readonly store: Store
  readonly scheduler: SimScheduler
  /** The Ready of the turn under way (its committed entries are the ones being applied). */
  ready: Ready | undefined
}

export class SimMember {
  readonly disk: SimDisk
  restarts = 0
  snapshotsInstalled = 0
  private incarnation: Process | undefined
  private ticks = 0

  constructor(
    readonly id: MemberId,
    members: readonly MemberInfo[],
    voters: readonly MemberId[],
    private readonly raftConfig: Omit<RaftConfig, 'id' | 'appliedIndex'>,
    private readonly settings: Omit<MemberSettings, 'memberId' | 'name'>,
    private readonly clock: Clock,
    private readonly observer: MemberObserver,
  ) {
    this.disk = new SimDisk(members, voters)
  }

  get running(): boolean {
    return this.incarnation !== undefined
  }

  /** The Raft node of the running process (undefined while down). */
  get node(): RawNode | undefined {
    return this.incarnation?.node
  }

  /** The disk's Raft log (what a restart reads). */
  get storage(): SimDisk['log'] {
    return this.disk.log
  }

  /** Index of the last entry applied (and committed with the state). */
  get applied(): number {
    return this.disk.appliedIndex()
  }

  /** The live store's backend (undefined while down). */
  get liveBackend(): MemoryStoreBackend | undefined {
    return this.incarnation === undefined ? undefined : this.disk.backend
  }

  /** Starts (or restarts) a process from the disk, as the CLI starts a member. */
  start(rngSeed: number): void {
    assert(this.incarnation === undefined, 'start: already running')
    const config: RaftConfig = { ...this.raftConfig, id: this.id, appliedIndex: this.disk.appliedIndex() }
    const node = new RawNode(config, this.disk.log, new SeededRng(rngSeed), silent)
    const store = new Store(this.disk.storeBackend, simStoreLimits)
    const scheduler = new SimScheduler(this.clock)
    const incarnation: Process = { node, store, scheduler, ready: undefined, core: undefined as unknown as MemberCore }
    this.watchTurns(incarnation)
    const core = new MemberCore({
      raft: node,
      store,
      auth: new AuthStore(this.disk.authBackend),
      storage: this.disk,
      peers: this.peers(),
      clock: this.clock,
      scheduler,
      logger: silent,
      settings: { ...this.settings, memberId: this.id, name: this.id },
    })
    ;(incarnation as { core: MemberCore }).core = core
    this.incarnation = incarnation
    core.start()
  }

  /**
   * The process dies; waiting clients get no answer. A `powerCut` also loses what reached the
   * disk after its last sync. @returns whether applied entries were lost.
   */
  crash(powerCut: boolean): boolean {
    this.incarnation = undefined
    this.restarts += 1
    return powerCut ? this.disk.powerCut() : false
  }

  /** One heartbeat interval passed: a Raft tick, and every `ticksPerSweep` a TTL sweep check. */
  tick(ticksPerSweep: number): void {
    const p = this.mustRun()
    p.scheduler.fireDue()
    p.core.tick()
    this.ticks += 1
    if (this.ticks % ticksPerSweep === 0) p.core.sweepExpired()
  }

  /** Runs the work the member scheduled (its loop turns) until it settles. */
  runScheduled(): void {
    this.incarnation?.scheduler.runSoon(10_000)
  }

  receive(message: Message): void {
    this.mustRun().core.receive([message])
  }

  reportSnapshot(to: MemberId, ok: boolean): void {
    this.incarnation?.core.reportSnapshot(to, ok)
  }

  /** A client write; `done` gets what this member answers (its applied event, or an error). */
  write(request: StoreRequest, done: (answer: Answer) => void): void {
    this.mustRun().core.write(request, { resolve: (event) => done({ event }), reject: (error) => done({ error: asV2Error(error) }) })
  }

  /** A plain read from the local store: fast, possibly stale (decision 5). */
  get(key: string): Answer {
    const { core } = this.mustRun()
    try {
      return { event: core.get(key, { recursive: false, sorted: false }) }
    } catch (error) {
      return { error: asV2Error(error) }
    }
  }

  /** A linearizable read: ReadIndex, then the local store once the read point is applied. */
  quorumGet(key: string, done: (answer: Answer) => void): void {
    this.mustRun().core.readIndex({ resolve: () => done(this.get(key)), reject: (error) => done({ error: asV2Error(error) }) })
  }

  /** The core of the running process (for requests the simulation makes as an operator would). */
  get core(): MemberCore | undefined {
    return this.incarnation?.core
  }

  private mustRun(): Process {
    assert(this.incarnation !== undefined, `${this.id} is down`)
    return this.incarnation
  }

  /** Wraps the node's `ready` and the disk's hooks so the simulation sees each turn's applies and commits. */
  private watchTurns(incarnation: Process): void {
    const { node } = incarnation
    const ready = node.ready.bind(node)
    node.ready = () => {
      const r = ready()
      incarnation.ready = r
      this.observer.turn(this, r)
      return r
    }
    this.disk.onApplied = (from, to) => {
      if (this.incarnation !== incarnation) return
      const term = node.status().term
      for (const entry of incarnation.ready?.committedEntries ?? []) {
        if (entry.index > from && entry.index <= to) this.observer.applying(this, entry, term)
      }
    }
    let imports = this.disk.imports
    this.disk.onCommit = () => {
      if (this.incarnation !== incarnation) return
      const rewritten = this.disk.imports !== imports
      imports = this.disk.imports
      if (rewritten) this.snapshotsInstalled += 1
      this.observer.committed(this, rewritten)
    }
  }

  /** The network as the core sees it: every message goes through the simulation. */
  private peers(): PeerSender {
    return {
      send: (messages) => {
        for (const message of messages) this.observer.send(this, message)
      },
      sendSnapshot: (message: Message, state: StateReader) => {
        const metadata = message.snapshot?.metadata
        assert(metadata !== undefined, 'a snap message names its snapshot')
        this.observer.send(this, { ...message, snapshot: { metadata, data: readAll(state) } })
      },
    }
  }
}

/** Every chunk of `state`, joined; `state` is closed. */
function readAll(state: StateReader): Uint8Array {
  const pieces: Uint8Array[] = []
  try {
    for (let piece = state.next(); piece !== undefined; piece = state.next()) pieces.push(piece)
  } finally {
    state.close()
  }
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const piece of pieces) {
    out.set(piece, offset)
    offset += piece.length
  }
  return out
}

function asV2Error(error: unknown): V2Error {
  if (error instanceof V2Error) return error
  throw error
}
