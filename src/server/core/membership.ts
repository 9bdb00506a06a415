/**
 * Membership through the log (Raft thesis §4.1, one change at a time) and each member's
 * published attributes (etcd's publish: its name and client URLs, proposed as an entry once
 * a leader is known and retried until applied). Applying a change updates Raft's
 * configuration, the stored member list and the transport's peers.
 */
import { ProposalDroppedError, type ConfChange, type Entry } from '../../raft/index.js'
import { V2Error } from '../../v2error/index.js'
import type { MemberInfo } from '../ports.js'
import { MembershipError } from '../membership-error.js'
import { memberIdOf } from '../identity.js'
import { encodeAttributes } from '../proposal.js'
import { PendingReplies, type Reply } from './pending.js'
import type { CoreParts, CoreState } from './parts.js'

/** A membership change applied in a turn, answered after the turn commits. */
export type MembershipOutcome = { readonly requestId: string; readonly member: MemberInfo }

/** What a membership entry carries in its context: the request to answer, the member record. */
type ChangeContext = { readonly requestId: string; readonly member: MemberInfo }

export class Membership {
  private readonly changes: PendingReplies<MemberInfo>
  /** When this member last proposed its attributes; undefined once they are applied. */
  private attributesProposedAtMs: number | undefined = 0
  private removed = false
  private readonly removedCallbacks: (() => void)[] = []

  constructor(
    private readonly parts: CoreParts,
    private readonly state: CoreState,
    private readonly requestTurn: () => void,
  ) {
    this.changes = new PendingReplies(parts.scheduler, parts.settings.requestTimeoutMs)
  }

  members(): MemberInfo[] {
    return this.parts.storage.members()
  }

  /**
   * Adds a member with `peerUrls` (etcd's POST /v2/members). The new member has no name and
   * no client URLs until it starts.
   * @throws MembershipError 409 when a member already uses one of the URLs; `reply` gets 500
   *         when the change could not be committed (another change under way, no leader, timeout).
   */
  add(peerUrls: readonly string[], reply: Reply<MemberInfo>): void {
    if (this.peerUrlInUse(peerUrls, undefined)) throw new MembershipError(409, 'membership: peerURL exists')
    const nowMs = this.parts.clock.nowMs()
    const id = memberIdOf(peerUrls, `${this.parts.settings.clusterId}/${nowMs}/${this.state.requestsMade}`)
    this.propose('addNode', { id, name: '', peerUrls: [...peerUrls], clientUrls: [] }, reply)
  }

  /** Removes member `id` (etcd's DELETE /v2/members/<id>). @throws MembershipError 404, 410 */
  remove(id: string, reply: Reply<MemberInfo>): void {
    this.propose('removeNode', this.knownMember(id), reply)
  }

  /**
   * Replaces the peer URLs of member `id` (etcd's PUT /v2/members/<id>).
   * @throws MembershipError 404, 410, 409 (a URL used by another member)
   */
  update(id: string, peerUrls: readonly string[], reply: Reply<MemberInfo>): void {
    const member = this.knownMember(id)
    if (this.peerUrlInUse(peerUrls, id)) throw new MembershipError(409, 'membership: peerURL exists')
    this.propose('updateNode', { ...member, peerUrls: [...peerUrls] }, reply)
  }

  /** Applies a committed confChange entry inside the turn's transaction. */
  applyChange(entry: Entry, outcomes: MembershipOutcome[]): void {
    const { raft, storage, logger, peers, scheduler } = this.parts
    const change = JSON.parse(entry.data) as ConfChange
    const { requestId, member } = JSON.parse(change.context) as ChangeContext
    const confState = raft.applyConfChange(change)
    storage.log.setConfState(confState)
    if (change.type === 'removeNode') storage.removeMember(change.memberId)
    else storage.upsertMember(member)
    outcomes.push({ requestId, member })
    if (change.type === 'removeNode' && change.memberId === this.parts.settings.memberId) scheduler.soon(() => this.noteRemoved())
    logger.info({ change: change.type, memberId: change.memberId, voters: confState.voters }, 'membership changed')
    peers.setPeers?.(storage.members())
  }

  /** Applies a member's published attributes inside the turn's transaction. */
  applyAttributes(attributes: { memberId: string; name: string; clientUrls: string[] }): void {
    const { storage } = this.parts
    const current = storage.members().find((m) => m.id === attributes.memberId)
    if (current !== undefined) storage.upsertMember({ ...current, name: attributes.name, clientUrls: attributes.clientUrls })
    if (attributes.memberId === this.parts.settings.memberId) this.attributesProposedAtMs = undefined
  }

  /** Answers the membership changes applied in a turn, after its commit. */
  answer(outcomes: readonly MembershipOutcome[]): void {
    for (const { requestId, member } of outcomes) this.changes.resolve(requestId, member)
  }

  /** Publishes name and client URLs through the log (etcd's publish), retrying until applied. */
  maybePublishAttributes(): void {
    const proposedAt = this.attributesProposedAtMs
    if (proposedAt === undefined || this.state.leaderId === '' || this.state.stopped) return
    const { clock, settings, raft } = this.parts
    const nowMs = clock.nowMs()
    if (proposedAt !== 0 && nowMs - proposedAt < settings.requestTimeoutMs) return
    try {
      raft.propose(encodeAttributes(settings.memberId, settings.name, settings.clientUrls))
      this.attributesProposedAtMs = nowMs
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
    }
  }

  /**
   * This member was removed from the cluster: it applied its own removal, or a peer refused
   * it with 410 (the leader stops replicating to a removed member, so it may never apply it).
   */
  noteRemoved(): void {
    if (this.removed) return
    this.removed = true
    this.parts.logger.warn({ memberId: this.parts.settings.memberId }, 'this member was removed from the cluster')
    for (const callback of this.removedCallbacks) callback()
  }

  /** Registers a callback run when this member is removed from the cluster (etcd then exits). */
  onRemoved(callback: () => void): void {
    this.removedCallbacks.push(callback)
  }

  rejectAll(error: Error): void {
    this.changes.rejectAll(error)
  }

  private propose(type: ConfChange['type'], member: MemberInfo, reply: Reply<MemberInfo>): void {
    const requestId = this.state.nextRequestId()
    // Raft's 300s become 500 on the members routes, as etcd answers them.
    this.changes.add(requestId, {
      resolve: (value) => reply.resolve(value),
      reject: (error) => reply.reject(error instanceof V2Error ? new MembershipError(500, error.detail) : error),
    })
    try {
      this.parts.raft.proposeConfChange({ type, memberId: member.id, context: JSON.stringify({ requestId, member }) })
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      this.changes.reject(requestId, new MembershipError(500, 'etcdserver: membership change not accepted (no leader, or another change is under way)'))
    }
    this.requestTurn()
  }

  private knownMember(id: string): MemberInfo {
    const member = this.members().find((m) => m.id === id)
    if (member !== undefined) return member
    if (this.parts.storage.isRemoved(id)) throw new MembershipError(410, `Member permanently removed: ${id}`)
    throw new MembershipError(404, `No such member: ${id}`)
  }

  private peerUrlInUse(peerUrls: readonly string[], exceptId: string | undefined): boolean {
    const wanted = new Set(peerUrls)
    return this.members().some((m) => m.id !== exceptId && m.peerUrls.some((url) => wanted.has(url)))
  }
}
