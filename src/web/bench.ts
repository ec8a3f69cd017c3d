// The virtual devices' panel: the example picker (or a pasted devices document), each device's picture with its
// LED, its MODE and RESET buttons and its cable, the byte it holds, and the simulator's write guard; and the
// chooser a browser would draw, as a dialog.
import {chooserItem, deviceTitle, documentProblemText, PAGE, VIRTUAL} from '../lib/text/web.js'
import {type Example, type VirtualBench, type VirtualView} from '../lib/web/virtual.js'
import {ledPicture} from './card.js'
import {h} from './dom.js'

export interface BenchActions {
  start(devices: Example['devices']): void
  startText(text: string): void
  stop(): void
}

function virtualDevice(v: VirtualView, bench: VirtualBench): HTMLElement {
  return h(
    'div',
    {class: 'vdevice', 'data-virtual': v.id, role: 'group', 'aria-labelledby': `vtitle-${v.id}`},
    h('h3', {id: `vtitle-${v.id}`}, deviceTitle(v.platform, v.id)),
    h(
      'div',
      {class: 'vboard'},
      ledPicture(v.led, `v-${v.id}`),
      h('button', {'aria-pressed': v.modeHeld ? 'true' : 'false', disabled: !v.pluggedIn, id: `mode-${v.id}`, onclick: () => bench.press(v.id, 'mode'), type: 'button'}, VIRTUAL.mode(v.modeHeld)),
      h('button', {disabled: !v.pluggedIn, id: `reset-${v.id}`, onclick: () => bench.press(v.id, 'reset'), type: 'button'}, VIRTUAL.reset),
      h('button', {id: `cable-${v.id}`, onclick: () => bench.cable(v.id), type: 'button'}, v.pluggedIn ? VIRTUAL.unplug : VIRTUAL.plugIn),
    ),
    h('p', {class: 'byte', 'data-byte': v.byte}, VIRTUAL.byte(v.byte)),
  )
}

function picker(examples: Example[], actions: BenchActions, problem: null | string): HTMLElement[] {
  const select = h('select', {id: 'example'}, examples.map((e) => h('option', {value: e.name}, e.name)))
  const text = h('textarea', {id: 'document', rows: 4, spellcheck: 'false'})
  return [
    h('div', {class: 'field'}, h('label', {for: 'example'}, PAGE.virtualExample), select),
    h('button', {id: 'start-example', onclick: () => actions.start(examples.find((e) => e.name === select.value)!.devices), type: 'button'}, PAGE.virtualStartExample),
    h('div', {class: 'field'}, h('label', {for: 'document'}, PAGE.virtualDocument), text),
    h('button', {id: 'start-document', onclick: () => actions.startText(text.value), type: 'button'}, PAGE.virtualStartDocument),
    problem ? h('p', {class: 'error', role: 'alert'}, documentProblemText(problem)) : null,
  ].filter((x): x is HTMLElement => x !== null)
}

export function benchPanel(o: {actions: BenchActions; bench?: VirtualBench; examples: Example[]; problem: null | string}): HTMLElement {
  const guard = o.bench ? o.bench.violations.map((v) => v.message) : []
  return h(
    'section',
    {'aria-labelledby': 'virtual-title', class: 'virtual', id: 'virtual'},
    h('h2', {id: 'virtual-title'}, PAGE.virtualTitle),
    h('p', {}, PAGE.virtualIntro),
    o.bench
      ? [
          h('div', {class: 'vdevices'}, o.bench.views().map((v) => virtualDevice(v, o.bench!))),
          h('p', {class: guard.length > 0 ? 'error guard' : 'guard', 'data-violations': guard.length}, guard.length > 0 ? VIRTUAL.guardViolations(guard) : VIRTUAL.guardClean),
          h('button', {id: 'stop-virtual', onclick: () => o.actions.stop(), type: 'button'}, PAGE.virtualStop),
        ]
      : picker(o.examples, o.actions, o.problem),
  )
}

/** The chooser a browser draws for requestDevice(), as the page's dialog over the virtual devices. */
export class ChooserDialog {
  readonly el = h('dialog', {'aria-labelledby': 'chooser-title', id: 'chooser'})

  choose(shown: USBDevice[]): Promise<undefined | USBDevice> {
    return new Promise((resolve) => {
      const done = (d: undefined | USBDevice) => {
        this.el.removeEventListener('close', onClose)
        if (this.el.open) this.el.close()
        resolve(d)
      }
      const onClose = () => done(undefined)
      this.el.addEventListener('close', onClose)
      const items = shown.map((d, i) => h('li', {}, h('button', {id: `choose-${i}`, onclick: () => done(d), type: 'button'}, chooserItem(d.productName, d.serialNumber))))
      this.el.replaceChildren(
        h('h2', {id: 'chooser-title'}, PAGE.chooserTitle),
        h('p', {}, PAGE.chooserNote),
        items.length > 0 ? h('ul', {class: 'choices'}, items) : h('p', {}, PAGE.chooserEmpty),
        h('button', {id: 'chooser-cancel', onclick: () => done(undefined), type: 'button'}, PAGE.cancel),
      )
      this.el.showModal()
    })
  }
}
