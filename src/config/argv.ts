/**
 * The command line, read as etcd's Go `flag` package reads it: `--flag value`,
 * `--flag=value`, one dash or two (`-name x` works as in etcd's older docs), booleans as
 * `--flag`, `--flag=true` or `--flag=false`, the last occurrence wins, `-h`/`--help`
 * stops at once, and anything that is not a flag is an error ("'x' is not a valid flag").
 *
 * A first pass normalizes every flag to `--name=value`, which is where unknown flags,
 * missing arguments and stray words are found (with etcd's words); commander then reads
 * the normalized list. Values are checked later, by the field schemas.
 */
import { Command, CommanderError, Option } from 'commander'
import { closestName } from './did-you-mean.js'
import { ConfigError } from './errors.js'
import { flagSpecs, type FlagSpec } from './flags.js'

/** What the command line asked for: help, or these flags (name → text of its last value). */
export type ParsedArgv = { readonly kind: 'help' } | { readonly kind: 'flags'; readonly values: ReadonlyMap<string, string> }

/**
 * Reads `argv` (the arguments after the program name).
 *
 * @throws ConfigError for an unknown flag, a flag without its argument, bad flag syntax,
 *         or a word that is not a flag.
 */
export function parseArgv(argv: readonly string[]): ParsedArgv {
  const normalized = normalizeArgv(argv)
  if (normalized === 'help') return { kind: 'help' }
  return { kind: 'flags', values: readWithCommander(normalized) }
}

/** Every flag as `--name=value`, or `help` when `-h`/`--help` comes before any error. */
function normalizeArgv(argv: readonly string[]): string[] | 'help' {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? ''
    if (token === '--') {
      const extra = argv[i + 1]
      if (extra !== undefined) throw new ConfigError(`'${extra}' is not a valid flag`)
      break
    }
    if (!token.startsWith('-') || token === '-') throw new ConfigError(`'${token}' is not a valid flag`)
    const body = token.startsWith('--') ? token.slice(2) : token.slice(1)
    if (body === '' || body.startsWith('-') || body.startsWith('=')) throw new ConfigError(`bad flag syntax: ${token}`)
    const equals = body.indexOf('=')
    const name = equals < 0 ? body : body.slice(0, equals)
    if (name === 'h' || name === 'help') return 'help'
    const spec = knownFlag(name)
    let value = equals < 0 ? undefined : body.slice(equals + 1)
    if (value === undefined && spec.bool) value = 'true'
    if (value === undefined) {
      value = argv[i + 1]
      if (value === undefined) throw new ConfigError(`flag needs an argument: --${name}`)
      i++
    }
    out.push(`--${name}=${value}`)
  }
  return out
}

function knownFlag(name: string): FlagSpec {
  const spec = flagSpecs.get(name)
  if (spec !== undefined) return spec
  const suggestion = closestName(name, flagSpecs.keys())
  const hint = suggestion === undefined ? 'see arbor --help' : `did you mean --${suggestion}?`
  throw new ConfigError(`unknown flag --${name} (${hint})`)
}

/** Reads normalized flags with commander: flag name → text of its last value, in the
 *  order the flags first appear. */
function readWithCommander(normalized: readonly string[]): Map<string, string> {
  const command = flagCommand()
  try {
    command.parse(normalized, { from: 'user' })
  } catch (error) {
    // normalizeArgv lets only known flags in `--name=value` form through, so commander
    // has nothing to refuse; if it does anyway, its one-line message is the best we have.
    if (error instanceof CommanderError) throw new ConfigError(error.message.replace(/^error: /, ''))
    throw error
  }
  const options = command.opts<Record<string, unknown>>()
  const attributeOf = new Map(command.options.map((option) => [option.long ?? '', option.attributeName()]))
  const values = new Map<string, string>()
  for (const token of normalized) {
    const long = token.slice(0, token.indexOf('='))
    const value = options[attributeOf.get(long) ?? '']
    if (typeof value === 'string') values.set(long.slice(2), value)
  }
  return values
}

/**
 * A commander program with every flag of `flagSpecs`: `setting` and `control` flags shown
 * in `--help`, the others hidden. Output goes nowhere and nothing reads `process`.
 */
export function flagCommand(): Command {
  const command = new Command('arbor')
    .usage('[flags]')
    .description("Start an arbor member: a key store that speaks etcd's v2 API.")
    .helpOption(false)
    .exitOverride()
    .allowUnknownOption(false)
    .allowExcessArguments(false)
    .configureOutput({
      writeOut: () => {},
      writeErr: () => {},
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
  for (const spec of flagSpecs.values()) command.addOption(optionOf(spec))
  return command
}

function optionOf(spec: FlagSpec): Option {
  const flags = spec.bool ? `--${spec.name} [bool]` : `--${spec.name} <value>`
  const shown = spec.role === 'setting' || spec.role === 'control'
  const option = new Option(flags, shown ? spec.help : '')
  return shown ? option : option.hideHelp()
}
