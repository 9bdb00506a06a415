// Goal: the command line is read as etcd 3.4.23 (Go's flag package) reads it: both value
// forms, one or two dashes, booleans without an argument, last occurrence wins, help at
// once, and etcd's words for what is not a flag. Method: parseArgv on tables of argv.
// Verified against the real etcd 3.4.23: `-name=dash` works; `--enable-v2 true` is
// refused ("'true' is not a valid flag"); `--enable-v2=1` works; `--name a --name b` gives
// b; `extra-positional` is refused; `--config-file` alone is "flag needs an argument".
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseArgv } from '../../src/config/argv.js'
import { ConfigError } from '../../src/config/errors.js'

function flagsOf(argv: string[]): Record<string, string> {
  const parsed = parseArgv(argv)
  assert.equal(parsed.kind, 'flags')
  return parsed.kind === 'flags' ? Object.fromEntries(parsed.values) : {}
}

function errorOf(argv: string[]): string {
  try {
    parseArgv(argv)
  } catch (error) {
    assert.ok(error instanceof ConfigError)
    return error.message
  }
  assert.fail(`no error for ${JSON.stringify(argv)}`)
}

describe('flag forms', () => {
  const cases: { argv: string[]; want: Record<string, string> }[] = [
    { argv: [], want: {} },
    { argv: ['--name', 'a'], want: { name: 'a' } },
    { argv: ['--name=a'], want: { name: 'a' } },
    { argv: ['-name', 'a'], want: { name: 'a' } },
    { argv: ['-name=a'], want: { name: 'a' } },
    { argv: ['--name', 'a', '--name=b'], want: { name: 'b' } },
    { argv: ['--initial-cluster', 'a=http://a:1,b=http://b:1'], want: { 'initial-cluster': 'a=http://a:1,b=http://b:1' } },
    { argv: ['--initial-cluster=a=http://a:1'], want: { 'initial-cluster': 'a=http://a:1' } },
    { argv: ['--heartbeat-interval', '-5'], want: { 'heartbeat-interval': '-5' } },
    { argv: ['--name', ''], want: { name: '' } },
    { argv: ['--name='], want: { name: '' } },
    { argv: ['--enable-v2'], want: { 'enable-v2': 'true' } },
    { argv: ['--enable-v2=true'], want: { 'enable-v2': 'true' } },
    { argv: ['--enable-v2=false'], want: { 'enable-v2': 'false' } },
    { argv: ['--unsafe-no-fsync', '--name', 'a'], want: { 'unsafe-no-fsync': 'true', name: 'a' } },
    { argv: ['--value-bytes-max', '1024'], want: { 'value-bytes-max': '1024' } },
    { argv: ['--pre-vote', '--wal-dir', '/w'], want: { 'pre-vote': 'true', 'wal-dir': '/w' } },
    { argv: ['--v', '-vv'], want: { v: 'true', vv: 'true' } },
    { argv: ['--version'], want: { version: 'true' } },
    { argv: ['--name', 'a', '--'], want: { name: 'a' } },
  ]
  for (const c of cases) {
    test(`${JSON.stringify(c.argv)} reads as ${JSON.stringify(c.want)}`, () => {
      assert.deepEqual(flagsOf(c.argv), c.want)
    })
  }
})

describe('help', () => {
  for (const argv of [['-h'], ['--help'], ['-help'], ['--name', 'a', '--help', '--bogus']]) {
    test(`${JSON.stringify(argv)} asks for help`, () => {
      assert.deepEqual(parseArgv(argv), { kind: 'help' })
    })
  }
  test('an error before --help wins, as in Go', () => {
    assert.equal(errorOf(['--bogus', '--help']), 'unknown flag --bogus (see arbor --help)')
  })
})

describe('errors', () => {
  const cases: { argv: string[]; message: string }[] = [
    { argv: ['--bogus-flag'], message: 'unknown flag --bogus-flag (see arbor --help)' },
    { argv: ['--nmae', 'x'], message: 'unknown flag --nmae (did you mean --name?)' },
    { argv: ['--heartbeat-intreval=1'], message: 'unknown flag --heartbeat-intreval (did you mean --heartbeat-interval?)' },
    { argv: ['--name'], message: 'flag needs an argument: --name' },
    { argv: ['--config-file'], message: 'flag needs an argument: --config-file' },
    { argv: ['extra-positional'], message: "'extra-positional' is not a valid flag" },
    { argv: ['--enable-v2', 'true'], message: "'true' is not a valid flag" },
    { argv: ['--name', 'a', '--', 'b'], message: "'b' is not a valid flag" },
    { argv: ['-'], message: "'-' is not a valid flag" },
    { argv: ['---name=a'], message: 'bad flag syntax: ---name=a' },
    { argv: ['--=a'], message: 'bad flag syntax: --=a' },
    { argv: ['gateway'], message: "'gateway' is not a valid flag" },
  ]
  for (const c of cases) {
    test(`${JSON.stringify(c.argv)} fails with: ${c.message}`, () => {
      assert.equal(errorOf(c.argv), c.message)
    })
  }
})
