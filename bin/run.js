#!/usr/bin/env node
// Production entry. `particle-setup-flag get` is shorthand for `particle-setup-flag setup-flag get`:
// the topic word is implied when the first argument is one of our commands.
import {execute} from '@oclif/core'

const SHORTHAND = new Set(['audit', 'doctor', 'get', 'set', 'shell-init'])
// oclif reads process.argv again for help and errors, so the implied word goes there too.
if (SHORTHAND.has(process.argv[2])) process.argv.splice(2, 0, 'setup-flag')
const args = process.argv.slice(2)

await execute({args, dir: import.meta.url})
