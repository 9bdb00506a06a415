/**
 * What a member knows about itself and its cluster, beside the tree: the applied index,
 * its own id and the cluster's (written once at bootstrap), and the membership as applied
 * from confChange entries, including the ids removed for good (etcd answers 410 for them,
 * spec v2-api.md §12.1). Tables `meta`, `members`, `removed_members`.
 */
import { assert } from '../lib/index.js'
import type { MemberId, RaftIndex } from '../raft/index.js'
import { metaKey } from './schema.js'
import type { ArborDatabase } from './database.js'
import type { MemberRow, Statements } from './statements.js'

/** One member of the cluster, as `/v2/members` shows it. `name` is '' until it has started. */
export interface MemberRecord {
  id: MemberId
  name: string
  peerUrls: string[]
  clientUrls: string[]
}

/** A member as written: the fields of `MemberRecord`, read-only arrays accepted. */
export interface MemberUpdate {
  readonly id: MemberId
  readonly name: string
  readonly peerUrls: readonly string[]
  readonly clientUrls: readonly string[]
}

/** The identity and membership tables of a member's database; build one per database. */
export class MemberMeta {
  private readonly db: ArborDatabase
  private readonly meta: Statements['meta']
  private readonly members: Statements['members']

  constructor(db: ArborDatabase) {
    this.db = db
    this.meta = db.statements.meta
    this.members = db.statements.members
  }

  /** Raft index of the last entry applied to the state tables; 0 on a new member. */
  appliedIndex(): RaftIndex {
    const value = this.meta.get.get(metaKey.appliedIndex)?.value ?? 0
    assert(typeof value === 'number', 'meta applied_index is not a number')
    return value
  }

  /** Records that entries up to `index` are applied. Asserts that it never goes backward. */
  setAppliedIndex(index: RaftIndex): void {
    assert(Number.isSafeInteger(index), `applied index ${index} is not an integer`)
    assert(index >= this.appliedIndex(), `applied index going back from ${this.appliedIndex()} to ${index}`)
    this.meta.put.run(metaKey.appliedIndex, index)
  }

  /** This member's id, or undefined before bootstrap. */
  memberId(): MemberId | undefined {
    return this.readText(metaKey.memberId)
  }

  /** Writes this member's id once; writing the same id again is harmless, a different one a bug. */
  setMemberId(id: MemberId): void {
    this.writeOnce(metaKey.memberId, id)
  }

  /** The cluster's id, or undefined before bootstrap. */
  clusterId(): string | undefined {
    return this.readText(metaKey.clusterId)
  }

  /** Writes the cluster's id once (see `setMemberId`). */
  setClusterId(id: string): void {
    this.writeOnce(metaKey.clusterId, id)
  }

  /** The current members, by numeric id (as `/v2/members` lists them). */
  listMembers(): MemberRecord[] {
    return this.members.list.all().map(toMemberRecord)
  }

  /** Adds `member`, or replaces the member with its id (a name or URL update). */
  upsertMember(member: MemberUpdate): void {
    assert(!this.isRemoved(member.id), `member ${member.id} was removed; ids are never reused`)
    this.members.upsert.run(member.id, member.name, JSON.stringify(member.peerUrls), JSON.stringify(member.clientUrls))
  }

  /** Removes member `id` for good: it is remembered in `removedMemberIds`. */
  removeMember(id: MemberId): void {
    this.db.transaction(() => {
      this.members.delete.run(id)
      this.members.insertRemoved.run(id)
    })
  }

  /** Ids removed from the cluster, by numeric id. */
  removedMemberIds(): MemberId[] {
    return this.members.listRemoved.all().map((row) => row.id)
  }

  /** Whether `id` was removed from the cluster (etcd: 410 "Member permanently removed"). */
  isRemoved(id: MemberId): boolean {
    return this.members.isRemoved.get(id) !== undefined
  }

  private readText(key: string): string | undefined {
    const value = this.meta.get.get(key)?.value
    assert(value === undefined || typeof value === 'string', `meta ${key} is not text`)
    return value
  }

  private writeOnce(key: string, value: string): void {
    assert(value !== '', `meta ${key}: empty value`)
    const current = this.readText(key)
    assert(current === undefined || current === value, `meta ${key} is ${current}, refusing to change it to ${value}`)
    if (current === undefined) this.meta.put.run(key, value)
  }
}

function toMemberRecord(row: MemberRow): MemberRecord {
  return {
    id: row.id,
    name: row.name,
    peerUrls: parseStrings(row.peer_urls),
    clientUrls: parseStrings(row.client_urls),
  }
}

function parseStrings(json: string): string[] {
  const list: unknown = JSON.parse(json)
  assert(Array.isArray(list), 'member URLs are not a JSON array')
  for (const item of list) assert(typeof item === 'string', 'member URL is not a string')
  return list as string[]
}
