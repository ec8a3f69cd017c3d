/**
 * The production firmware for `--restore`, read from the file a person names (the Node side of the firmware
 * method: firmware.ts itself touches no file, so the page's bundle can take the services without Node's `fs`).
 */
import {existsSync, readFileSync, statSync} from 'node:fs'
import {basename} from 'node:path'

import {errors} from '../errors.js'

export interface RestoreFile {
  binary: Buffer
  /** The file's own name, as the cloud's flash takes it and the steps say it. */
  name: string
  /** The path as given on the command line (what a person types again to flash it by hand). */
  path: string
}

/** Application firmware is at most a few MB; a huge file is a mistake (and over 2 GiB Node cannot read it at all). */
const MAX_RESTORE_BYTES = 64 * 1024 * 1024

/** The production firmware for --restore, checked before anything is flashed. */
export function readRestoreFile(file: string): RestoreFile {
  if (!existsSync(file) || !statSync(file).isFile()) throw errors.noFirmwareFile(file)
  const size = statSync(file).size
  if (size > MAX_RESTORE_BYTES) throw errors.restoreFile(file, `it is ${Math.round(size / 1024 / 1024)} MiB, and application firmware is at most a few MiB`)
  try {
    return {binary: readFileSync(file), name: basename(file), path: file}
  } catch (error) {
    throw errors.restoreFile(file, `it cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, error)
  }
}
