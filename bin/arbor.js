#!/usr/bin/env node
// The `arbor` command: runs the compiled member (`npm run build` first when working from source).
import '../dist/src/cli/main.js'
