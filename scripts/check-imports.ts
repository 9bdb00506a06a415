/**
 * Keeps the module table of STYLE.md §1 true: each module under src/ imports only the
 * modules below it, other modules only through their index.ts, the pure modules (lib,
 * v2error, raft, store) no node:* module and no I/O library, and the client no package but
 * undici. Exit code 1 on a violation.
 * Usage: npx tsx scripts/check-imports.ts
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, dirname, resolve } from 'node:path'

const allowed: Record<string, readonly string[]> = {
  lib: [],
  v2error: ['lib'],
  raft: ['lib'],
  config: ['lib'],
  client: ['lib', 'v2error'],
  store: ['lib', 'v2error'],
  auth: ['lib'],
  storage: ['lib', 'raft'],
  transport: ['lib', 'raft'],
  server: ['lib', 'v2error', 'store', 'auth', 'raft'],
  http: ['lib', 'v2error', 'store', 'auth', 'server'],
  cli: ['lib', 'v2error', 'raft', 'config', 'store', 'auth', 'storage', 'transport', 'server', 'http', 'client'],
}
/** Modules limited to a few packages outside src/: the client is used on its own (undici only). */
const packagesAllowed: Record<string, readonly string[]> = {
  client: ['undici'],
}
const pure = new Set(['lib', 'v2error', 'raft', 'store'])
const ioLibraries = ['better-sqlite3', 'undici', 'fastify', '@fastify/websocket', 'pino']

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : []
  })
}

const problems: string[] = []
for (const file of files('src')) {
  const module = relative('src', file).split('/')[0] ?? ''
  const source = readFileSync(file, 'utf8')
  for (const match of source.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
    const spec = match[1] ?? ''
    if (spec.startsWith('.')) {
      const target = relative('src', resolve(dirname(file), spec))
      const [targetModule, ...rest] = target.split('/')
      if (targetModule === module || targetModule === undefined) continue
      if (!(allowed[module] ?? []).includes(targetModule)) problems.push(`${file}: ${module} may not import ${targetModule}`)
      else if (rest.join('/') !== 'index.js') problems.push(`${file}: import ${targetModule} through its index.ts, not ${spec}`)
    } else if (packagesAllowed[module] !== undefined && !packagesAllowed[module].includes(spec)) {
      problems.push(`${file}: ${module} may import only ${packagesAllowed[module].join(', ')} outside src/, not ${spec}`)
    } else if (pure.has(module) && (spec.startsWith('node:') || ioLibraries.includes(spec))) {
      problems.push(`${file}: ${module} must stay pure but imports ${spec}`)
    }
  }
}
for (const p of problems) console.error(p)
if (problems.length > 0) process.exit(1)
console.log(`imports ok (${Object.keys(allowed).length} modules)`)
