/**
 * Drives a small in-process Raft cluster from transcript commands (test/raft/testdata/*.txt)
 * and renders what happened as text. Each member has a RawNode, a MemoryLogStorage (its
 * "disk") and an application whose state is the list of applied entry data; messages wait in
 * one FIFO queue until a `deliver` or `stabilize` command hands them over. Everything is
 * deterministic: a seeded Rng per member, no clock.
 *
 * Commands (arguments `key=value` unless said otherwise):
 *   add-members <id>... [voters=id,...] [preVote=b] [checkQuorum=b] [electionTicks=n]
 *               [heartbeatTicks=n] [inflight=n] [messageBytes=n]   new members with empty logs;
 *               their configuration is `voters` (default: the ids given)
 *   campaign <id>                      tick <id>... [count=n]
 *   propose <id> <data>                propose-conf-change <id> <addNode|removeNode|updateNode> <member>
 *   read-index <id> <context>          transfer-leader <id> <to>
 *   process-ready [<id>...]            persist, queue messages, apply, advance (all members by default)
 *   deliver [from=id] [to=id] [type=t] [count=n]   hand queued messages to their receivers
 *   drop [from=id] [to=id] [type=t]    discard queued messages
 *   stabilize [<id>...]                process-ready and deliver until nothing is left
 *   partition <id>... / <id>...        messages across groups are lost; `heal` ends it
 *   status <id>                        log <id>
 *   compact <id> <index>               report-unreachable <id> <peer>
 *   crash <id> / restart <id>          lose everything not persisted; rebuild from storage
 *   set-log <id> <term>...             (crashed member) replace its log with entries of these terms
 *   step <to> <type> from=id [term= index= logTerm= commit= reject= rejectHint= context= entries=i/t,...]
 */
import { SeededRng } from '../../src/lib/index.js'
import {
  MemoryLogStorage,
  ProposalDroppedError,
  RawNode,
  type ConfChange,
  type Entry,
  type Logger,
  type Message,
  type MessageType,
  type RaftConfig,
  type Ready,
} from '../../src/raft/index.js'

/** One parsed transcript command: `name arg arg key=value`. */
export interface Command {
  readonly name: string
  readonly args: readonly string[]
  readonly options: ReadonlyMap<string, string>
}

export function parseCommand(line: string): Command {
  const words = line.trim().split(/\s+/)
  const name = words.shift() ?? ''
  const args: string[] = []
  const options = new Map<string, string>()
  for (const word of words) {
    const eq = word.indexOf('=')
    if (eq > 0) options.set(word.slice(0, eq), word.slice(eq + 1))
    else args.push(word)
  }
  return { name, args, options }
}

interface Member {
  readonly id: string
  node: RawNode | undefined
  readonly config: RaftConfig
  storage: MemoryLogStorage
  /** The application's state: data of every applied entry, by index (index 0 unused). Durable. */
  applied: string[]
  seed: number
}

const defaults = { electionTicks: 10, heartbeatTicks: 1, inflight: 256, messageBytes: 1 << 20 }

export class ClusterDriver {
  private readonly members = new Map<string, Member>()
  private queue: Message[] = []
  private groups: string[][] = []
  private out: string[] = []
  private seedCounter = 1

  /** Runs one command and returns its output lines ("ok" when it prints nothing). */
  run(command: Command): string {
    this.out = []
    this.dispatch(command)
    return this.out.length === 0 ? 'ok' : this.out.join('\n')
  }

  private dispatch(c: Command): void {
    const id = c.args[0] ?? ''
    switch (c.name) {
      case 'add-members': return this.addMembers(c)
      case 'campaign': return this.guard(() => this.node(id).campaign())
      case 'tick': return this.tick(c)
      case 'propose': return this.guard(() => this.node(id).propose(c.args[1] ?? ''))
      case 'propose-conf-change': return this.guard(() => this.node(id).proposeConfChange(confChange(c)))
      case 'read-index': return this.guard(() => this.node(id).readIndex(c.args[1] ?? ''))
      case 'transfer-leader': return this.guard(() => this.node(id).transferLeadership(c.args[1] ?? ''))
      case 'process-ready': return this.forEachId(c.args, (m) => this.processReady(m))
      case 'deliver': return void this.deliver(c.options, true)
      case 'drop': return this.drop(c.options)
      case 'stabilize': return this.stabilize(c.args)
      case 'partition': return this.partition(c.args)
      case 'heal': this.groups = []; return
      case 'status': return this.status(id)
      case 'log': return this.printLog(id)
      case 'compact': return this.compact(id, Number(c.args[1]))
      case 'report-unreachable': return this.node(id).reportUnreachable(c.args[1] ?? '')
      case 'crash': return this.crash(id)
      case 'restart': return this.restart(id)
      case 'set-log': return this.setLog(id, c.args.slice(1).map(Number))
      case 'step': return this.guard(() => this.node(id).step(craftMessage(c)))
      default: throw new Error(`unknown command ${c.name}`)
    }
  }

