#!/usr/bin/env node
// Builds the package once (run by `npm install`/`npm ci` through `prepare`): the member and
// its commands bundled into one file, dist/arbor.mjs, that `npm start` and the `arbor` bin run.
// One file loads in about a third of the time Node 20 takes to resolve and compile the same
// code as some hundred separate ES modules, which is most of a member's start-up.
// better-sqlite3 and @node-rs/bcrypt stay outside: they load native addons from their own folders.
import { build } from 'esbuild'

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/arbor.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', '@node-rs/bcrypt'],
  // Identifiers are kept, so that stack traces name arbor's functions.
  minifyWhitespace: true,
  minifySyntax: true,
  // The CommonJS libraries in the bundle call require() for Node's own modules.
  banner: { js: "import { createRequire as arborCreateRequire } from 'node:module'; const require = arborCreateRequire(import.meta.url);" },
  logLevel: 'warning',
})

// The typed client, for `import { ArborClient } from 'arbor/client'` (package.json "exports"):
// its own small bundle, with undici left to the installed package.
await build({
  entryPoints: ['src/client/index.ts'],
  outfile: 'dist/client.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['undici'],
  logLevel: 'warning',
})
