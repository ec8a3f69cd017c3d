#!/usr/bin/env node
// `npm run build`: compile src/ to dist/ (tsc), bundle each command (scripts/bundle-commands.js), bundle the web
// doctor into dist/web/ (scripts/build-web.js), then write oclif.manifest.json (`oclif manifest`). In Node rather
// than shell, so that it runs alike on Windows (where the global install from a clone builds through it, see
// scripts/prepare.js). The oclif CLI checks the registry for a
// newer oclif at every run and prints "oclif update available"; OCLIF_SKIP_NEW_VERSION_CHECK (read by its
// warn-if-update-available plugin, as <bin>_SKIP_NEW_VERSION_CHECK) keeps the build quiet and offline.
import {spawnSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))

function step(what, script, args, env = {}) {
  const r = spawnSync(process.execPath, [script, ...args], {cwd: root, env: {...process.env, ...env}, stdio: 'inherit'})
  if (r.status !== 0) {
    console.error(`build: ${what} failed${r.error ? `: ${r.error.message}` : ''}`)
    process.exit(r.status ?? 1)
  }
}

rmSync(join(root, 'dist'), {force: true, recursive: true})
rmSync(join(root, 'oclif.manifest.json'), {force: true})
step('tsc', require.resolve('typescript/bin/tsc'), ['-p', 'tsconfig.json'])
step('bundling the commands', join(root, 'scripts', 'bundle-commands.js'), [])
step('bundling the page', join(root, 'scripts', 'build-web.js'), [])
step('oclif manifest', require.resolve('oclif/bin/run.js'), ['manifest'], {OCLIF_SKIP_NEW_VERSION_CHECK: 'true'})
