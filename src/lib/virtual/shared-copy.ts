/**
 * A bundled example's copy, shared by the runs that use it at the same time. PARTICLE_VIRTUAL_DEVICES=<bare name>
 * opens a copy of the bundled file in the temporary folder (the installed package is never written). The copy is
 * fresh for a run that starts alone, and the same copy for every run that starts while another uses it: the doctor
 * waiting for the buttons in one terminal, and `virtual press` (or `get`) in another, see the same devices. So the
 * copy lives as long as the runs that use it, with nothing to type and nothing to clean up.
 *
 * Why not other ways: a copy per terminal or per parent process would differ between two terminals (each has its
 * own), and a copy the doctor keeps and names would make a person type its path. Each run that uses the copy holds a
 * file named by its process ID in `<copy>.runs/` while it runs; a run that died without removing it does not count
 * (its process is gone). The check and the fresh copy happen under the devices file's lock, so two runs starting
 * together agree.
 */
import {copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {alive, withDevicesFileLock} from './file.js'

const runsOf = (copy: string) => `${copy}.runs`

/** How many times this process uses each copy (a library caller may open several buses): its file goes with the last. */
const usesHere = new Map<string, number>()

/** The runs using the copy now (stale entries removed on the way). */
export function runsUsing(copy: string): number[] {
  let names: string[]
  try {
    names = readdirSync(runsOf(copy))
  } catch {
    return []
  }
  const pids: number[] = []
  for (const name of names) {
    const pid = Number(name)
    if (alive(pid)) pids.push(pid)
    else rmSync(join(runsOf(copy), name), {force: true})
  }
  return pids
}

/**
 * Use the copy of `example` at `copy` for this run: fresh when no other run uses it, else as it is. `leave` ends this
 * run's use (also done when the process exits).
 */
export function useSharedCopy(example: string, copy: string): {fresh: boolean; leave: () => void} {
  const mine = join(runsOf(copy), String(process.pid))
  const fresh = withDevicesFileLock(copy, () => {
    const alone = runsUsing(copy).length === 0
    if (alone) {
      // Written beside it and renamed over it: a run reading it never sees half a file.
      copyFileSync(example, `${copy}.fresh`)
      renameSync(`${copy}.fresh`, copy)
    }
    mkdirSync(runsOf(copy), {recursive: true})
    writeFileSync(mine, '')
    return alone
  })
  usesHere.set(copy, (usesHere.get(copy) ?? 0) + 1)
  let left = false
  const leave = () => {
    if (left) return
    left = true
    process.removeListener('exit', leave)
    const uses = (usesHere.get(copy) ?? 1) - 1
    if (uses > 0) usesHere.set(copy, uses)
    else {
      usesHere.delete(copy)
      rmSync(mine, {force: true})
    }
  }
  process.on('exit', leave)
  return {fresh, leave}
}
