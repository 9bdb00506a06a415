/**
 * Runs the LogStore contract (log-storage-contract.ts) against both implementations: the
 * in-memory one Raft's tests and the simulator use, and the SQLite one members run on.
 */
import { after } from 'node:test'
import { MemoryLogStorage } from '../../src/raft/index.js'
import { SqliteLogStore } from '../../src/storage/index.js'
import { runLogStorageContract } from './log-storage-contract.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

runLogStorageContract('MemoryLogStorage', () => new MemoryLogStorage())
runLogStorageContract('SqliteLogStore', () => new SqliteLogStore(temp.open()))
