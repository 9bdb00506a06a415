/**
 * A member's applied state as the simulator keeps it durable: the tree and event history of
 * a `MemoryStoreBackend`, frozen at an applied Raft index. This models ARCHITECTURE.md's
 * "the tree lives in the same transaction as the applied index": the simulated member takes
 * one such copy when its loop turn "commits", and a restart starts from the last copy, never
 * from the live (in-memory) store.
 *
 * The same copy, encoded as JSON bytes, is the data of an InstallSnapshot message (decision
 * 7), whose index is the copy's applied index.
 *
 * The store must keep its whole history (a `historyEventsMax` above the events ever made):
 * `MemoryStoreBackend` can only be rebuilt through its public methods, which append events
 * from index 1.
 */
import { assert } from '../../src/lib/index.js'
import { MemoryStoreBackend, ROOT_KEY, type HistoryRecord, type NodeRecord } from '../../src/store/index.js'

/** An immutable copy of a store's state at `appliedIndex` (Raft index of the last entry applied). */
export interface StoreState {
  readonly appliedIndex: number
  readonly nodes: readonly NodeRecord[]
  readonly events: readonly HistoryRecord[]
}

/** The state of an empty store before any entry. */
export const emptyStoreState: StoreState = { appliedIndex: 0, nodes: [], events: [] }

/**
 * Copies `backend` as it is now. Records are immutable, so they are shared, not cloned.
 * @throws AssertionFailure when the backend's history was trimmed (see the module comment).
 */
export function captureState(backend: MemoryStoreBackend, appliedIndex: number): StoreState {
  const nodes = backend.descendants(ROOT_KEY)
  const events = backend.eventsFrom(1, Number.POSITIVE_INFINITY)
  assert(events.length === backend.lastEventIndex(), 'the simulated store keeps its whole history')
  return { appliedIndex, nodes, events }
}

/** A new live backend holding `state` (the state itself stays untouched). */
export function restoreState(state: StoreState): MemoryStoreBackend {
  const backend = new MemoryStoreBackend()
  // descendants() ascends by key, so every parent comes before its children.
  for (const node of state.nodes) backend.putNode(node)
  for (const event of state.events) backend.appendEvent(event)
  assert(backend.lastEventIndex() === state.events.length, 'restored every event')
  return backend
}

/** The bytes of an InstallSnapshot message carrying `state`. */
export function encodeState(state: StoreState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state))
}

/** Decodes `encodeState`'s bytes. */
export function decodeState(data: Uint8Array): StoreState {
  const state = JSON.parse(new TextDecoder().decode(data)) as StoreState
  assert(Number.isSafeInteger(state.appliedIndex), 'snapshot state has an applied index')
  assert(Array.isArray(state.nodes), 'snapshot state has nodes')
  assert(Array.isArray(state.events), 'snapshot state has events')
  return state
}
