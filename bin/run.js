#!/usr/bin/env node
// Production entry. `particle-setup-flag get` is shorthand for `particle-setup-flag setup-flag get`:
// the topic word is implied when the first argument is one of our commands.
//
// Everything runs on the copy of oclif bundled with our commands (dist/oclif.js, built by scripts/bundle-commands.js):
// a few files instead of hundreds, so start-up stays cheap (measured by `npm run bench`). Help is our own help class
// (dist/help.js, package.json oclif.helpClass), bundled with it: `help COMMAND` is `COMMAND --help`. A first word that
// is none of our commands (`gett`) is answered by dist/help.js in our one error style, with the closest command
// ("Did you mean"), with or without a terminal; under --json every failure here is our one error shape.
// Function declarations (words, unbuilt) are at the end.
import {fileURLToPath} from 'node:url'

import {endQuietlyOnClosedPipe} from './closed-pipe.js'

// A reader that closes stdout or stderr early ends the run quietly, exit status 141 (closed-pipe.js says why).
endQuietlyOnClosedPipe()

const SHORTHAND = new Set(['audit', 'doctor', 'get', 'set', 'shell-init', 'virtual', 'web'])
// oclif reads process.argv again for help and errors, so every change of the words is made there.
// `version` as a word, like `help`: the same as --version.
if (process.argv[2] === 'version') process.argv[2] = '--version'
// `help [COMMAND]` is `[COMMAND] --help`.
if (process.argv[2] === 'help') process.argv.splice(2, Infinity, ...process.argv.slice(3), '--help')
if (SHORTHAND.has(process.argv[2])) process.argv.splice(2, 0, 'setup-flag')
const args = process.argv.slice(2)
const json = args.includes('--json')
const w = words(args)
// Words that name none of our commands: `gett`, `setup-flag gett`, or a flag oclif does not know at the top.
const TOP_FLAGS = new Set(['--help', '--json', '--version', '-h', '-v'])
const ours = w.length === 0 ? args.every((a) => TOP_FLAGS.has(a)) : w[0] === 'setup-flag' && (w.length === 1 || SHORTHAND.has(w[1]))
// The bundled copy cannot find oclif's package.json for its Node version check, which would only cost a semver
// load (~5 ms): our own package.json's engines field says which Node we need.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const help = args.includes('--help') || args.includes('-h')
const version = args[0] === '--version' || args[0] === '-v'

if (!ours) {
  const {notFound} = await import('../dist/help.js').catch(unbuilt)
  // What was typed for the command: the word (with the topic when given), or the unknown flag.
  await notFound(w.length === 0 ? args.filter((a) => !TOP_FLAGS.has(a)).slice(0, 1) : w.slice(0, w[0] === 'setup-flag' ? 2 : 1), json)
} else if (json && w.length < 2 && !help && !version) {
  const {jsonWithoutCommand} = await import('../dist/help.js').catch(unbuilt)
  await jsonWithoutCommand()
} else {
  const {Config, flush, handle, run} = await import('../dist/oclif.js').catch(unbuilt)
  try {
    await run(args, await Config.load(import.meta.url))
    await flush()
  } catch (error) {
    if (json) {
      const exit = error?.oclif?.exit ?? error?.exitCode ?? 1
      const message = String(error?.message ?? error).split('\n')[0]
      process.stdout.write(JSON.stringify({error: {code: exit === 2 ? 'SETUP_FLAG_USAGE' : 'SETUP_FLAG_UNEXPECTED', exit, message, suggestions: error?.suggestions ?? []}}, null, 2) + '\n')
      process.exitCode = exit
    } else {
      await handle(error)
    }
  }
}

/** The words before the first flag. */
function words(argv) {
  const i = argv.findIndex((a) => a.startsWith('-'))
  return i === -1 ? argv : argv.slice(0, i)
}

/** A checkout without `npm run build` has no dist/: say so instead of a stack trace. */
function unbuilt(error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error
  // e.g. `npm install -g .` in a clone before its set-up: npm links the folder as it is.
  process.stderr.write(`particle-setup-flag is not built: ${fileURLToPath(new URL('../dist/', import.meta.url))} is missing or incomplete. Run \`npm ci && npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))} first.\n`)
  process.exit(1)
}