  private guard(action: () => void): void {
    try {
      action()
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      this.out.push(`error: ${error.message}`)
    }
  }

  private addMembers(c: Command): void {
    const ids = c.args
    const voters = c.options.get('voters')?.split(',').filter((v) => v !== '') ?? ids
    for (const id of ids) {
      const config: RaftConfig = {
        id,
        electionTicks: numberOption(c, 'electionTicks', defaults.electionTicks),
        heartbeatTicks: numberOption(c, 'heartbeatTicks', defaults.heartbeatTicks),
        preVote: c.options.get('preVote') === 'true',
        checkQuorum: c.options.get('checkQuorum') === 'true',
        inflightMessagesMax: numberOption(c, 'inflight', defaults.inflight),
        messageBytesMax: numberOption(c, 'messageBytes', defaults.messageBytes),
        appliedIndex: 0,
      }
      const storage = new MemoryLogStorage({ voters })
      const member: Member = { id, node: undefined, config, storage, applied: [''], seed: this.seedCounter++ }
      this.members.set(id, member)
      this.startNode(member)
    }
  }

  private startNode(m: Member): void {
    const appliedIndex = m.applied.length - 1
    m.node = new RawNode({ ...m.config, appliedIndex }, m.storage, new SeededRng(m.seed), this.logger(m.id))
  }

  private logger(id: string): Logger {
    const info = (fields: object, message: string): void => {
      const rest = Object.entries(fields).filter(([k]) => k !== 'id')
      this.out.push(`INFO ${id} ${message}${rest.map(([k, v]) => ` ${k}=${formatValue(v)}`).join('')}`)
    }
    return { debug: () => {}, info, warn: info, error: info }
  }

  private member(id: string): Member {
    const m = this.members.get(id)
    if (m === undefined) throw new Error(`no member ${id}`)
    return m
  }

  private node(id: string): RawNode {
    const node = this.member(id).node
    if (node === undefined) throw new Error(`member ${id} is down`)
    return node
  }

  private forEachId(ids: readonly string[], action: (m: Member) => void): void {
    const chosen = ids.length > 0 ? ids : [...this.members.keys()]
    for (const id of chosen) {
      const m = this.member(id)
      if (m.node !== undefined) action(m)
    }
  }

  private tick(c: Command): void {
    const count = numberOption(c, 'count', 1)
    for (let i = 0; i < count; i++) {
      for (const id of c.args) this.node(id).tick()
    }
  }

  /** One loop turn of the member's application (STYLE §4): persist, send, apply, advance. */
  private processReady(m: Member): boolean {
    const node = m.node
    if (node === undefined || !node.hasReady()) return false
    const ready = node.ready()
    this.out.push(`ready ${m.id}:${describeReadyState(ready)}`)
    if (ready.snapshot !== undefined) {
      m.storage.applySnapshot(ready.snapshot.metadata)
      m.applied = decodeState(ready.snapshot.data)
      this.out.push(`  install snapshot index=${ready.snapshot.metadata.index} term=${ready.snapshot.metadata.term} voters=${formatValue(ready.snapshot.metadata.confState.voters)}`)
    }
    m.storage.append(ready.entries)
    if (ready.hardState !== undefined) m.storage.setHardState(ready.hardState)
    for (const e of ready.entries) this.out.push(`  persist ${formatEntry(e)}`)
    for (const message of ready.messages) {
      this.out.push(`  send ${formatMessage(message)}`)
      if (this.members.get(message.to)?.node === undefined) this.lose(message, 'member down')
      else this.queue.push(this.fillSnapshot(m, message))
    }
    for (const e of ready.committedEntries) this.apply(m, node, e)
    for (const r of ready.readStates) this.out.push(`  readState index=${r.index} context=${r.context}`)
    node.advance(ready)
    return true
  }

