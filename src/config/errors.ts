/**
 * The one error of the config module. A `ConfigError` is always the operator's mistake
 * (a bad flag, environment variable or config-file key), never a bug, so its message is
 * written for them: ONE line that names the flag, variable or key and the bad value, e.g.
 * `invalid value "abc" for --heartbeat-interval: expected a positive integer (ms)`.
 * The CLI prints the message to stderr and exits with status 2 (etcd exits 1 or 2).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'

  constructor(message: string) {
    super(oneLine(message))
  }
}

/** Folds any line break into a space, so that every message stays on one line. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ')
}
