/**
 * `loadConfig`: flags, `ETCD_*`/`ARBOR_*` variables and the YAML config file, combined
 * as etcd 3.4.23 combines them (etcdmain/config.go `parse`, pkg/flags/flag.go), then
 * validated into one `MemberConfig`.
 *
 * Precedence, checked against the real etcd 3.4.23 (see test/config/load.test.ts):
 * 1. Flags are parsed first; an unknown flag or a malformed value is an error even when a
 *    config file is given.
 * 2. `--config-file`, else `ETCD_CONFIG_FILE`, names the config file. When there is one,
 *    it alone is used: every other flag and variable is ignored (with a warning here).
 * 3. Otherwise a variable fills a flag that is not on the command line; a variable and its
 *    flag both set is an error ("conflicting environment variable ... is shadowed").
 *    Empty variables count as unset. Unknown `ETCD_*` variables only warn.
 * 4. Defaults fill the rest; `--listen-client-urls` set by flag or variable needs
 *    `--advertise-client-urls` too (in the config file, the default advertise URL is used).
 */
import { parseDocument } from 'yaml'
import { parseArgv } from './argv.js'
import { closestName } from './did-you-mean.js'
import { ConfigError } from './errors.js'
import { flagSpecs, flagSpecsByEnv, settingFlagOf, type FlagSpec, type UnsupportedFlag } from './flags.js'
import { helpText } from './help.js'
import {
  configFields,
  fieldSchema,
  isGoBool,
  isGoFalse,
  memberConfigSchema,
  tlsWarnings,
  withDefaults,
  type ConfigField,
  type MemberConfig,
} from './schema.js'
import { renderInitialCluster } from './urls.js'

/** What the command line asks for. `warnings` are one-line sentences for the log. */
export type LoadOutcome =
  | { readonly kind: 'run'; readonly config: MemberConfig; readonly warnings: readonly string[] }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }

/** A value for a field, as it arrived, and where from (`--name`, `ETCD_NAME`, `name in a.yaml`). */
interface Input {
  readonly raw: unknown
  readonly where: string
}
type Inputs = Map<ConfigField, Input>

/**
 * Reads a member's configuration.
 *
 * @param argv     the arguments after the program name, e.g. `['--name', 'a']`.
 * @param env      the environment (`process.env`); only `ETCD_*` and `ARBOR_*` are read.
 * @param readFile reads the config file as UTF-8 text; may throw (its message is reported).
 * @throws ConfigError with a one-line message naming the flag, variable or key and the value.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): LoadOutcome {
  const parsed = parseArgv(argv)
  if (parsed.kind === 'help') return { kind: 'help', text: helpText() }
  const flags = parsed.values
  checkFlagValues(flags)
  if (flags.has('version') && !isGoFalse(flags.get('version') ?? '')) return { kind: 'version' }
  const warnings: string[] = []
  const configFile = nonEmpty(flags.get('config-file')) ?? nonEmpty(env['ETCD_CONFIG_FILE'])
  const inputs =
    configFile === undefined
      ? inputsFromFlagsAndEnv(flags, env, warnings)
      : inputsFromFile(configFile, readFile, flags, env, warnings)
  const config = buildConfig(inputs)
  if (!config.enableV2) warnings.push('enable-v2=false is ignored: arbor always serves the v2 API')
  if (config.unsafeNoFsync) warnings.push('unsafe-no-fsync is on: a crash may lose acknowledged writes')
  if (config.peerAutoTls && config.peerCertFile === '') warnings.push('peer-auto-tls is on: connections to peers do not verify their certificates')
  warnings.push(...tlsWarnings(config))
  return { kind: 'run', config, warnings }
}

/** Checks each flag's value on its own, as Go's flag parsing does before anything else. */
function checkFlagValues(flags: ReadonlyMap<string, string>): void {
  for (const [name, text] of flags) {
    const spec = flagSpecs.get(name)
    if (spec === undefined) continue
    checkValue(spec, text, `--${name}`)
  }
}

/** Checks one value of `spec` on its own: a setting against its field schema, an
 *  unsupported flag against the values that ask for nothing. */
function checkValue(spec: FlagSpec, raw: unknown, where: string): void {
  if (spec.role === 'setting') {
    const result = fieldSchema(spec.field).safeParse(raw)
    if (!result.success) throw invalidValue(raw, where, result.error.issues[0]?.message ?? 'invalid')
  }
  if (spec.role === 'unsupported' && !asksForNothing(spec, raw)) throw invalidValue(raw, where, spec.reason)
  if (spec.role === 'control' && spec.bool && !(typeof raw === 'string' && isGoBool(raw))) {
    throw invalidValue(raw, where, 'expected true or false')
  }
}

