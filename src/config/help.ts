/**
 * The texts `arbor --help` and `arbor --version` print. The CLI prints them; this module
 * only writes them.
 */
import { flagCommand } from './argv.js'
import { etcdFlagsIgnored, etcdFlagsUnsupported } from './flags.js'

const width = 100

/** `arbor --help`: every setting flag with its default, then the rules and the etcd flags
 *  that are accepted without effect. Ends with a newline. */
export function helpText(): string {
  const sections = [
    flagCommand().helpInformation().trimEnd(),
    wrap(
      'Environment: every flag can also be set by a variable named ETCD_ and the flag in upper case ' +
        "with '-' as '_' (ETCD_NAME for --name); arbor's own flags use ARBOR_ (ARBOR_VALUE_BYTES_MAX). " +
        'A flag and its variable must not both be set. With --config-file (or ETCD_CONFIG_FILE) the ' +
        'YAML file alone is used, as in etcd: other flags and variables are ignored. Its keys are the ' +
        "flag names; etcd's client-transport-security and peer-transport-security sections are read too.",
    ),
    wrap(`Accepted for compatibility with etcd 3.4 and ignored: ${flagList(etcdFlagsIgnored)}.`),
    wrap(`Accepted only when empty or off (not implemented by arbor): ${flagList(etcdFlagsUnsupported.keys())}.`),
  ]
  return `${sections.join('\n\n')}\n`
}

/** What the CLI knows about itself, for `versionText`. */
export interface VersionFacts {
  readonly arborVersion: string
  /** `process.version`, e.g. `v20.20.2`. */
  readonly nodeVersion: string
  /** `process.platform` and `process.arch`, e.g. `linux`, `x64`. */
  readonly platform: string
  readonly arch: string
}

/** `arbor --version`, shaped like `etcd --version`. Ends with a newline. */
export function versionText(facts: VersionFacts): string {
  return [
    `arbor Version: ${facts.arborVersion}`,
    'API: etcd v2 (as etcd 3.4.23 with --enable-v2=true)',
    `Node Version: ${facts.nodeVersion}`,
    `Node OS/Arch: ${facts.platform}/${facts.arch}`,
    '',
  ].join('\n')
}

function flagList(names: Iterable<string>): string {
  return [...names].map((name) => `--${name}`).join(', ')
}

/** `text` broken at spaces into lines of at most `width` characters. */
function wrap(text: string): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(line)
  return lines.join('\n')
}
