/**
 * Member databases in fresh directories under the system's temp directory, closed and
 * removed by `cleanup()` (call it from `after`).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type ArborDatabase, type Synchronous } from '../../src/storage/index.js'

export class TempDatabases {
  private readonly dirs: string[] = []
  private readonly opened = new Set<ArborDatabase>()

  /** A path in a new temp directory, one level below it so that `openDatabase` creates a directory. */
  newPath(): string {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-storage-'))
    this.dirs.push(dir)
    return join(dir, 'member.arbor', 'arbor.db')
  }

  /** Opens the database at `path` (a new one by default), tracked for cleanup. */
  open(path = this.newPath(), synchronous: Synchronous = 'OFF'): ArborDatabase {
    const db = openDatabase(path, { synchronous })
    this.opened.add(db)
    return db
  }

  /** Closes `db`, as a restart would. */
  close(db: ArborDatabase): void {
    this.opened.delete(db)
    db.close()
  }

  cleanup(): void {
    for (const db of this.opened) db.close()
    this.opened.clear()
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true })
    this.dirs.length = 0
  }
}
