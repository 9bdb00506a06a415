/**
 * Shared fixtures of the store tests: a store over the memory backend, request builders
 * with etcd's defaults, and `outcome`, which turns a result or a V2Error into plain data.
 * Times are fixed numbers (no clock).
 */
import { V2Error } from '../../src/v2error/index.js'
import { MemoryStoreBackend, Store, defaultStoreLimits } from '../../src/store/index.js'
import type { StoreLimits, StoreRequest } from '../../src/store/index.js'

/** 2026-11-20T23:41:00Z in ms: the time of every write unless a test says otherwise. */
export const T0 = 1_795_218_060_000

/** A store over a fresh memory backend. */
export function newStore(limits: Partial<StoreLimits> = {}): { store: Store; backend: MemoryStoreBackend } {
  const backend = new MemoryStoreBackend()
  return { store: new Store(backend, { ...defaultStoreLimits, ...limits }), backend }
}

/** A store after applying `seed` at T0, in order (each consumes one index). */
export function storeWith(seed: readonly StoreRequest[], limits: Partial<StoreLimits> = {}): Store {
  const { store } = newStore(limits)
  for (const request of seed) store.apply(request, T0)
  return store
}

/** Request builders: etcd's parameter defaults, overridden by `more`. */
export const req = {
  set: (key: string, value = '', more: Partial<StoreRequestOf<'set'>> = {}): StoreRequest => ({
    op: 'set', key, value, dir: false, ttlSeconds: null, refresh: false, ...more,
  }),
  dir: (key: string, more: Partial<StoreRequestOf<'set'>> = {}): StoreRequest => ({
    op: 'set', key, value: '', dir: true, ttlSeconds: null, refresh: false, ...more,
  }),
  create: (key: string, value = '', more: Partial<StoreRequestOf<'create'>> = {}): StoreRequest => ({
    op: 'create', key, value, dir: false, ttlSeconds: null, inOrder: false, ...more,
  }),
  post: (key: string, value = '', more: Partial<StoreRequestOf<'create'>> = {}): StoreRequest => ({
    op: 'create', key, value, dir: false, ttlSeconds: null, inOrder: true, ...more,
  }),
  update: (key: string, value = '', more: Partial<StoreRequestOf<'update'>> = {}): StoreRequest => ({
    op: 'update', key, value, ttlSeconds: null, refresh: false, ...more,
  }),
  cas: (key: string, value: string, more: Partial<StoreRequestOf<'compareAndSwap'>> = {}): StoreRequest => ({
    op: 'compareAndSwap', key, value, ttlSeconds: null, refresh: false, prevValue: undefined, prevIndex: '', ...more,
  }),
  del: (key: string, more: Partial<StoreRequestOf<'delete'>> = {}): StoreRequest => ({
    op: 'delete', key, dir: false, recursive: false, ...more,
  }),
  cad: (key: string, more: Partial<StoreRequestOf<'compareAndDelete'>> = {}): StoreRequest => ({
    op: 'compareAndDelete', key, prevValue: undefined, prevIndex: '', ...more,
  }),
}

type StoreRequestOf<Op extends StoreRequest['op']> = Extract<StoreRequest, { op: Op }>

/** What a client sees of an operation: its body (and 201-ness) or its error. */
export type Outcome =
  | { readonly json: string; readonly index: number; readonly created: boolean }
  | { readonly errorCode: number; readonly cause: string; readonly index: number }

/** Runs `operation` and reports its outcome; anything but a V2Error propagates. */
export function outcome(operation: () => { json: string; index: number; created: boolean }): Outcome {
  try {
    const event = operation()
    return { json: event.json, index: event.index, created: event.created }
  } catch (error) {
    if (!(error instanceof V2Error)) throw error
    return { errorCode: error.errorCode, cause: error.detail, index: error.index }
  }
}

/** The error outcome with code, cause and index. */
export function failed(errorCode: number, cause: string, index: number): Outcome {
  return { errorCode, cause, index }
}