  /** The application puts its state into an outgoing snapshot (the storage only knows the metadata). */
  private fillSnapshot(m: Member, message: Message): Message {
    if (message.snapshot === undefined) return message
    const state = m.applied.slice(0, message.snapshot.metadata.index + 1)
    return { ...message, snapshot: { ...message.snapshot, data: new TextEncoder().encode(JSON.stringify(state)) } }
  }

  private apply(m: Member, node: RawNode, e: Entry): void {
    if (e.index !== m.applied.length) throw new Error(`member ${m.id} applies ${e.index} after ${m.applied.length - 1}`)
    m.applied.push(e.data)
    this.out.push(`  apply ${formatEntry(e)}`)
    if (e.type !== 'confChange') return
    const confState = node.applyConfChange(JSON.parse(e.data) as ConfChange)
    m.storage.setConfState(confState)
    this.out.push(`  voters ${formatValue(confState.voters)}`)
  }

  /**
   * Hands matching queued messages (in queue order) to their receivers.
   * @returns how many were delivered or lost.
   */
  private deliver(filter: ReadonlyMap<string, string>, print: boolean): number {
    const count = Number(filter.get('count') ?? Infinity)
    const taken: Message[] = []
    const kept: Message[] = []
    for (const message of this.queue) {
      if (taken.length < count && matches(message, filter)) taken.push(message)
      else kept.push(message)
    }
    this.queue = kept
    for (const message of taken) this.deliverOne(message, print)
    return taken.length
  }

  private deliverOne(message: Message, print: boolean): void {
    const receiver = this.members.get(message.to)
    const cut = this.partitioned(message.from, message.to)
    if (receiver?.node === undefined || cut) {
      this.lose(message, cut ? 'partition' : 'member down')
      return
    }
    if (print) this.out.push(`deliver ${formatMessage(message)}`)
    receiver.node.step(message)
    if (message.type === 'snap') this.members.get(message.from)?.node?.reportSnapshot(message.to, true)
  }

  /** A message the network lost; the transport of a snapshot's sender reports the failure. */
  private lose(message: Message, why: string): void {
    this.out.push(`  lost ${formatMessage(message)} (${why})`)
    if (message.type === 'snap') this.members.get(message.from)?.node?.reportSnapshot(message.to, false)
  }

  private drop(filter: ReadonlyMap<string, string>): void {
    const kept: Message[] = []
    const dropped: Message[] = []
    for (const message of this.queue) {
      if (matches(message, filter)) dropped.push(message)
      else kept.push(message)
    }
    this.queue = kept
    for (const message of dropped) this.lose(message, 'dropped')
  }

  private stabilize(ids: readonly string[]): void {
    for (let round = 0; round < 1000; round++) {
      let busy = false
      this.forEachId(ids, (m) => {
        while (this.processReady(m)) busy = true
      })
      const pending = this.queue.filter((message) => ids.length === 0 || ids.includes(message.to))
      if (pending.length > 0) {
        busy = true
        for (const message of pending) {
          this.queue.splice(this.queue.indexOf(message), 1)
          this.deliverOne(message, false)
        }
      }
      if (!busy) return
    }
    throw new Error('stabilize did not settle in 1000 rounds')
  }

  private partition(args: readonly string[]): void {
    this.groups = [[]]
    for (const a of args) {
      if (a === '/') this.groups.push([])
      else this.groups[this.groups.length - 1]?.push(a)
    }
  }

  private partitioned(from: string, to: string): boolean {
    if (this.groups.length === 0) return false
    const group = this.groups.find((g) => g.includes(from))
    return group === undefined || !group.includes(to)
  }

  private status(id: string): void {
    const s = this.node(id).status()
    this.out.push(`${id} role=${s.role} term=${s.term} vote=${s.vote || '-'} leader=${s.leaderId || '-'} commit=${s.commit} applied=${s.applied}`)
    for (const [peer, p] of Object.entries(s.progress ?? {})) {
      this.out.push(`  ${peer} match=${p.matchIndex} next=${p.nextIndex} state=${p.state}`)
    }
  }

  private printLog(id: string): void {
    const { storage } = this.member(id)
    const first = storage.firstIndex()
    const last = storage.lastIndex()
    const hard = storage.initialState().hardState
    this.out.push(`${id} first=${first} last=${last} term=${hard.term} vote=${hard.vote || '-'} commit=${hard.commit}`)
    const entries = last >= first ? storage.entries(first, last + 1, Infinity) : []
    this.out.push(entries.length === 0 ? '  (no entries)' : `  ${entries.map(formatEntry).join(' ')}`)
    this.out.push(`  applied ${formatValue(this.member(id).applied.slice(1))}`)
  }

