/**
 * Applying committed entries, inside the turn's transaction (ARCHITECTURE decision 3): each
 * entry exactly once, in index order, deterministically (an entry carries the proposer's
 * clock; nothing here reads one). A write goes to the store, a sweep expires TTLs, an auth
 * change to the auth store, a confChange and a member's attributes to the membership. The
 * results are collected, to be answered once the transaction has committed.
 */
import { assert } from '../../lib/index.js'
import type { Entry, Snapshot } from '../../raft/index.js'
import type { StoreRequest } from '../../store/index.js'
import { AuthError } from '../../auth/index.js'
import { V2Error } from '../../v2error/index.js'
import { decodeProposal } from '../proposal.js'
import type { ExpirySweeps } from './expiry.js'
import type { Membership, MembershipOutcome } from './membership.js'
import type { CoreParts, CoreState } from './parts.js'
import type { AuthOutcome, WriteOutcome } from './proposals.js'

/** What one turn applied, to answer after its commit. */
export interface Applied {
  readonly writes: WriteOutcome[]
  readonly auth: AuthOutcome[]
  readonly membership: MembershipOutcome[]
}

export class Applier {
  constructor(
    private readonly parts: CoreParts,
    private readonly state: CoreState,
    private readonly membership: Membership,
    private readonly expiry: ExpirySweeps,
  ) {}

  /** Applies `entries` (committed, ascending); those at or below the applied index are skipped. */
  applyEntries(entries: readonly Entry[], applied: Applied): void {
    for (const entry of entries) {
      if (entry.index <= this.state.appliedIndex) continue
      assert(entry.index === this.state.appliedIndex + 1, 'committed entries must be applied in order')
      if (entry.type === 'confChange') this.membership.applyChange(entry, applied.membership)
      else if (entry.data !== '') this.applyProposal(entry.data, applied)
      this.state.appliedIndex = entry.index
    }
  }

  /**
   * Replaces the applied state by a snapshot from the leader (Raft §7), inside the turn's
   * transaction: the tree, history, auth and members come with it; the log restarts after it.
   */
  installSnapshot(snapshot: Snapshot): void {
    const { storage, logger, peers, auth } = this.parts
    storage.importState(snapshot.data)
    auth.reload()
    storage.log.applySnapshot(snapshot.metadata)
    this.state.appliedIndex = snapshot.metadata.index
    // The membership came with the state: reach exactly the members it lists.
    peers.setPeers?.(storage.members())
    logger.info({ index: snapshot.metadata.index, term: snapshot.metadata.term, voters: snapshot.metadata.confState.voters }, 'snapshot installed')
  }

  private applyProposal(data: string, applied: Applied): void {
    const { store, auth } = this.parts
    const proposal = decodeProposal(data)
    switch (proposal.kind) {
      case 'expire':
        store.expire(proposal.timeMs, proposal.keysMax)
        this.expiry.applied()
        return
      case 'attributes':
        this.membership.applyAttributes(proposal)
        return
      case 'auth':
        try {
          applied.auth.push({ requestId: proposal.requestId, result: auth.apply(proposal.command) })
        } catch (error) {
          if (!(error instanceof AuthError)) throw error
          applied.auth.push({ requestId: proposal.requestId, error })
        }
        return
      case 'write': {
        const request = JSON.parse(proposal.json) as StoreRequest
        try {
          applied.writes.push({ requestId: proposal.requestId, event: store.apply(request, proposal.timeMs) })
        } catch (error) {
          if (!(error instanceof V2Error)) throw error
          applied.writes.push({ requestId: proposal.requestId, error })
        }
      }
    }
  }
}
