// What makes a browser bundle Node-free, as checks the bundle test runs on the page's bundle and on fixtures made
// to fail them: no Node built-in and no polyfill package among the inputs of esbuild's metafile, no import left
// external, and no free use of a Node global (process, Buffer, require, ...) in the code that came out, found by
// the TypeScript checker with the browser's declarations only (so a local variable named `process` is fine).
import {builtinModules} from 'node:module'
import ts from 'typescript'

/** The packages bundlers put in the place of Node's built-ins. */
export const POLYFILLS = [
  'assert', 'browserify-zlib', 'buffer', 'console-browserify', 'constants-browserify', 'crypto-browserify', 'domain-browser',
  'events', 'https-browserify', 'os-browserify', 'path-browserify', 'process', 'punycode', 'querystring-es3', 'readable-stream',
  'stream-browserify', 'stream-http', 'string_decoder', 'timers-browserify', 'tty-browserify', 'url', 'util', 'vm-browserify',
  'node-stdlib-browser', 'node-polyfill-webpack-plugin', 'esbuild-plugins-node-modules-polyfill', '@esbuild-plugins/node-globals-polyfill',
  '@esbuild-plugins/node-modules-polyfill',
]

const NODE_GLOBALS = new Set(['Buffer', '__dirname', '__filename', 'exports', 'global', 'module', 'process', 'require', 'setImmediate', 'clearImmediate'])

export interface Metafile {
  inputs: Record<string, {imports: Array<{external?: boolean; path: string}>}>
  outputs: Record<string, {imports: Array<{external?: boolean; path: string}>}>
}

const packageOf = (input: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1]
const isBuiltin = (path: string) => path.startsWith('node:') || builtinModules.includes(path.split('/')[0])

/** Every Node built-in, polyfill package or external import in a metafile, as "input -> what". */
export function nodeInputs(meta: Metafile): string[] {
  const found: string[] = []
  for (const [input, {imports}] of Object.entries(meta.inputs)) {
    const pkg = packageOf(input)
    if (pkg && POLYFILLS.includes(pkg)) found.push(`${input}: the polyfill package ${pkg}`)
    if (isBuiltin(input)) found.push(`${input}: a Node built-in`)
    // (An input's `external` imports include the type-only ones TypeScript drops; what is really left to import is
    // in the outputs.)
    for (const i of imports) if (isBuiltin(i.path)) found.push(`${input} -> ${i.path}`)
  }
  for (const [output, {imports}] of Object.entries(meta.outputs)) for (const i of imports) found.push(`${output} -> ${i.path} (left to import)`)
  return found
}

/** Free uses of Node's globals in a JavaScript file, as "line: name". */
export function nodeGlobals(file: string): string[] {
  const options: ts.CompilerOptions = {allowJs: true, checkJs: true, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], module: ts.ModuleKind.ESNext, noEmit: true, target: ts.ScriptTarget.ES2022, types: []}
  const program = ts.createProgram([file], options)
  const source = program.getSourceFile(file)!
  return program
    .getSemanticDiagnostics(source)
    .filter((d) => d.start !== undefined)
    .map((d) => ({code: d.code, name: source.text.slice(d.start!, d.start! + d.length!), line: source.getLineAndCharacterOfPosition(d.start!).line + 1}))
    .filter((d) => [2580, 2591, 2592].includes(d.code) || (d.code === 2304 && NODE_GLOBALS.has(d.name)))
    .map((d) => `${d.line}: ${d.name}`)
}
