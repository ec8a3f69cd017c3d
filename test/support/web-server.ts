// `particle-setup-flag web` as a person runs it, for the tests that need the page served: started with --no-open,
// its address read from what it prints, stopped with Ctrl-C (SIGINT) and its exit status kept.
import {type ChildProcess, spawn} from 'node:child_process'

import {BIN, ROOT} from './cli.js'

export interface Served {
  /** Ctrl-C, then the exit status and everything printed. */
  stop(): Promise<{code: null | number; stdout: string}>
  url: string
}

export function serveWeb(args: string[] = []): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'web', '--no-open', ...args], {cwd: ROOT, env: {...process.env, PARTICLE_OFFLINE: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  const exited = new Promise<null | number>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise<Served>((resolve, reject) => {
    child.stderr!.on('data', (d) => (stderr += String(d)))
    child.stdout!.on('data', (d) => {
      stdout += String(d)
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout)?.[0]
      if (url) resolve({stop: async () => (child.kill('SIGINT'), {code: await exited, stdout}), url})
    })
    void exited.then((code) => reject(new Error(`web exited (${code}) before serving: ${stdout}${stderr}`)))
  })
}
