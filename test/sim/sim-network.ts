/**
 * The simulated network between members, driven by one seeded `Rng`: each message is lost
 * with probability `dropRate`, duplicated with probability `duplicateRate`, and delivered
 * after 0..`delayStepsMax` steps (forwarded proposals too: the member drops the second copy,
 * src/server/recent-proposals.ts); messages due in the same step are handed over in a random
 * order (so they reorder). A partition splits the members into groups; a message between
 * groups is lost when it would be delivered. With faults off, nothing is lost, duplicated or
 * cut, and delays are 0..1 step. Same ideas as the raft simulator (test/raft/simulator.ts).
 */
import type { Rng } from '../../src/lib/index.js'
import type { MemberId, Message } from '../../src/raft/index.js'

/** How hostile the network is; fixed per seed. */
export interface NetworkFaults {
  /** Probability that a message is lost, in [0, 1). */
  readonly dropRate: number
  /** Probability that a message is delivered twice, in [0, 1). */
  readonly duplicateRate: number
  /** Longest delay in steps. */
  readonly delayStepsMax: number
}

interface InFlight {
  readonly message: Message
  readonly deliverAtStep: number
}

export class SimNetwork {
  private inFlight: InFlight[] = []
  /** Partition groups; members in different groups cannot talk. Empty: no partition. */
  private groups: MemberId[][] = []
  /** Faults apply (drops, duplicates, long delays, partitions). */
  faultsOn = true

  constructor(
    private readonly rng: Rng,
    private readonly faults: NetworkFaults,
  ) {}

  /** Messages sent and not yet delivered or lost. */
  get pending(): number {
    return this.inFlight.length
  }

  /** @returns false when the message was lost at once (the sender is not told). */
  send(message: Message, nowStep: number): boolean {
    if (this.faultsOn && this.rng.next() < this.faults.dropRate) return false
    const copies = this.faultsOn && this.rng.next() < this.faults.duplicateRate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const delay = this.faultsOn ? this.rng.int(0, this.faults.delayStepsMax) : this.rng.int(0, 1)
      this.inFlight.push({ message, deliverAtStep: nowStep + delay })
    }
    return true
  }

  /**
   * Takes the messages due at `nowStep`, in a random order.
   * @returns each with whether a partition cuts it (a cut message is lost).
   */
  takeDue(nowStep: number): { message: Message; cut: boolean }[] {
    const due = this.inFlight.filter((f) => f.deliverAtStep <= nowStep)
    this.inFlight = this.inFlight.filter((f) => f.deliverAtStep > nowStep)
    return shuffle(this.rng, due).map(({ message }) => ({ message, cut: this.cut(message.from, message.to) }))
  }

  /** Splits `ids` in two random non-empty groups. @returns the groups. */
  partition(ids: readonly MemberId[]): MemberId[][] {
    const shuffled = shuffle(this.rng, ids)
    const cutAt = this.rng.int(1, shuffled.length - 1)
    this.groups = [shuffled.slice(0, cutAt), shuffled.slice(cutAt)]
    return this.groups
  }

  /** @returns whether there was a partition to heal. */
  heal(): boolean {
    const had = this.groups.length > 0
    this.groups = []
    return had
  }

  private cut(from: MemberId, to: MemberId): boolean {
    if (this.groups.length === 0) return false
    return !this.groups.some((g) => g.includes(from) && g.includes(to))
  }
}

/** A shuffled copy of `items` (Fisher–Yates). */
export function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    const a = out[i] as T
    out[i] = out[j] as T
    out[j] = a
  }
  return out
}
