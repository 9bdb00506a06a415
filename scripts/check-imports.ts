/**
 * Keeps the module table of STYLE.md §1 true: each module under src/ imports only the
 * modules below it, other modules only through their index.ts, the pure modules (lib,
 * v2error, raft, store, records) no node:* module and no I/O library, the client no package
 * but undici, and records no package at all. Exit code 1 on a violation.
 * Usage: npx tsx scripts/check-imports.ts
 * Tests: test/scripts/check-imports.test.ts (through `checkSources`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** For each module (folder of src/), the modules it may import. */
export const allowed: Readonly<Record<string, readonly string[]>> = {
  lib: [],
  records: ['lib'],
  v2error: ['lib'],
  raft: ['lib'],
  config: ['lib'],
  client: ['lib', 'v2error'],
  store: ['lib', 'v2error', 'records'],
  auth: ['lib', 'records'],
  storage: ['lib', 'raft', 'records'],
  transport: ['lib', 'raft'],
  server: ['lib', 'v2error', 'store', 'auth', 'raft'],
  http: ['lib', 'v2error', 'store', 'auth', 'server'],
  cli: ['lib', 'records', 'v2error', 'raft', 'config', 'store', 'auth', 'storage', 'transport', 'server', 'http', 'client'],
}
/**
 * Modules limited to a few packages outside src/: the client is used on its own (undici
 * only); records are shapes shared by store, auth and storage, so they need none.
 */
const packagesAllowed: Readonly<Record<string, readonly string[]>> = {
  client: ['undici'],
  records: [],
}
const pure = new Set(['lib', 'v2error', 'raft', 'store', 'records'])
const ioLibraries = ['better-sqlite3', 'undici', 'fastify', '@fastify/websocket', 'pino']

/** One TypeScript file: its path relative to src/ ('store/types.ts') and its text. */
export interface SourceFile {
  readonly path: string
  readonly source: string
}

/**
 * The rule violations in `files`, one line each ('src/<path>: <what>'); empty when the
 * imports keep the table. Pure: reads nothing but its argument.
 */
export function checkSources(files: readonly SourceFile[]): string[] {
  const problems: string[] = []
  for (const { path, source } of files) {
    const file = join('src', path)
    const module = path.split('/')[0] ?? ''
    for (const match of source.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
      const spec = match[1] ?? ''
      if (spec.startsWith('.')) {
        const target = relative('src', resolve('src', dirname(path), spec))
        const [targetModule, ...rest] = target.split('/')
        if (targetModule === module || targetModule === undefined) continue
        if (!(allowed[module] ?? []).includes(targetModule)) problems.push(`${file}: ${module} may not import ${targetModule}`)
        else if (rest.join('/') !== 'index.js') problems.push(`${file}: import ${targetModule} through its index.ts, not ${spec}`)
      } else if (packagesAllowed[module] !== undefined && !packagesAllowed[module].includes(spec)) {
        const only = packagesAllowed[module].length === 0 ? 'no package' : `only ${packagesAllowed[module].join(', ')}`
        problems.push(`${file}: ${module} may import ${only} outside src/, not ${spec}`)
      } else if (pure.has(module) && (spec.startsWith('node:') || ioLibraries.includes(spec))) {
        problems.push(`${file}: ${module} must stay pure but imports ${spec}`)
      }
    }
  }
  return problems
}

/** Every .ts file below `dir`, as paths relative to `root`. */
function sourceFiles(root: string, dir = root): SourceFile[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(root, path)
    return path.endsWith('.ts') ? [{ path: relative(root, path), source: readFileSync(path, 'utf8') }] : []
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const problems = checkSources(sourceFiles('src'))
  for (const p of problems) console.error(p)
  if (problems.length > 0) process.exit(1)
  console.log(`imports ok (${Object.keys(allowed).length} modules)`)
}