/** Whether `value` for an unsupported flag asks for nothing: unset, empty, false, or a
 *  value of `spec.accepted` (`--proxy=off`). */
function asksForNothing(spec: UnsupportedFlag, value: unknown): boolean {
  if (value === null || value === undefined || value === false) return true
  if (typeof value !== 'string') return false
  const text = value.trim()
  if (text === '') return true
  return spec.bool ? isGoFalse(text) : spec.accepted.includes(text)
}

/** Inputs from the command line, then from variables for flags not on it (rule 3). */
function inputsFromFlagsAndEnv(
  flags: ReadonlyMap<string, string>,
  env: Readonly<Record<string, string | undefined>>,
  warnings: string[],
): Inputs {
  const inputs: Inputs = new Map()
  const ignored: string[] = []
  for (const [name, text] of flags) {
    const spec = flagSpecs.get(name)
    if (spec?.role === 'setting') inputs.set(spec.field, { raw: text, where: `--${name}` })
    if (spec?.role === 'ignored') ignored.push(`--${name}`)
  }
  const unknown: string[] = []
  for (const key of Object.keys(env).sort()) {
    const value = env[key]
    if (value === undefined || value === '' || !(key.startsWith('ETCD_') || key.startsWith('ARBOR_'))) continue
    const spec = flagSpecsByEnv.get(key)
    if (spec === undefined) {
      unknown.push(key)
      continue
    }
    if (flags.has(spec.name)) {
      throw new ConfigError(`conflicting environment variable ${key} is shadowed by --${spec.name} (unset one of them)`)
    }
    checkValue(spec, value, key)
    if (spec.role === 'setting') inputs.set(spec.field, { raw: value, where: key })
    if (spec.role === 'ignored') ignored.push(key)
  }
  if (ignored.length > 0) warnings.push(`accepted for etcd compatibility and ignored: ${ignored.join(', ')}`)
  if (unknown.length > 0) warnings.push(`unrecognized environment variables: ${unknown.join(', ')}`)
  const listen = inputs.get('listenClientUrls')
  if (listen !== undefined && !inputs.has('advertiseClientUrls')) {
    const by = listen.where === '--listen-client-urls' ? '' : ` (by ${listen.where})`
    throw new ConfigError(`--advertise-client-urls is required when --listen-client-urls is set explicitly${by}`)
  }
  return inputs
}

/** Inputs from the config file alone (rule 2). */
function inputsFromFile(
  path: string,
  readFile: (path: string) => string,
  flags: ReadonlyMap<string, string>,
  env: Readonly<Record<string, string | undefined>>,
  warnings: string[],
): Inputs {
  const otherFlags = [...flags.keys()].filter((name) => name !== 'config-file').map((name) => `--${name}`)
  const otherEnv = Object.keys(env)
    .filter((key) => key !== 'ETCD_CONFIG_FILE' && nonEmpty(env[key]) !== undefined && flagSpecsByEnv.has(key))
    .sort()
  const ignoredInputs = [...otherFlags, ...otherEnv]
  if (ignoredInputs.length > 0) {
    warnings.push(`ignored because the config file ${path} is used alone (as etcd does): ${ignoredInputs.join(', ')}`)
  }
  const inputs: Inputs = new Map()
  const ignoredKeys: string[] = []
  for (const [key, value] of Object.entries(readYamlMapping(path, readFile))) {
    if (value === null || value === '') continue
    if (key === 'client-transport-security' || key === 'peer-transport-security') {
      for (const [flag, raw, where] of transportSecurityInputs(key, value, path)) addFileInput(inputs, flag, raw, where)
      continue
    }
    const spec = flagSpecs.get(key)
    if (spec === undefined || spec.role === 'control') throw unknownKey(key, path)
    const where = `${key} in ${path}`
    checkValue(spec, value, where)
    if (spec.role === 'setting') addFileInput(inputs, spec.name, value, where)
    if (spec.role === 'ignored') ignoredKeys.push(key)
  }
  if (ignoredKeys.length > 0) {
    warnings.push(`accepted for etcd compatibility and ignored: ${ignoredKeys.join(', ')} in ${path}`)
  }
  return inputs
}

