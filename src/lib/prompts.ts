/**
 * Prompts for people at a terminal, over @inquirer/prompts (imported only when a prompt is really shown, so
 * commands that never ask pay nothing at start-up). Tests replace the whole object.
 *
 * Ctrl-C at a question, or the end of input (Ctrl-D, a closed pipe), is the person cancelling: every prompt
 * rejects with `errors.cancelled()` (exit 130), never with the library's own error, so callers can say what was
 * already done.
 */
import {errors, isCancellation} from './errors.js'

export interface Choice<T> {
  description?: string
  name: string
  value: T
}

export interface Prompter {
  confirm(message: string, defaultAnswer?: boolean): Promise<boolean>
  select<T>(message: string, choices: Array<Choice<T>>): Promise<T>
}

/**
 * Run one prompt. The library rejects on Ctrl-C; at the end of input it may instead never settle while its
 * readline closes, and the process would then end quietly with status 0 as if nothing happened. `beforeExit`
 * fires exactly then (nothing left to wait for but the prompt), and turns it into a cancellation.
 */
export async function asking<R>(prompt: () => Promise<R> & {cancel?: () => void}): Promise<R> {
  const asked = prompt()
  let onEmpty: (() => void) | undefined
  const ended = new Promise<never>((_, reject) => {
    onEmpty = () => {
      asked.cancel?.() // the library's own clean-up (it restores the cursor a list hides)
      reject(errors.cancelled())
    }
    process.once('beforeExit', onEmpty)
  })
  try {
    return await Promise.race([asked, ended])
  } catch (error) {
    if (!isCancellation(error)) throw error
    if (process.stderr.isTTY) process.stderr.write('\u001B[?25h') // the cursor shown again, whatever happened
    throw errors.cancelled([], error)
  } finally {
    process.removeListener('beforeExit', onEmpty!)
  }
}

/** A question wrapped at word boundaries, leaving room for the library's "? " and " (Y/n)" on its last line. */
async function fitted(message: string): Promise<string> {
  const {widthOf, wrapText} = await import('./wrap.js')
  return wrapText(message, widthOf(process.stderr) - 8)
}

export const inquirerPrompter: Prompter = {
  async confirm(message, defaultAnswer = true) {
    const {confirm} = await import('@inquirer/prompts')
    const text = await fitted(message)
    return asking(() => confirm({default: defaultAnswer, message: text}, {output: process.stderr}))
  },
  async select(message, choices) {
    const {select} = await import('@inquirer/prompts')
    const text = await fitted(message)
    return asking(() => select({choices, message: text}, {output: process.stderr}))
  },
}

/**
 * Call `fn` once when the person presses `key` (either case) at the terminal, until the returned stop function is
 * called; no-op without a terminal on stdin. Raw mode turns Ctrl-C into a key: it is sent on as the signal it was.
 */
export function onKey(key: string, fn: () => void, input: NodeJS.ReadStream = process.stdin): () => void {
  if (!input.isTTY) return () => {}
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    input.removeListener('data', onData)
    input.setRawMode(false)
    input.pause()
  }
  const onData = (data: Buffer) => {
    const typed = data.toString('utf8')
    if (typed.includes('\u0003')) process.kill(process.pid, 'SIGINT')
    else if (typed.toLowerCase() === key.toLowerCase()) {
      stop()
      fn()
    }
  }
  input.setRawMode(true)
  input.resume()
  input.on('data', onData)
  return stop
}
