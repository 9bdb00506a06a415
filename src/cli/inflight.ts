/**
 * Bounded concurrency for the operational commands: at most `max` requests in flight, the
 * caller waits for a free slot before starting another, so a tree of any size passes through
 * a fixed number of pending requests (and of the values they hold).
 */
import { assert } from '../lib/index.js'

/** Runs tasks with at most `max` running at once; the first failure is kept and rethrown. */
export class Inflight {
  readonly #running = new Set<Promise<void>>()
  #failure: { error: unknown } | undefined

  constructor(readonly max: number) {
    assert(Number.isInteger(max))
    assert(max >= 1)
  }

  /**
   * Starts `task` once fewer than `max` tasks run; resolves when it has started.
   * @throws the first error of an earlier task (and starts nothing more).
   */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.max) await Promise.race(this.#running)
    this.#throwIfFailed()
    const running: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error }
      })
      .finally(() => this.#running.delete(running))
    this.#running.add(running)
  }

  /**
   * Waits until every started task has ended.
   * @throws the first error of a task.
   */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running)
    this.#throwIfFailed()
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error
  }
}