  private compact(id: string, index: number): void {
    const m = this.member(id)
    if (index > m.applied.length - 1) throw new Error(`cannot compact ${id} beyond its applied index`)
    m.storage.compact(index)
    this.out.push(`${id} first=${m.storage.firstIndex()} last=${m.storage.lastIndex()}`)
  }

  private crash(id: string): void {
    const m = this.member(id)
    m.node = undefined
    this.queue = this.queue.filter((message) => message.to !== id)
  }

  private restart(id: string): void {
    const m = this.member(id)
    if (m.node !== undefined) throw new Error(`member ${id} is up`)
    m.seed += 1000
    this.startNode(m)
  }

  private setLog(id: string, terms: readonly number[]): void {
    const m = this.member(id)
    if (m.node !== undefined) throw new Error(`crash member ${id} before set-log`)
    const voters = m.storage.initialState().confState.voters
    m.storage = new MemoryLogStorage({ voters })
    const entries = terms.map((term, i) => ({ index: i + 1, term, type: 'normal' as const, data: `t${term}i${i + 1}` }))
    m.storage.append(entries)
    m.storage.setHardState({ term: Math.max(0, ...terms), vote: '', commit: 0 })
    m.applied = ['']
  }
}

function confChange(c: Command): ConfChange {
  const type = c.args[1]
  if (type !== 'addNode' && type !== 'removeNode' && type !== 'updateNode') throw new Error(`bad conf change ${type}`)
  return { type, memberId: c.args[2] ?? '', context: '' }
}

function craftMessage(c: Command): Message {
  const n = (key: string): number => Number(c.options.get(key) ?? 0)
  const entries = (c.options.get('entries') ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map((s) => {
      const [index, term] = s.split('/').map(Number)
      return { index: index ?? 0, term: term ?? 0, type: 'normal' as const, data: `t${term}i${index}` }
    })
  return {
    type: (c.args[1] ?? '') as MessageType,
    from: c.options.get('from') ?? '',
    to: c.args[0] ?? '',
    term: n('term'),
    logTerm: n('logTerm'),
    index: n('index'),
    entries,
    commit: n('commit'),
    reject: c.options.get('reject') === 'true',
    rejectHint: n('rejectHint'),
    context: c.options.get('context') ?? '',
  }
}

function numberOption(c: Command, key: string, fallback: number): number {
  const value = c.options.get(key)
  return value === undefined ? fallback : Number(value)
}

function matches(message: Message, filter: ReadonlyMap<string, string>): boolean {
  const from = filter.get('from')
  const to = filter.get('to')
  const type = filter.get('type')
  return (from === undefined || message.from === from) && (to === undefined || message.to === to) && (type === undefined || message.type === type)
}

function decodeState(data: Uint8Array): string[] {
  return JSON.parse(new TextDecoder().decode(data)) as string[]
}

function describeReadyState(ready: Ready): string {
  let text = ''
  if (ready.softState !== undefined) text += ` role=${ready.softState.role} leader=${ready.softState.leaderId || '-'}`
  if (ready.hardState !== undefined) {
    const h = ready.hardState
    text += ` hardState term=${h.term} vote=${h.vote || '-'} commit=${h.commit}`
  }
  return text
}

export function formatEntry(e: Entry): string {
  if (e.type === 'confChange') {
    const cc = JSON.parse(e.data) as ConfChange
    return `${e.index}/${e.term}:${cc.type}(${cc.memberId})`
  }
  return `${e.index}/${e.term}:${JSON.stringify(e.data)}`
}

/** `from->to type term=N` and every field that is not 0, '' or empty. */
export function formatMessage(m: Message): string {
  let text = `${m.from}->${m.to} ${m.type} term=${m.term}`
  if (m.logTerm !== 0) text += ` logTerm=${m.logTerm}`
  if (m.index !== 0) text += ` index=${m.index}`
  if (m.commit !== 0) text += ` commit=${m.commit}`
  if (m.reject) text += m.type === 'appResp' ? ` reject rejectHint=${m.rejectHint}` : ' reject'
  if (m.context !== '') text += ` context=${m.context}`
  if (m.entries.length > 0) text += ` entries=[${m.entries.map(formatEntry).join(' ')}]`
  if (m.snapshot !== undefined) text += ` snapshot=${m.snapshot.metadata.index}/${m.snapshot.metadata.term}`
  return text
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v)).join(' ')}]`
  if (typeof value === 'string') return value === '' ? '-' : value
  return String(value)
}
