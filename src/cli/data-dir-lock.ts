/**
 * One member per data directory: a second process opening a directory in use would write
 * a second Raft log into the same database. etcd refuses by locking its WAL files; arbor
 * creates `<data-dir>/arbor.pid` holding its PID, atomically (`O_CREAT|O_EXCL`), and refuses
 * while the process named there is alive.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const lockFileName = 'arbor.pid'

/** Attempts to claim the directory before giving up on a lock file that keeps changing. */
const claimAttemptsMax = 5

/**
 * Claims `dataDir` for this process.
 *
 * Two processes starting at once cannot both win: the lock file is created with `wx`, so
 * exactly one creation succeeds. A lock file left by a process that died (kill -9, power
 * cut) is taken over: it is first renamed aside, so that two processes that both found it
 * stale cannot both remove the same file, and the renamed copy is checked to still name the
 * dead process before a new claim is made.
 *
 * @throws Error naming the PID that holds it.
 * @returns a function releasing the claim (at a clean exit).
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, lockFileName)
  const release = (): void => rmSync(path, { force: true })
  for (let attempt = 0; attempt < claimAttemptsMax; attempt++) {
    if (tryCreate(path)) return release
    const holder = readHolder(path)
    if (holder === process.pid) return release
    if (holder === 'missing') continue
    if (holder === 'unreadable' && attempt === 0) {
      // Created by `wx` but its PID not written yet: give the writer a moment. Still
      // unreadable afterwards, it is the leftover of a process that died in between.
      sleepMs(50)
      continue
    }
    if (holder !== 'unreadable' && isAlive(holder)) throw new Error(`data directory is in use by process ${holder}`)
    takeOverStale(path, holder)
  }
  throw new Error(`cannot claim data directory: ${path} keeps changing (another process is starting on it)`)
}

/** Creates the lock file with this PID; false when it already exists. */
function tryCreate(path: string): boolean {
  try {
    writeFileSync(path, `${process.pid}\n`, { flag: 'wx' })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

/** Moves a lock file naming the dead process `stale` (or no PID at all) out of the way. */
function takeOverStale(path: string, stale: number | 'unreadable'): void {
  const aside = `${path}.stale.${process.pid}`
  try {
    renameSync(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  const moved = readHolder(aside)
  if (moved !== stale && moved !== 'missing') {
    // Another process claimed the directory between our read and our rename: put its claim
    // back (a link fails if yet another claim exists meanwhile, which then stands).
    try {
      linkSync(aside, path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  rmSync(aside, { force: true })
}

function readHolder(path: string): number | 'missing' | 'unreadable' {
  let text
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw error
  }
  const pid = Number.parseInt(text, 10)
  return Number.isSafeInteger(pid) && pid > 0 ? pid : 'unreadable'
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
