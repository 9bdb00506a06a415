/**
 * @module cli
 * The `arbor` command. With no command word it runs a member, as `etcd` does; a first word
 * naming a command runs that command instead (one file each under `commands/`). The
 * composition root: the only code that touches `process`.
 */
import { runMemberCommand } from './commands/member.js'
import { runExportCommand } from './commands/export.js'
import { runImportCommand } from './commands/import.js'
import { runMigrateCommand } from './commands/migrate.js'
import { runSnapshotCommand } from './commands/snapshot.js'

/**
 * The commands that are not a member, by the word that names them: each takes the words
 * after its name and resolves to the process exit code (0 done, 1 failed, 2 bad usage).
 */
const commands: Readonly<Record<string, (argv: readonly string[]) => Promise<number>>> = {
  export: runExportCommand,
  import: runImportCommand,
  migrate: runMigrateCommand,
  snapshot: runSnapshotCommand,
}

function main(argv: readonly string[]): void {
  const name = argv[0]
  const command = name === undefined ? undefined : commands[name]
  if (command === undefined) {
    runMemberCommand(argv)
    return
  }
  command(argv.slice(1)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`arbor ${name}: ${(error as Error).stack ?? String(error)}\n`)
      process.exitCode = 1
    },
  )
}

main(process.argv.slice(2))
