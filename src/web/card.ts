// One device on the page: what was read, the cause, what the page waits for (a restart, the buttons, a grant, a
// replug), the outcome with the doctor's summary, the actions, and what was done step by step.
import {STANDALONE} from '../lib/cli.js'
import {errorIs} from '../lib/errors.js'
import {eventText, sayText, summaryLines, waitingText} from '../lib/text/doctor.js'
import {buttonsText, CAUSE, deviceTitle, doneText, FACTS, flagText, heldText, ledLabel, MODE_WORDS, OUTCOME, PAGE, permissionText, restartingFrom, udevText, unpluggedText, versionText, writeUnknownText} from '../lib/text/web.js'
import {type DeviceFlow} from '../lib/web/flow.js'
import {type Led, ledOfButtons, ledOfMode} from '../lib/web/led.js'
import {type WebDoctor} from '../lib/web/page.js'
import {type Entry} from '../lib/web/state.js'
import {hostSystem} from './host.js'
import {h} from './dom.js'

const MARK = {done: '✔', failed: '✖', found: '⚠', info: '•', skipped: '•'} as const

/** Records that name the cause (the doctor's diagnosis), the last of which is shown under the cause. */
const CAUSE_EVENTS = new Set(['dfu-flag-set', 'firmware-refuses', 'firmware-silent', 'flag-not-set', 'flag-set-listening', 'no-control-requests', 'not-applicable', 'nothing-to-fix'])

/** The LED picture: colour and pattern animated in CSS, named for those who cannot see it. */
export function ledPicture(led: Led, key: string): HTMLElement {
  return h('div', {'aria-label': ledLabel(led), class: 'board', 'data-led': led, id: `led-${key}`, role: 'img'}, h('span', {class: `led led--${led}`}))
}

const entryText = (e: Entry) => ('event' in e ? `${MARK[e.mark]} ${eventText(e.event)}` : sayText(e.say, STANDALONE))

function facts(f: DeviceFlow): HTMLElement | null {
  const r = f.report
  // Nothing was read (the device could not be opened): no facts to show, the problem says why.
  if (!r || (r.error && !r.deviceOsVersion && r.flag === 'unknown')) return null
  const row = (term: string, value: string) => [h('dt', {}, term), h('dd', {}, value)]
  const mode = restarting(f) ? restartingFrom(r.mode) : MODE_WORDS[r.mode]
  return h('dl', {class: 'facts'}, row(FACTS.mode, mode), row(FACTS.deviceOs, versionText(r)), row(FACTS.flag, flagText(r)))
}

/** The page waits for the device to restart: the mode it was read in is the one it is leaving. */
function restarting(f: DeviceFlow): boolean {
  return f.phase.kind === 'working' && f.phase.what.kind === 'wait' && f.phase.what.wait.kind === 'restart'
}

function cause(f: DeviceFlow): HTMLElement | null {
  if (!f.cause) return null
  const last = [...f.entries].reverse().find((e) => 'event' in e && CAUSE_EVENTS.has(e.event.kind))
  return h('div', {class: `cause cause--${f.cause}`}, h('h4', {}, CAUSE[f.cause]), last ? h('p', {}, entryText(last).replace(/^\S+ /, '')) : null)
}

/** The phase the page is in for this device: working, the button steps, a replug it waits for. */
function phase(f: DeviceFlow): HTMLElement | null {
  const p = f.phase
  if (p.kind === 'working') return h('p', {'aria-busy': 'true', class: 'working'}, waitingText(p.what))
  if (p.kind === 'buttons') {
    const t = buttonsText(p.stage)
    const led = ledOfButtons(p.stage)
    return h('div', {class: 'steps', role: 'group', 'aria-labelledby': `steps-${f.id}`}, h('h4', {id: `steps-${f.id}`}, t.heading), h('p', {}, t.steps), h('div', {class: 'wait-for'}, ledPicture(led, `wait-${f.id}`), h('p', {}, t.waitFor)))
  }
  if (p.kind === 'replug' && p.why === 'udev' && hostSystem() === 'linux') {
    const u = udevText()
    return h('div', {class: 'problem'}, h('h4', {}, u.heading), h('p', {}, u.lines[0]), h('pre', {tabindex: 0}, h('code', {}, u.command)), h('p', {}, u.lines[1]))
  }
  if (p.kind === 'replug') return h('p', {class: 'problem'}, unpluggedText())
  return null
}

