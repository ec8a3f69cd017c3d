// The web doctor's page: where it cannot work it says so; otherwise "Connect a device", each device's card, "Fix
// all", and the virtual devices (the simulator behind the same WebUSB calls). Everything drawn comes from the flows
// in src/lib/web/ and the words in src/lib/text/; nothing leaves the page but USB transfers.
import {realClock} from '../lib/clock.js'
import {announceText, fixAllText, PAGE, privacyText, supportText, virtualStillText} from '../lib/text/web.js'
import {type Support, webSupport} from '../lib/web/environment.js'
import {type GrantStore, Grants, memoryStore} from '../lib/web/grants.js'
import {WebDoctor} from '../lib/web/page.js'
import {type Example, examplesOf, parseDocument, VirtualBench} from '../lib/web/virtual.js'
import {benchPanel, ChooserDialog} from './bench.js'
import {deviceCard} from './card.js'
import {h, redraw} from './dom.js'

/** Per-request deadline: real devices answer in milliseconds; a firmware that does not answer is known sooner. */
const TIMEOUT_MS = 5000
/** How long the page waits for the person's buttons or a replug (as the CLI doctor's --wait). */
const WAIT_MS = 300_000
const GRANTS_KEY = 'particle-setup-flag.grants'

const localStore: GrantStore = {
  read: () => localStorage.getItem(GRANTS_KEY),
  write: (text) => localStorage.setItem(GRANTS_KEY, text),
}

class App {
  bench?: VirtualBench
  doctor?: WebDoctor
  readonly examples: Example[] = examplesOf(PAGE_EXAMPLES)
  problem: null | string = null
  readonly chooser = new ChooserDialog()
  private scheduled = false
  private readonly root = document.getElementById('app')!
  /** Outside what is redrawn, so screen readers hear each change of what it says once. */
  private readonly live = h('p', {'aria-live': 'polite', class: 'visually-hidden', id: 'live', role: 'status'})

  constructor(readonly support: Support) {
    document.body.append(this.chooser.el, this.live)
    if (support.kind === 'ok') this.doctor = this.newDoctor(navigator.usb, new Grants(localStore))
  }

  /** Draw again once the current burst of changes is over. */
  readonly changed = () => {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      this.draw()
    })
  }

  startVirtual(devices: Example['devices']): void {
    this.bench?.close()
    this.doctor?.close()
    this.problem = null
    this.bench = new VirtualBench(devices, {changed: this.changed, choose: (shown) => this.chooser.choose(shown), clock: realClock})
    this.doctor = this.newDoctor(this.bench.usb, new Grants(memoryStore()))
    this.changed()
  }

  stopVirtual(): void {
    this.doctor?.close()
    this.bench?.close()
    this.bench = undefined
    this.doctor = this.support.kind === 'ok' ? this.newDoctor(navigator.usb, new Grants(localStore)) : undefined
    this.changed()
  }

  draw(): void {
    const doctor = this.doctor
    const actions = {
      start: (d: Example['devices']) => this.startVirtual(d),
      startText: (text: string) => {
        const parsed = parseDocument(text)
        if ('devices' in parsed) return this.startVirtual(parsed.devices)
        this.problem = parsed.problem
        this.changed()
      },
      stop: () => this.stopVirtual(),
    }
    redraw(this.root, [
      h('header', {}, h('h1', {}, PAGE.title), h('p', {}, PAGE.intro)),
      this.supportPanel(),
      doctor ? this.devicesPanel(doctor) : h('span', {hidden: true}),
      benchPanel({actions, bench: this.bench, examples: this.examples, problem: this.problem}),
      h('footer', {}, h('p', {}, privacyText())),
    ])
    document.body.dataset.ready = doctor ? 'connect' : 'unsupported'
    // For the bench: the moment "Connect a device" is first there to press.
    if (doctor && performance.getEntriesByName('connect-ready').length === 0) performance.mark('connect-ready')
    this.announce()
  }

  private announce(): void {
    const said = (this.doctor?.flows ?? [])
      .map((f) => announceText({outcome: f.outcome, platformName: f.found.platform.displayName, stage: f.phase.kind === 'buttons' ? f.phase.stage : undefined, waiting: f.permission !== null}))
      .filter(Boolean)
      .join(' ')
    if (this.live.textContent !== said) this.live.textContent = said
  }

  private supportPanel(): HTMLElement {
    if (this.support.kind === 'ok' || this.bench) return h('span', {hidden: true})
    const t = supportText(this.support)
    return h('section', {'aria-labelledby': 'support-title', class: 'unsupported', id: 'support', role: 'alert'}, h('h2', {id: 'support-title'}, t.heading), t.lines.map((l) => h('p', {}, l)), h('p', {}, virtualStillText()))
  }

  private devicesPanel(doctor: WebDoctor): HTMLElement {
    const fixable = doctor.fixable.length
    return h(
      'section',
      {'aria-labelledby': 'devices-title', class: 'devices', id: 'devices'},
      h('h2', {id: 'devices-title'}, PAGE.devices),
      h('p', {}, PAGE.connectHint),
      h(
        'div',
        {class: 'actions'},
        h('button', {class: 'primary', id: 'connect', onclick: () => void doctor.connect(), type: 'button'}, PAGE.connect),
        fixable > 1 ? h('button', {id: 'fix-all', onclick: () => void doctor.fixAll(), type: 'button'}, fixAllText(fixable)) : null,
      ),
      doctor.problem ? h('p', {class: 'error', role: 'alert'}, doctor.problem.message) : null,
      doctor.flows.length === 0 ? h('p', {class: 'empty'}, PAGE.noDevices) : doctor.flows.map((f) => deviceCard(f, doctor)),
    )
  }

  private newDoctor(usb: USB, grants: Grants): WebDoctor {
    const doctor = new WebDoctor({changed: this.changed, clock: realClock, grants, timeoutMs: TIMEOUT_MS, usb, waitMs: WAIT_MS})
    void doctor.start().finally(this.changed)
    return doctor
  }
}

const support = webSupport({hasUsb: 'usb' in navigator && navigator.usb !== undefined, origin: location.origin, secure: window.isSecureContext, userAgent: navigator.userAgent})
const app = new App(support)
// `?virtual=<example>` opens the page on that bundled example's virtual devices (links in the README use it).
const asked = new URLSearchParams(location.search).get('virtual')
const example = app.examples.find((e) => e.name === asked)
if (example) app.startVirtual(example.devices)
app.draw()
