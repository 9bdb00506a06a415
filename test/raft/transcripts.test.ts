/**
 * Raft behaviour as transcripts (STYLE.md §8). Each file in test/raft/testdata/ is a fresh
 * cluster driven by commands (see cluster-driver.ts for the list); after each command's
 * `----` line comes what the members did: Readies handled (persist, send, apply), messages
 * delivered or lost, role changes logged. The whole file must match.
 *
 * To regenerate the expected output after a deliberate change, run
 *   REWRITE=1 node scripts/run-tests.mjs test/raft/transcripts.test.ts
 * and review the diff of test/raft/testdata/ before committing it.
 *
 * File format: `#` lines and blank lines are kept as they are; a command is one line,
 * followed by `----`, followed by its output up to the next blank line.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClusterDriver, parseCommand } from './cluster-driver.js'

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata')
const rewrite = process.env['REWRITE'] === '1'

/** Runs the transcript `text` and returns it with every command's output as produced now. */
export function runTranscript(text: string): string {
  const lines = text.split('\n')
  const out: string[] = []
  const driver = new ClusterDriver()
  let i = 0
  while (i < lines.length) {
    const line = lines[i] ?? ''
    i++
    if (line.trim() === '' || line.startsWith('#')) {
      out.push(line)
      continue
    }
    if (lines[i] !== '----') throw new Error(`line ${i}: expected ---- after command "${line}"`)
    i++
    while (i < lines.length && (lines[i] ?? '') !== '') i++
    out.push(line, '----', driver.run(parseCommand(line)))
  }
  return out.join('\n')
}

for (const name of readdirSync(testdata).filter((f) => f.endsWith('.txt')).sort()) {
  test(`transcript ${name}`, () => {
    const path = join(testdata, name)
    const expected = readFileSync(path, 'utf8')
    const actual = runTranscript(expected)
    if (rewrite) writeFileSync(path, actual)
    else assert.equal(actual, expected)
  })
}