function permission(f: DeviceFlow, doctor: WebDoctor): HTMLElement | null {
  if (!f.permission) return null
  const t = permissionText(f.permission, f.found.platform.displayName)
  return h('div', {class: 'permission'}, h('p', {}, t.line), h('button', {class: 'primary', id: `allow-${f.id}`, onclick: () => void doctor.allow(f), type: 'button'}, t.button))
}

function problem(f: DeviceFlow): HTMLElement | null {
  const e = f.error
  if (!e || (f.phase.kind === 'replug' && f.phase.why === 'udev' && hostSystem() === 'linux')) return null
  const next = errorIs.heldElsewhere(e) ? [heldText()] : f.phase.kind === 'replug' ? [] : e.suggestions
  return h('div', {class: 'error', role: 'alert'}, h('p', {}, e.message), f.writeUnknown ? h('p', {}, writeUnknownText()) : null, next.map((s) => h('p', {}, s)))
}

function outcome(f: DeviceFlow): HTMLElement | null {
  if (!f.outcome || f.outcome === 'failed') return null
  const lines = f.summary.flatMap((s) => summaryLines(s, STANDALONE))
  return h('div', {class: `outcome outcome--${f.outcome}`}, h('h4', {}, OUTCOME[f.outcome]), lines.map((l) => h('p', {}, l)))
}

function actions(f: DeviceFlow): HTMLElement | null {
  if (f.busy) return null
  const fix = f.canFix ? h('button', {class: 'primary', id: `fix-${f.id}`, onclick: () => void f.fix(), type: 'button'}, f.plan === 'dfu' && f.entries.some((e) => 'event' in e && e.event.kind === 'write-failed') ? PAGE.tryDfu : PAGE.fixIt) : null
  const leave = f.leaveDfuOffered ? h('button', {id: `leave-${f.id}`, onclick: () => void f.leaveDfu(), type: 'button'}, PAGE.leaveDfu) : null
  const again = f.outcome === 'failed' && f.phase.kind !== 'replug' ? h('button', {id: `again-${f.id}`, onclick: () => void f.readAgain(), type: 'button'}, PAGE.readAgain) : null
  return fix || leave || again ? h('div', {class: 'actions'}, fix, leave, again) : null
}

export function deviceCard(f: DeviceFlow, doctor: WebDoctor): HTMLElement {
  const title = deviceTitle(f.found.platform.displayName, f.id)
  // While the page waits for a replug the device is gone, and while it restarts its LED is no longer what was read:
  // neither is shown as it was.
  const led = f.phase.kind === 'buttons' || restarting(f) ? undefined : f.phase.kind === 'replug' ? 'off' : f.report ? ledOfMode(f.report.mode) : undefined
  return h(
    'article',
    {'aria-labelledby': `title-${f.id}`, class: 'device', 'data-device': f.id, 'data-outcome': f.outcome ?? undefined, 'data-phase': f.phase.kind},
    h('h3', {id: `title-${f.id}`}, title),
    h('div', {class: 'device-body'}, led ? ledPicture(led, f.id) : null, facts(f)),
    cause(f),
    problem(f),
    phase(f),
    permission(f, doctor),
    outcome(f),
    actions(f),
    f.entries.length > 0 ? h('details', {class: 'log'}, h('summary', {}, doneText(f.entries.length)), h('ol', {}, f.entries.map((e) => h('li', {}, entryText(e))))) : null,
  )
}
