#!/usr/bin/env node
// Development entry: runs src/ through tsx (no build needed). Do not use with an oclif.manifest.json present.
import {execute} from '@oclif/core'

const SHORTHAND = new Set(['get', 'set', 'doctor'])
const args = process.argv.slice(2)
if (SHORTHAND.has(args[0])) args.unshift('setup-flag')

await execute({args, development: true, dir: import.meta.url})
