/**
 * What the operational commands (`migrate`, `export`, `import`) share: parsing their words
 * with commander so that bad usage is one line on stderr and exit code 2, `--help` is usage on
 * stdout and exit 0, and the option values they have in common are checked the same way.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander'

/** Exit codes of a command: done, failed, bad usage. */
export const exitCodes = { ok: 0, failed: 1, usage: 2 } as const

/** A command's parsed words, or the exit code to end with (help shown or bad usage). */
export type Parsed<T> = { readonly kind: 'parsed'; readonly options: T; readonly args: readonly string[] } | { readonly kind: 'exit'; readonly code: number }

/**
 * A commander program for `arbor <name>` that throws instead of exiting and prints no error
 * of its own (`parseCommand` prints one line).
 */
export function newCommand(name: string, description: string): Command {
  return new Command(`arbor ${name}`)
    .description(description)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
}

/**
 * Parses `argv` (the words after the command's name) with `program`.
 * @returns the options and operands, or the exit code: 0 after `--help`, 2 after one line
 *          `arbor <name>: <what is wrong>` on stderr.
 */
export function parseCommand<T>(program: Command, argv: readonly string[]): Parsed<T> {
  try {
    program.parse([...argv], { from: 'user' })
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') {
      return { kind: 'exit', code: exitCodes.ok }
    }
    return usageError(program.name(), error.message.replace(/^error: /, ''))
  }
  return { kind: 'parsed', options: program.opts<T & Record<string, unknown>>(), args: program.args }
}

/** Writes `arbor <name>: <message>` (one line, passwords masked) and returns exit code 2. */
export function usageError(programName: string, message: string): { kind: 'exit'; code: number } {
  process.stderr.write(`${programName}: ${maskPasswords(message.replace(/\s*\n\s*/g, ' ').trim())}\n`)
  return { kind: 'exit', code: exitCodes.usage }
}

/**
 * `text` with the passwords it may echo from the command line masked: a URL's
 * `user:password@`, and what follows the first `:` of an `--option=value` word that is not
 * a URL (commander repeats a bad word as it was typed: `unknown option '--usr=root:pw'`).
 */
export function maskPasswords(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]*@/gi, '$1***@')
    .replace(/(--[\w-]+=[^\s:'"]*):(?!\/\/)[^\s'"]*/g, '$1:***')
}

/** Option parser: an http(s) URL without credentials; its origin (`http://host:port`) is kept. */
export function parseEndpoint(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a URL (http://host:port)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`"${value}" is not an http or https URL`)
  // Credentials in a URL would be dropped silently (and echoed in messages): refuse them, unprinted.
  if (url.username !== '' || url.password !== '') throw new InvalidArgumentError(`${url.origin}: give the user and password with --user, not in the URL`)
  return url.origin
}

/** Option parser for `--endpoints` (etcdctl's name): a comma-separated list; the first is used. */
export function parseEndpoints(value: string): string {
  const first = value.split(',')[0] ?? ''
  return parseEndpoint(first.trim())
}

/** Option parser: a key or directory, absolute and without a trailing slash (`/` itself allowed). */
export function parseKey(value: string): string {
  if (!value.startsWith('/')) throw new InvalidArgumentError(`"${value}" is not an absolute key (it must start with "/")`)
  const trimmed = value.length > 1 ? value.replace(/\/+$/, '') : value
  if (trimmed.slice(1).split('/').some((s) => s === '.' || s === '..' || (s === '' && trimmed !== '/'))) {
    throw new InvalidArgumentError(`"${value}" is not a clean key (empty, "." or ".." segment)`)
  }
  return trimmed === '' ? '/' : trimmed
}

/** Option parser for repeated `--hidden KEY`: collects every value. */
export function collectKey(value: string, previous: readonly string[]): string[] {
  return [...previous, parseKey(value)]
}

/** Option parser: an integer from `min` to `max`. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`"${value}" is not an integer from ${min} to ${max}`)
    return n
  }
}
