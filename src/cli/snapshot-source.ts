/**
 * The member's side of `arbor snapshot save`: backup files made in the data directory (same
 * disk as the database, so a large state never fills a small temp file system), served once
 * by `GET /arbor/v1/snapshot` (http/snapshot-route.ts) and removed after.
 */
import { createReadStream, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { SnapshotFile, SnapshotSource } from '../http/index.js'
import { writeBackupFile, type ArborDatabase } from '../storage/index.js'

/**
 * Pages copied per step of the online backup (4 KiB each): one step costs the member's event
 * loop about a millisecond, so writes keep flowing while a large state is copied.
 */
export const backupPagesPerStep = 256

/** Copies made at once; another request meanwhile is refused rather than doubling the disk load. */
const snapshotsInFlightMax = 1

/** A snapshot source over `db`, writing its temporary files under `dataDir`. */
export function snapshotSourceOf(db: ArborDatabase, dataDir: string): SnapshotSource {
  let inFlight = 0
  let counter = 0
  return {
    async snapshot(): Promise<SnapshotFile> {
      if (inFlight >= snapshotsInFlightMax) throw new Error('a snapshot is already being made; retry when it is done')
      inFlight += 1
      counter += 1
      const path = join(dataDir, `snapshot-${process.pid}-${counter}.tmp`)
      try {
        const status = await writeBackupFile(db, path, { pagesPerStep: backupPagesPerStep })
        return {
          body: createReadStream(path),
          bytes: status.fileBytes,
          sha256: status.sha256,
          appliedIndex: status.appliedIndex,
          term: status.term,
          release: () => {
            inFlight -= 1
            rmSync(path, { force: true })
          },
        }
      } catch (error) {
        inFlight -= 1
        throw error
      }
    },
  }
}
