/**
 * Goal: the import check refuses what the module table forbids — storage reaching into
 * store or auth, records importing anything but lib, a module read past another's door — and
 * passes src/ as it stands.
 * Method: `checkSources` over one-line files, then over the real src/ tree.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { checkSources } from '../../scripts/check-imports.js'

const cases: { name: string; path: string; source: string; want: string[] }[] = [
  {
    name: 'storage imports the record types',
    path: 'storage/sqlite-store-backend.ts',
    source: "import type { NodeRecord } from '../records/index.js'",
    want: [],
  },
  {
    name: 'store imports the record types',
    path: 'store/types.ts',
    source: "export type { NodeRecord } from '../records/index.js'",
    want: [],
  },
  {
    name: 'storage may not import store',
    path: 'storage/sqlite-store-backend.ts',
    source: "import type { NodeRecord } from '../store/index.js'",
    want: ['src/storage/sqlite-store-backend.ts: storage may not import store'],
  },
  {
    name: 'records may import lib',
    path: 'records/tree.ts',
    source: "import { assert } from '../lib/index.js'",
    want: [],
  },
  {
    name: 'records may not import store',
    path: 'records/tree.ts',
    source: "import type { Event } from '../store/index.js'",
    want: ['src/records/tree.ts: records may not import store'],
  },
  {
    name: 'records may not import a package',
    path: 'records/tree.ts',
    source: "import { z } from 'zod'",
    want: ['src/records/tree.ts: records may import no package outside src/, not zod'],
  },
  {
    name: 'records may not import node:*',
    path: 'records/tree.ts',
    source: "import { readFileSync } from 'node:fs'",
    want: ['src/records/tree.ts: records may import no package outside src/, not node:fs'],
  },
  {
    name: 'records are read through their door',
    path: 'storage/snapshot.ts',
    source: "import { isAction } from '../records/tree.js'",
    want: ['src/storage/snapshot.ts: import records through its index.ts, not ../records/tree.js'],
  },
  {
    name: 'auth imports the record types',
    path: 'auth/types.ts',
    source: "export type { User } from '../records/index.js'",
    want: [],
  },
  {
    name: 'storage may not import auth',
    path: 'storage/sqlite-auth-backend.ts',
    source: "import type { User } from '../auth/index.js'",
    want: ['src/storage/sqlite-auth-backend.ts: storage may not import auth'],
  },
  {
    name: 'transport may not import records',
    path: 'transport/peer-transport.ts',
    source: "import type { NodeRecord } from '../records/index.js'",
    want: ['src/transport/peer-transport.ts: transport may not import records'],
  },
]
for (const c of cases) {
  test(c.name, () => assert.deepEqual(checkSources([{ path: c.path, source: c.source }]), c.want))
}

test('src/ keeps the module table', () => {
  const files = readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts'))
    .map((path) => ({ path, source: readFileSync(join('src', path), 'utf8') }))
  assert.ok(files.some((f) => f.path === 'records/index.ts'))
  assert.deepEqual(checkSources(files), [])
})
