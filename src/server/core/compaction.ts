/**
 * Log compaction (ARCHITECTURE decision 7): the applied state is the snapshot, so the log
 * keeps only `snapshotCount` entries behind the applied index, for followers a little behind.
 * It compacts in steps of a tenth of that, inside the turn's transaction.
 */
import type { CoreParts, CoreState } from './parts.js'

export class Compaction {
  /** The index the log was last compacted through (or found already compacted through). */
  private compactedThrough = 0

  constructor(
    private readonly parts: CoreParts,
    private readonly state: CoreState,
  ) {}

  /** Drops log entries more than `snapshotCount` behind the applied index. */
  maybeCompact(): void {
    const { snapshotCount } = this.parts.settings
    const slack = Math.max(1, Math.floor(snapshotCount / 10))
    const target = this.state.appliedIndex - snapshotCount
    if (target - this.compactedThrough < slack) return
    const log = this.parts.storage.log
    if (target >= log.firstIndex()) log.compact(target)
    this.compactedThrough = target
  }
}
