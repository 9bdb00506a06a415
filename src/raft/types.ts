/**
 * The shapes the Raft state machine shares with the rest of arbor: entries, hard state,
 * messages, the `Ready` batch, and the log storage it reads from. Modelled on etcd-io/raft
 * (raftpb, storage.go); section numbers refer to the Raft paper (Ongaro & Ousterhout 2014)
 * and Ongaro's thesis (2014).
 */

/** A member's identity: etcd's 64-bit member ID as lower-case hex without padding. */
export type MemberId = string

/** Position in the Raft log. The first real entry is 1; 0 means "none" (Figure 2). */
export type RaftIndex = number

/** A Raft term (Figure 2). 0 before any election. */
export type Term = number

/** What an entry carries: a client proposal (or the leader's empty no-op), or a membership change (thesis §4.1). */
export type EntryType = 'normal' | 'confChange'

/** One log entry. `data` is opaque to Raft (JSON text in arbor); '' is a leader's no-op (§8). */
export interface Entry {
  readonly index: RaftIndex
  readonly term: Term
  readonly type: EntryType
  readonly data: string
}

/** Durable per-member state written before any message that depends on it (Figure 2). */
export interface HardState {
  readonly term: Term
  /** Member voted for in `term`, or '' for none. */
  readonly vote: MemberId | ''
  /** Highest index known committed. */
  readonly commit: RaftIndex
}

/** The voting members of a configuration (thesis §4.1: single-server changes). */
export interface ConfState {
  readonly voters: readonly MemberId[]
}

/** A membership change carried in a `confChange` entry's data (decoded by the application). */
export interface ConfChange {
  readonly type: 'addNode' | 'removeNode' | 'updateNode'
  readonly memberId: MemberId
  /** Application context (member name, peer URLs ...), opaque to Raft. */
  readonly context: string
}

/** Where a snapshot stands in the log and which configuration it holds (§7). */
export interface SnapshotMetadata {
  readonly index: RaftIndex
  readonly term: Term
  readonly confState: ConfState
}

/** A snapshot: metadata plus the application's state as opaque bytes (empty when only metadata is needed). */
export interface Snapshot {
  readonly metadata: SnapshotMetadata
  readonly data: Uint8Array
}

/** Message kinds, as in etcd raftpb (names keep Raft's vocabulary). */
export type MessageType =
  | 'hup' // local: start an election
  | 'beat' // local: leader sends heartbeats
  | 'prop' // proposal (local or forwarded from a follower to the leader)
  | 'app' // AppendEntries (§5.3)
  | 'appResp'
  | 'vote' // RequestVote (§5.2)
  | 'voteResp'
  | 'preVote' // thesis §9.6
  | 'preVoteResp'
  | 'snap' // InstallSnapshot (§7)
  | 'heartbeat'
  | 'heartbeatResp'
  | 'readIndex' // thesis §6.4 (forwarded by a follower)
  | 'readIndexResp'
  | 'transferLeader' // thesis §3.10
  | 'timeoutNow'
  | 'snapStatus' // local: the transport reports a snapshot's delivery
  | 'unreachable' // local: the transport reports a peer unreachable

/** One Raft message. Fields unused by a type are 0, '' or empty. */
export interface Message {
  readonly type: MessageType
  readonly from: MemberId
  readonly to: MemberId
  readonly term: Term
  /** Term of the entry at `index` (app: previous entry; vote: candidate's last entry). */
  readonly logTerm: Term
  readonly index: RaftIndex
  readonly entries: readonly Entry[]
  readonly commit: RaftIndex
  readonly reject: boolean
  /** On a rejected append: the follower's hint for fast back-tracking. */
  readonly rejectHint: RaftIndex
  readonly snapshot?: Snapshot
  /** ReadIndex request context, heartbeat context; opaque. */
  readonly context: string
}

/** A linearizable read point (thesis §6.4): once applied ≥ `index`, the read `context` may be served. */
export interface ReadState {
  readonly index: RaftIndex
  readonly context: string
}

/** Volatile state worth reporting; changes are logged by the application. */
export interface SoftState {
  readonly leaderId: MemberId | ''
  readonly role: 'follower' | 'preCandidate' | 'candidate' | 'leader'
}

/**
 * Everything the application must do, handed out by `ready()` and acknowledged by
 * `advance()`. Order: persist `hardState`, `entries` and `snapshot` (one transaction),
 * then send `messages`, then apply `committedEntries` (Figure 2: durable before visible).
 */
export interface Ready {
  readonly softState?: SoftState
  readonly hardState?: HardState
  readonly entries: readonly Entry[]
  readonly snapshot?: Snapshot
  readonly committedEntries: readonly Entry[]
  readonly messages: readonly Message[]
  readonly readStates: readonly ReadState[]
}

/**
 * The log as Raft reads it (etcd raft Storage). Implementations: `MemoryLogStorage`
 * (raft/memory-storage.ts) and the SQLite storage (storage module); one contract suite
 * (test/storage/log-storage-contract.ts) runs against both.
 */
export interface LogStorage {
  /** Hard state and configuration saved last (zeros and no voters on a new member). */
  initialState(): { hardState: HardState; confState: ConfState }
  /**
   * Entries in [lo, hi), consecutive and ascending, stopping before `bytesMax` bytes of data
   * are exceeded (but always at least one entry when lo < hi).
   * @throws CompactedError when lo ≤ the snapshot index; UnavailableError when hi > lastIndex + 1.
   */
  entries(lo: RaftIndex, hi: RaftIndex, bytesMax: number): Entry[]
  /**
   * Term of the entry at `index`; the snapshot's index answers the snapshot's term.
   * @throws CompactedError below the snapshot index; UnavailableError beyond lastIndex.
   */
  term(index: RaftIndex): Term
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): RaftIndex
  /** Index of the last entry (the snapshot index when the log is empty). */
  lastIndex(): RaftIndex
  /** The latest snapshot (metadata at least; `data` filled when a follower needs it). */
  snapshot(): Snapshot
}

/** The write side of a log storage. Each call is atomic; SQLite batches them in one transaction. */
export interface LogStore extends LogStorage {
  /**
   * Appends `entries` (consecutive; entries[0].index ≤ lastIndex + 1 and > snapshot index),
   * first removing every stored entry with index ≥ entries[0].index (Figure 2, receiver rule 3).
   */
  append(entries: readonly Entry[]): void
  setHardState(hardState: HardState): void
  /** Replaces the log by `snapshot`: every entry ≤ its index goes, firstIndex = index + 1. */
  applySnapshot(snapshot: SnapshotMetadata): void
  /** Discards entries with index ≤ `index` (index ≤ applied), keeping that entry's term. */
  compact(index: RaftIndex): void
  /** Persists the configuration (after applying a confChange entry). */
  setConfState(confState: ConfState): void
}

/** The log below `firstIndex` is gone (compacted into a snapshot). */
export class CompactedError extends Error {
  override readonly name = 'CompactedError'
}

/** The requested entries are beyond `lastIndex`. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError'
}

/** A proposal was not accepted (no leader, leadership transfer under way, too many pending). */
export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError'
}

/** Pino-compatible subset of a logger; Raft only ever logs through this. */
export interface Logger {
  debug(fields: object, message: string): void
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}
