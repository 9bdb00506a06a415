#!/usr/bin/env node
// The `arbor` command: runs the built package (`dist/`, compiled once at install by `prepare`).
import '../dist/arbor.mjs'
