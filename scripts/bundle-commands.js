#!/usr/bin/env node
// Build step: bundle each compiled command (dist/commands/setup-flag/*.js) with the parts of dist/lib it uses,
// and with @oclif/core itself, so starting a command loads a handful of files instead of hundreds of small
// modules (see BENCHMARKS.md). bin/run.js takes Config and run from dist/oclif.js, an entry of the same build, so
// the runner and the commands share one copy of oclif; so does our help class (dist/help.js). Other packages in node_modules stay external and are
// still imported lazily where the code does so; code shared by several entries, and the virtual device (loaded
// only with PARTICLE_VIRTUAL_DEVICES), go to dist/chunks/, outside the commands folder that oclif scans.
// dist/lib stays as tsc wrote it: it is the library surface (`particle-plugin-setup-flag/virtual`, types).
import {build} from 'esbuild'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {builtinModules} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const commands = join(dist, 'commands', 'setup-flag')
const entryPoints = [
  ...readdirSync(commands)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(commands, f)),
  join(dist, 'oclif.js'),
  join(dist, 'help.js'),
]
// Our own imports of packages stay external, but for @oclif/core and @particle/device-constants (a CommonJS table
// every command reads: bundled, it needs no resolution and no CommonJS export scan at start); what those import is
// bundled with them (oclif's own versions of wrap-ansi and the like, whatever ours are). TypeScript's loaders stay
// out: oclif loads them only to run TypeScript sources in development.
const BUNDLED = ['@oclif/core', '@particle/device-constants']
const ours = new Set(Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies))
for (const name of BUNDLED) ours.delete(name)
const packageName = (path) => path.split('/').slice(0, path.startsWith('@') ? 2 : 1).join('/')
// Start-up edits to the bundled copy of @oclif/core, each measured (BENCHMARKS.md) and each checked here: if an
// upgrade of oclif changes the text, the build fails instead of silently losing the edit.
/** `const x = require("pkg");`, used as `x.name`: loaded at the first use of a name instead of at start. */
const lazy = (file, variable, pkg) => ({
  file,
  from: `const ${variable} = require("${pkg}");`,
  to: `const ${variable} = new Proxy({}, { get: (_, name) => require("${pkg}")[name] });`,
})
/** `const x = __importDefault(require("pkg"));`, used as `x.default`: the same. */
const lazyDefault = (file, variable, pkg) => ({
  file,
  from: `const ${variable} = __importDefault(require("${pkg}"));`,
  to: `const ${variable} = { get default() { return __importDefault(require("${pkg}")).default; } };`,
})
const OCLIF_EDITS = [
  {
    // The plugin's command list is sorted with localeCompare, and the first localeCompare of a process builds ICU's
    // collator: 6-9 ms of every start on the bench machine. Command IDs are ASCII, so code-unit order is the same.
    file: '@oclif/core/lib/config/plugin.js',
    from: '.sort((a, b) => a.id.localeCompare(b.id))',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
  },
  // Packages a run of our commands never uses, evaluated at start only because oclif requires them at the top of a
  // file: command discovery without a manifest (tinyglobby with fdir and picomatch), plugin patterns (minimatch),
  // templates (ejs), spinner styles (cli-spinners). Together 5-8 ms of every start.
  lazy('@oclif/core/lib/config/plugin.js', 'tinyglobby_1', 'tinyglobby'),
  lazy('@oclif/core/lib/config/plugin-loader.js', 'minimatch_1', 'minimatch'),
  lazyDefault('@oclif/core/lib/config/config.js', 'ejs_1', 'ejs'),
  lazyDefault('@oclif/core/lib/help/util.js', 'ejs_1', 'ejs'),
  lazyDefault('@oclif/core/lib/ux/action/spinner.js', 'cli_spinners_1', 'cli-spinners'),
]
const oclifEdits = {
  name: 'oclif-edits',
  setup(b) {
    b.onLoad({filter: /[/\\]node_modules[/\\]@oclif[/\\]core[/\\]lib[/\\].*\.js$/}, (args) => {
      const edits = OCLIF_EDITS.filter((e) => args.path.replaceAll('\\', '/').endsWith(`/node_modules/${e.file}`))
      if (edits.length === 0) return
      let contents = readFileSync(args.path, 'utf8')
      for (const e of edits) {
        if (!contents.includes(e.from)) return {errors: [{text: `${e.file} no longer contains ${e.from}: review OCLIF_EDITS in scripts/bundle-commands.js`}]}
        contents = contents.replace(e.from, e.to)
      }
      return {contents, loader: 'js'}
    })
  },
}

const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({filter: /^[^./]/}, (args) => {
      if (args.path.startsWith('node:')) return {external: true, path: args.path}
      const name = packageName(args.path)
      if (['ts-node', 'tsx', 'typescript'].includes(name)) return {external: true, path: args.path}
      if (args.importer.includes('/node_modules/') || BUNDLED.includes(name) || builtinModules.includes(name)) return
      if (ours.has(name)) return {external: true, path: args.path}
      return {errors: [{text: `${args.path} is imported by ${args.importer} but is not in package.json's dependencies`}]}
    })
  },
}

const result = await build({
  allowOverwrite: true,
  // oclif is CommonJS: its require() of Node's modules and of files named at run time needs a require, and its
  // fall-backs (ts-node's search path, Config.load without a root) a __dirname.
  banner: {
    js: [
      "import {createRequire as __setupFlagCreateRequire} from 'node:module';",
      "import {dirname as __setupFlagDirname} from 'node:path';",
      "import {fileURLToPath as __setupFlagToPath} from 'node:url';",
      'const require = __setupFlagCreateRequire(import.meta.url);',
      'const __dirname = __setupFlagDirname(__setupFlagToPath(import.meta.url));',
    ].join(' '),
  },
  bundle: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryPoints,
  format: 'esm',
  logLevel: 'warning',
  metafile: Boolean(process.env.BUNDLE_METAFILE),
  minifySyntax: !process.env.BUNDLE_READABLE,
  minifyWhitespace: !process.env.BUNDLE_READABLE,
  outbase: dist,
  outdir: dist,
  platform: 'node',
  plugins: [externals, oclifEdits],
  splitting: true,
  target: 'node20',
})
if (result.metafile) writeFileSync(process.env.BUNDLE_METAFILE, JSON.stringify(result.metafile))
