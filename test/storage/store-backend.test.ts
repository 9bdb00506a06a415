/**
 * Runs the StoreBackend contract (store-backend-contract.ts) against both implementations:
 * the in-memory one the store's unit tests and the simulator use, and the SQLite one members
 * run on. The SQLite backend is typed as the store's `StoreBackend`, so this file also checks
 * that the restated record types still match the store's.
 */
import { after } from 'node:test'
import { MemoryStoreBackend, type StoreBackend } from '../../src/store/index.js'
import { SqliteStoreBackend } from '../../src/storage/index.js'
import { runStoreBackendContract } from './store-backend-contract.js'
import { runStoreBackendContract as runStoreTestsContract } from '../store/store-backend-contract.js'
import { TempDatabases } from './temp-database.js'

const temp = new TempDatabases()
after(() => temp.cleanup())

function sqliteBackend(): StoreBackend {
  return new SqliteStoreBackend(temp.open())
}

runStoreBackendContract('MemoryStoreBackend', () => new MemoryStoreBackend())
runStoreBackendContract('SqliteStoreBackend', sqliteBackend)
// The store module's own contract cases (test/store), run on SQLite as its header promises.
runStoreTestsContract('SqliteStoreBackend (store cases)', sqliteBackend)
