#!/usr/bin/env node
// Development entry: runs src/ through tsx (no build needed). Do not use with an oclif.manifest.json present.
import {execute} from '@oclif/core'

import {endQuietlyOnClosedPipe} from './closed-pipe.js'

endQuietlyOnClosedPipe()

const SHORTHAND = new Set(['doctor', 'get', 'set', 'shell-init', 'web'])
// oclif reads process.argv again for help and errors, so the implied word goes there too.
if (SHORTHAND.has(process.argv[2])) process.argv.splice(2, 0, 'setup-flag')
const args = process.argv.slice(2)

await execute({args, development: true, dir: import.meta.url})
