// Goal: config/arbor.example.yaml loads and validates, documents every setting with a
// comment, and states the defaults. Method: the file read from disk and given to
// loadConfig as `--config-file`.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { loadConfig } from '../../src/config/index.js'
import { flagSpecs } from '../../src/config/flags.js'
import { memberConfigSchema, withDefaults } from '../../src/config/schema.js'

const path = new URL('../../config/arbor.example.yaml', import.meta.url).pathname
const text = readFileSync(path, 'utf8')

describe('the example config file', () => {
  test('loads without error or warning, and its values are the defaults', () => {
    const outcome = loadConfig(['--config-file', path], {}, (p) => readFileSync(p, 'utf8'))
    assert.equal(outcome.kind, 'run')
    if (outcome.kind !== 'run') return
    assert.deepEqual(outcome.warnings, [])
    assert.deepEqual(outcome.config, memberConfigSchema.parse(withDefaults({})))
  })

  test('has every setting as a key', () => {
    const keys = new Set([...text.matchAll(/^([a-z0-9-]+):/gm)].map((m) => m[1]))
    for (const spec of flagSpecs.values()) {
      if (spec.role === 'setting') assert.ok(keys.has(spec.name), spec.name)
    }
  })

  test('explains every key in a comment just above it', () => {
    const lines = text.split('\n')
    lines.forEach((line, i) => {
      if (!/^[a-z0-9-]+:/.test(line)) return
      assert.match(lines[i - 1] ?? '', /^# \S/, `no comment above: ${line}`)
    })
  })
})
