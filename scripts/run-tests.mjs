#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [path-prefix ...]   e.g. node scripts/run-tests.mjs test/store
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

function findTests(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...findTests(path))
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

const prefixes = process.argv.slice(2)
const files = findTests('test').filter((f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p)))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
/**
 * Time after which the runner fails a test file and ends its process (ms), so that one hung
 * test cannot hang `npm test` forever. Node 20 applies `--test-timeout` to each file as a
 * whole (a file is one test of the runner), which bounds every test in it too. The slowest
 * file, the durability test, takes about 26 s; the whole suite about 100 s, two files at a
 * time.
 */
const fileTimeoutMs = 300_000
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${fileTimeoutMs}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
)
process.exit(result.status ?? 1)
