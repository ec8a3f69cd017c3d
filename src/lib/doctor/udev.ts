/**
 * The udev rule for Particle devices, as the doctor installs it: never over somebody else's rules. The official
 * CLI's `50-particle.rules` (and any line a person added to it) is left exactly as it is; when it lacks our rule,
 * ours goes into a file of our own beside it. An existing file only ever gains lines, the change is shown as a
 * diff before it is written, and a virtual device never touches the host's udev folder at all.
 */
import {chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {UDEV_RULE, UDEV_RULES_DIR, UDEV_RULES_FILE} from '../instructions.js'

export const RULES_FILE = UDEV_RULES_FILE
/** Our own file, used when 50-particle.rules exists without our rule (it belongs to the official CLI or a person). */
export const OWN_RULES_FILE = '50-particle-setup-flag.rules'

export interface UdevTarget {
  /** Whether this process may write there (root for the system folder; always for a virtual bus's folder). */
  canWrite: boolean
  rulesFile: string
  /** The rule folder of a virtual bus (beside its devices file), not the host's. */
  virtual?: boolean
}

/**
 * Where the rule goes. A real bus on Linux: /etc/udev/rules.d (PARTICLE_UDEV_RULES_DIR moves it). A virtual bus
 * has its own notion of the rule being installed: a `<devices file>.rules.d` folder beside the devices file it
 * opened (for a bundled example named bare, beside its copy, where the bus looks).
 */
export function udevTarget(backend: {file?: string; kind: 'usb' | 'virtual'}, env: NodeJS.ProcessEnv = process.env, platform = process.platform): UdevTarget | undefined {
  if (backend.kind === 'virtual') {
    const file = backend.file ?? env.PARTICLE_VIRTUAL_DEVICES
    if (!file) return undefined
    const dir = env.PARTICLE_UDEV_RULES_DIR || `${file}.rules.d`
    return {canWrite: true, rulesFile: join(dir, RULES_FILE), virtual: true}
  }
  if (platform !== 'linux') return undefined
  const dir = env.PARTICLE_UDEV_RULES_DIR || UDEV_RULES_DIR
  const isRoot = process.getuid?.() === 0
  return {canWrite: isRoot && existsSync(dir), rulesFile: join(dir, RULES_FILE)}
}

export interface RulePlan {
  /** The file that holds, or would hold, our rule. */
  file: string
  /** Our rule is already in place: nothing to write. */
  installed: boolean
  /** The file's content now ('' when it does not exist) and after the change. */
  before: string
  after: string
  /** The change as a unified-style diff, for people to read before consenting. */
  diff: string
}

const hasRule = (text: string) => text.split(/\r?\n/).some((line) => line.trim() === UDEV_RULE)

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** What installing the rule at `rulesFile` would change (nothing is written). */
export function planRule(rulesFile: string): RulePlan {
  const main = read(rulesFile)
  const own = join(dirname(rulesFile), OWN_RULES_FILE)
  const ownText = read(own)
  // Theirs untouched: ours goes to our own file whenever the usual name already holds rules without ours.
  const file = main === undefined || hasRule(main) ? rulesFile : own
  const before = (file === rulesFile ? main : ownText) ?? ''
  const installed = hasRule(before)
  const added = [...(before === '' ? ['# Particle devices (vendor 2b04), installed by particle-setup-flag doctor'] : []), UDEV_RULE]
  const after = installed ? before : `${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${added.join('\n')}\n`
  const keptLines = before === '' ? [] : before.replace(/\n$/, '').split('\n')
  const diff = [
    `--- ${before === '' ? '/dev/null' : file}`,
    `+++ ${file}`,
    ...keptLines.map((l) => `  ${l}`),
    ...added.map((l) => `+ ${l}`),
  ].join('\n')
  return {after, before, diff, file, installed}
}

/** Write a plan: only lines added, the file replaced atomically, its mode kept (0644 for a new file). */
export function applyRule(plan: RulePlan): void {
  if (plan.installed) return
  mkdirSync(dirname(plan.file), {recursive: true})
  // Re-read: somebody may have changed it since the diff was shown; never drop what they wrote.
  const now = read(plan.file) ?? ''
  if (now !== plan.before) throw new Error(`${plan.file} changed while you were asked; nothing was written`)
  let mode = 0o644
  try {
    mode = statSync(plan.file).mode & 0o7777
  } catch {
    // a new file
  }
  const tmp = `${plan.file}.${process.pid}.tmp`
  writeFileSync(tmp, plan.after, {mode})
  chmodSync(tmp, mode)
  renameSync(tmp, plan.file)
}
