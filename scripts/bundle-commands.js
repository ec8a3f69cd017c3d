#!/usr/bin/env node
// Build step: bundle each compiled command (dist/commands/setup-flag/*.js) with the parts of dist/lib it uses,
// so starting a command loads a handful of files instead of ~45 small modules (measured: about 30-50 ms less
// per start on this 2-core machine; see BENCHMARKS.md). Packages in node_modules stay external and are still
// imported lazily where the code does so; code shared by several commands, and the virtual device (loaded only
// with PARTICLE_VIRTUAL_DEVICES), go to dist/chunks/, outside the commands folder that oclif scans.
// dist/lib stays as tsc wrote it: it is the library surface (`particle-plugin-setup-flag/virtual`, types).
import {build} from 'esbuild'
import {readdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const commands = join(root, 'dist', 'commands', 'setup-flag')
const entryPoints = readdirSync(commands)
  .filter((f) => f.endsWith('.js'))
  .map((f) => join(commands, f))

await build({
  allowOverwrite: true,
  bundle: true,
  chunkNames: '../../chunks/[name]-[hash]',
  entryPoints,
  format: 'esm',
  logLevel: 'warning',
  outdir: commands,
  packages: 'external',
  platform: 'node',
  splitting: true,
  target: 'node20',
})
