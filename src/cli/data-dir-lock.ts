/**
 * One member per data directory: a second process opening a directory in use would write
 * a second Raft log into the same database. etcd refuses by locking its WAL files; arbor
 * writes its PID into `<data-dir>/arbor.pid` and refuses while that process is alive.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const lockFileName = 'arbor.pid'

/**
 * Claims `dataDir` for this process.
 * @throws Error naming the PID that holds it.
 * @returns a function releasing the claim (at a clean exit).
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, lockFileName)
  const holder = readHolder(path)
  if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
    throw new Error(`data directory is in use by process ${holder}`)
  }
  writeFileSync(path, `${process.pid}\n`)
  return () => rmSync(path, { force: true })
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
