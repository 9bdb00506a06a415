// Goal: `arbor --help` lists every setting flag with its default and names the etcd flags
// accepted without effect; `arbor --version` is shaped like `etcd --version`. Method: the
// texts checked line by line.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { flagSpecs } from '../../src/config/flags.js'
import { helpText, versionText } from '../../src/config/help.js'

describe('helpText', () => {
  const text = helpText()

  test('starts with the usage and ends with a newline', () => {
    assert.match(text, /^Usage: arbor \[flags\]\n/)
    assert.ok(text.endsWith('.\n'))
  })
  test('shows every setting and control flag, and names every other one', () => {
    for (const spec of flagSpecs.values()) {
      const shown = spec.role === 'setting' || spec.role === 'control'
      assert.ok(text.includes(shown ? `  --${spec.name} ` : `--${spec.name}`), spec.name)
    }
  })
  test('states the defaults etcd users look for', () => {
    assert.match(text, /--listen-client-urls <value>\s+List of URLs to listen on for client traffic\. \(default:\s+http:\/\/127\.0\.0\.1:2379\)/)
    assert.match(text, /\(default:\s+\$\{name\}\.arbor\)/)
    assert.match(text, /5000 \+ 2 × election-timeout/)
  })
  test('no line is wider than 100 columns', () => {
    for (const line of text.split('\n')) assert.ok(line.length <= 100, line)
  })
  test('is the same on every call (nothing read from the terminal)', () => {
    assert.equal(helpText(), text)
  })
})

describe('versionText', () => {
  test('names arbor, the API it speaks and the runtime', () => {
    const text = versionText({ arborVersion: '0.1.0', nodeVersion: 'v20.20.2', platform: 'linux', arch: 'x64' })
    assert.equal(
      text,
      'arbor Version: 0.1.0\nAPI: etcd v2 (as etcd 3.4.23 with --enable-v2=true)\nNode Version: v20.20.2\nNode OS/Arch: linux/x64\n',
    )
  })
})
