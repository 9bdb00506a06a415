/**
 * @module raft
 * A pure, deterministic Raft consensus state machine in the shape of etcd-io/raft's RawNode:
 * `step(message)`, `tick()`, `propose(data)`, `readIndex(context)`, and a `ready()` batch
 * (persist, send, apply) acknowledged by `advance()`. Elections with PreVote and CheckQuorum,
 * pipelined replication, ReadIndex, leadership transfer, single-server membership changes,
 * snapshots. Written after the Raft paper (Ongaro & Ousterhout 2014) and Ongaro's thesis.
 * Imports: lib. Never does I/O, never reads a clock, never draws randomness of its own
 * (time is `tick()`, chance is the injected `Rng`), never imports node:* modules.
 */
export { RawNode, type RaftStatus } from './raw-node.js'
export type { RaftConfig, Role } from './raft.js'
export type { ProgressState } from './progress.js'
export { MemoryLogStorage } from './memory-storage.js'
export { entryDataBytes } from './message.js'
export {
  CompactedError,
  UnavailableError,
  ProposalDroppedError,
  type MemberId,
  type RaftIndex,
  type Term,
  type EntryType,
  type Entry,
  type HardState,
  type ConfState,
  type ConfChange,
  type SnapshotMetadata,
  type Snapshot,
  type MessageType,
  type Message,
  type ReadState,
  type SoftState,
  type Ready,
  type LogStorage,
  type LogStore,
  type Logger,
} from './types.js'