/** The config file as a plain object: keys to values. An empty file is an empty object. */
function readYamlMapping(path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string
  try {
    text = readFile(path)
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${firstLine(error)}`)
  }
  const document = parseDocument(text)
  const yamlError = document.errors[0]
  if (yamlError !== undefined) throw new ConfigError(`invalid YAML in ${path}: ${firstLine(yamlError).replace(/:$/, '')}`)
  let data: unknown
  try {
    data = document.toJS() // refuses alias bombs ("Excessive alias count")
  } catch (error) {
    throw new ConfigError(`invalid YAML in ${path}: ${firstLine(error)}`)
  }
  if (data === null || data === undefined) return {}
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must be a YAML mapping of keys to values`)
  }
  return data as Record<string, unknown>
}

/** Keys of etcd's `client-transport-security` and `peer-transport-security` sections. */
const transportSecurityKeys: ReadonlySet<string> = new Set([
  'cert-file', 'key-file', 'client-cert-auth', 'trusted-ca-file', 'auto-tls',
])

/**
 * etcd's TLS sections of the config file as `[flag, value, where]`: a key of
 * `client-transport-security` is the flag of the same name, a key of
 * `peer-transport-security` the flag with `peer-` in front (`cert-file` → `peer-cert-file`).
 * Empty values are left out (they mean the default).
 */
function transportSecurityInputs(section: string, value: unknown, path: string): [string, unknown, string][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidValue(value, `${section} in ${path}`, 'expected a mapping of TLS settings')
  }
  const inputs: [string, unknown, string][] = []
  for (const [key, setting] of Object.entries(value)) {
    if (!transportSecurityKeys.has(key)) throw unknownKey(`${section}.${key}`, path)
    if (setting === null || setting === '') continue
    const flag = section === 'peer-transport-security' ? `peer-${key}` : key
    const spec = flagSpecs.get(flag)
    const where = `${section}.${key} in ${path}`
    if (spec === undefined) throw unknownKey(`${section}.${key}`, path)
    checkValue(spec, setting, where)
    inputs.push([flag, setting, where])
  }
  return inputs
}

/** Records a config-file value for the setting `flag`; the same setting given twice (as a
 *  top-level key and in a TLS section) is an error, since one would silently win. */
function addFileInput(inputs: Inputs, flag: string, raw: unknown, where: string): void {
  const spec = flagSpecs.get(flag)
  if (spec?.role !== 'setting') return
  const earlier = inputs.get(spec.field)
  if (earlier !== undefined) throw new ConfigError(`${where} repeats ${earlier.where}: give the setting once`)
  inputs.set(spec.field, { raw, where })
}

/** Each input checked by its field schema (in field order), defaults added, and the whole
 *  checked again, cross-field rules included. */
function buildConfig(inputs: Inputs): MemberConfig {
  const given: Partial<Record<ConfigField, unknown>> = {}
  for (const field of configFields) {
    const input = inputs.get(field)
    if (input === undefined) continue
    const result = fieldSchema(field).safeParse(input.raw)
    if (!result.success) throw invalidValue(input.raw, input.where, result.error.issues[0]?.message ?? 'invalid')
    given[field] = result.data
  }
  // Each value in `given` was produced by its field's own schema, so it has that
  // field's type; the schema of the whole below checks it all once more.
  const complete = withDefaults(given as Partial<MemberConfig>)
  const result = memberConfigSchema.safeParse(complete)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const field = issue?.path[0] as ConfigField
  const input = inputs.get(field) ?? { raw: renderValue(complete[field]), where: `--${settingFlagOf.get(field)?.name ?? field} (default)` }
  throw invalidValue(input.raw, input.where, issue?.message ?? 'invalid')
}

/** A typed value as its flag would spell it. */
function renderValue(value: unknown): string {
  if (!Array.isArray(value)) return String(value)
  if (value.every((item) => typeof item === 'string')) return value.join(',')
  return renderInitialCluster(value)
}

/** `invalid value "abc" for --heartbeat-interval: expected a positive integer (ms)`. */
function invalidValue(raw: unknown, where: string, reason: string): ConfigError {
  return new ConfigError(`invalid value ${shown(raw)} for ${where}: ${reason}`)
}

function unknownKey(key: string, path: string): ConfigError {
  const keys = [...flagSpecs.values()].filter((spec) => spec.role !== 'control').map((spec) => spec.name)
  const suggestion = closestName(key, keys)
  const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`
  return new ConfigError(`unknown key "${key}" in ${path}${hint}`)
}

/** A value as it appears in a message: JSON, on one line, at most 120 characters. */
function shown(raw: unknown): string {
  const json = JSON.stringify(raw) ?? String(raw)
  return json.length > 120 ? `${json.slice(0, 117)}...` : json
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? ''
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text
}
