#!/usr/bin/env node
// Production entry. `particle-setup-flag get` is shorthand for `particle-setup-flag setup-flag get`:
// the topic word is implied when the first argument is one of our commands.
//
// Running one of our commands loads only this plugin (start-up is measured by `npm run bench`). Everything
// else (`help`, an unknown or mistyped command, a topic alone) lists oclif's own help and not-found plugins
// too, so `help get` and "did you mean" come from oclif; their code, and the @oclif/core package it imports,
// loads only when one of them runs. Under --json any failure here is our one error shape.
// Function declarations (words, known) are at the end.
import {fileURLToPath} from 'node:url'

import {endQuietlyOnClosedPipe} from './closed-pipe.js'

// A reader that closes stdout or stderr early ends the run quietly, exit status 141 (closed-pipe.js says why).
endQuietlyOnClosedPipe()

const SHORTHAND = new Set(['audit', 'doctor', 'get', 'set', 'shell-init', 'web'])
// `version` as a word, like `help`: the same as --version.
if (process.argv[2] === 'version') process.argv[2] = '--version'
// oclif reads process.argv again for help and errors, so the implied word goes there too.
if (SHORTHAND.has(process.argv[2])) process.argv.splice(2, 0, 'setup-flag')
else if (process.argv[2] === 'help' && SHORTHAND.has(process.argv[3])) process.argv.splice(3, 0, 'setup-flag')
// A mistyped short form (`sett`) goes to plugin-not-found inside our topic, so that it offers `set`, not `help`.
else if (/^[adgsw]\w*$/.test(process.argv[2] ?? '') && process.argv[2] !== 'setup-flag') process.argv.splice(2, 0, 'setup-flag')
const args = process.argv.slice(2)
const ours = args[0] === 'setup-flag' && SHORTHAND.has(args[1])
const json = args.includes('--json')
// Code from oclif's plugins runs only for `help ...` and for what is not a command ("did you mean"): any word but
// the topic, or a flag other than oclif's own at the top level.
const TOP_FLAGS = new Set(['--help', '--json', '--version', '-h', '-v'])
const w = words(args)
const plugins = !ours && (w.some((word) => word !== 'setup-flag') || args.slice(w.length).some((a) => !TOP_FLAGS.has(a)))
// Everything else (our commands, --help, --version, a topic's help) runs on the copy of oclif bundled with our
// commands (dist/oclif.js, built by scripts/bundle-commands.js): a few files instead of hundreds. The plugins import
// the package itself, so they run on it. The bundled copy cannot find oclif's package.json for its Node version
// check, which would only cost a semver load (~5 ms): our own package.json's engines field says which Node we need.
if (!plugins) process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const {Config, flush, handle, run, toConfiguredId} = plugins ? await import('@oclif/core') : await import('../dist/oclif.js').catch(unbuilt)

try {
  // The plugins are listed (the root help shows `help`) whenever the command is not one of ours.
  const config = await Config.load(
    ours ? import.meta.url : {pluginAdditions: {core: ['@oclif/plugin-help', '@oclif/plugin-not-found']}, root: fileURLToPath(new URL('..', import.meta.url))},
  )
  if (!ours && json && !known(config, w)) {
    const typed = toConfiguredId(w.join(':'), config)
    throw Object.assign(new Error(typed ? `${typed} is not a ${config.bin} command.` : `--json goes with a command: ${[...SHORTHAND].filter((c) => c !== 'web').join(', ')}.`), {
      oclif: {exit: 2},
      suggestions: [`Run \`${config.bin} --help\` for the list of commands.`],
    })
  }
  await run(args, config)
  await flush()
} catch (error) {
  // plugin-not-found ends with 127; an unknown command is bad input here, exit status 2 as documented.
  if (error?.oclif?.exit === 127) error.oclif.exit = 2
  if (json) {
    const exit = error?.oclif?.exit ?? error?.exitCode ?? 1
    const message = String(error?.message ?? error).split('\n')[0]
    process.stdout.write(JSON.stringify({error: {code: exit === 2 ? 'SETUP_FLAG_USAGE' : 'SETUP_FLAG_UNEXPECTED', exit, message, suggestions: error?.suggestions ?? []}}, null, 2) + '\n')
    process.exitCode = exit
  } else {
    await handle(error)
  }
}

/** The words before the first flag. */
function words(argv) {
  const i = argv.findIndex((a) => a.startsWith('-'))
  return i === -1 ? argv : argv.slice(0, i)
}

/** Whether the words before the first flag (`words`) start with a command (a topic alone has no JSON output). */
function known(config, words) {
  return words.some((_, i) => config.findCommand(words.slice(0, i + 1).join(':')))
}

/** A checkout without `npm run build` has no dist/: say so instead of a stack trace. */
function unbuilt(error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error
  // e.g. `npm install -g .` in a clone before its set-up: npm links the folder as it is.
  process.stderr.write(`particle-setup-flag is not built: ${fileURLToPath(new URL('../dist/', import.meta.url))} is missing or incomplete. Run \`npm ci && npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))} first.\n`)
  process.exit(1)
}
