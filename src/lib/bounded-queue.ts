/**
 * A FIFO queue with a fixed capacity. `push` refuses (returns false) instead of growing,
 * so a slow consumer is detected rather than absorbed (watchers, peer queues).
 */
export class BoundedQueue<T> {
  private items: T[] = []
  private head = 0

  /** @param capacity most items held at once; at least 1. */
  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1')
  }

  get length(): number {
    return this.items.length - this.head
  }

  /** Appends `item`; returns false (and drops nothing already queued) when full. */
  push(item: T): boolean {
    if (this.length >= this.capacity) return false
    this.items.push(item)
    return true
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.head += 1
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Removes and returns every queued item, oldest first. */
  drain(): T[] {
    const out = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return out
  }
}
