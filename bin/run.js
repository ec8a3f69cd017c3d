#!/usr/bin/env node
// Production entry. `particle-setup-flag get` is shorthand for `particle-setup-flag setup-flag get`:
// the topic word is implied when the first argument is one of our commands.
import {execute} from '@oclif/core'

const SHORTHAND = new Set(['get', 'set', 'doctor'])
const args = process.argv.slice(2)
if (SHORTHAND.has(args[0])) args.unshift('setup-flag')

await execute({args, dir: import.meta.url})
