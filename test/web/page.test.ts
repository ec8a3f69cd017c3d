// The web doctor in a real browser: Debian's Chromium, against the page `particle-setup-flag web` serves, on virtual
// devices (our simulator behind the page's WebUSB calls). Each scenario ends as a person would see it, with axe-core
// finding no serious or critical violation in any state and a screenshot of each state in docs/web/; one is worked
// with the keyboard alone; the page asks the network for its own three files and nothing else.
import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {type Page} from 'playwright-core'

import {FakeClock} from '../../src/lib/clock.js'
import {type VirtualDeviceSpec} from '../../src/lib/virtual/core.js'
import {Grants} from '../../src/lib/web/grants.js'
import {WebDoctor} from '../../src/lib/web/page.js'
import {VirtualBench} from '../../src/lib/web/virtual.js'
import {type Browser, CHROMIUM, openChromium, seriousViolations, shot, tabTo} from '../support/chromium.js'
import {type Served, serveWeb} from '../support/web-server.js'

const ARGON = 'e00fce681a2b3c4d5e6f7a8b'
const BORON = 'e00fce681a2b3c4d5e6f7b01'
const BSOM = 'e00fce681a2b3c4d5e6f7a03'
const P2 = 'e00fce681a2b3c4d5e6f7a06'
const spec = (over: Partial<VirtualDeviceSpec>): VirtualDeviceSpec => ({deviceOs: '3.3.1', faults: {}, id: ARGON, mode: 'listening', platform: 'argon', setupDone: 255, ...over})

const card = (id: string) => `article[data-device="${id}"]`

/** The state is as a person sees it: no serious or critical accessibility violation, and a screenshot of it. */
async function state(page: Page, name: string): Promise<void> {
  expect(await seriousViolations(page), name).to.deep.equal([])
  await shot(page, name)
}

/** Connect the device with this ID through the chooser. */
async function connect(page: Page, id: string): Promise<void> {
  await page.click('#connect')
  await page.click(`#chooser button:has-text("${id}")`)
  await page.waitForSelector(`${card(id)}[data-phase="idle"]`)
}

describe('web doctor in Chromium (virtual devices)', function () {
  this.timeout(180_000)
  let served: Served
  let b: Browser

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`)
    served = await serveWeb()
  })
  after(async () => {
    const {code} = await served.stop()
    expect(code).to.equal(0)
  })
  beforeEach(async () => {
    b = await openChromium(['--host-resolver-rules=MAP insecure.test 127.0.0.1'])
  })
  afterEach(async () => {
    expect(b.errors, 'errors thrown in the page').to.deep.equal([])
    await b.close()
  })

  /** Open the page on virtual devices: a bundled example by name, or a pasted devices document. */
  async function open(devices: string | VirtualDeviceSpec[]): Promise<Page> {
    const {page} = b
    await page.goto(typeof devices === 'string' ? `${served.url}?virtual=${devices}` : served.url)
    await page.waitForSelector('body[data-ready="connect"]')
    if (typeof devices !== 'string') {
      await page.fill('#document', JSON.stringify({devices}))
      await page.click('#start-document')
      await page.waitForSelector('[data-virtual]')
    }
    return page
  }

  it('a stuck Argon, fixed end to end with the keyboard alone; nothing asked of the network but the page', async () => {
    const page = await open('stuck-argon')
    await state(page, 'connect')
    await tabTo(page, 'connect')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#chooser[open]')
    await state(page, 'chooser')
    await tabTo(page, 'choose-0')
    await page.keyboard.press('Enter')
    await page.waitForSelector(`${card(ARGON)} #fix-${ARGON}`)
    expect(await page.innerText(card(ARGON))).to.contain('The setup-done flag is not set: this is why the Argon boots into Listening Mode.')
    expect(await page.getAttribute(`#led-${ARGON}`, 'data-led')).to.equal('blinking-dark-blue')
    await state(page, 'stuck-argon-cause')
    await tabTo(page, `fix-${ARGON}`)
    await page.keyboard.press('Enter')
    await page.waitForSelector(`${card(ARGON)}[data-outcome="fixed"]`)
    const text = await page.innerText(card(ARGON))
    expect(text).to.contain('What was wrong: the setup-done flag of this Argon was not set')
    expect(await page.innerText('[data-virtual] .byte')).to.equal('DCT byte 8134: 0x01')
    expect(await page.innerText('.guard')).to.equal('Write guard: nothing was written anywhere but DCT 8134.')
    await state(page, 'stuck-argon-fixed')
    const own = ['', 'app.js', 'style.css'].map((f) => `${served.url}${f}`)
    expect(b.requests.filter((u) => !u.startsWith('data:')).map((u) => u.replace(/\?.*$/, ''))).to.have.members(own)
    expect(await page.evaluate(() => fetch(location.href).then(() => 'fetched', () => 'blocked'))).to.equal('blocked')
  })

  it('a DFU-mode B SoM on 3.3.1: read over DFU, written, and the second permission asked with its own button', async () => {
    const page = await open([spec({id: BSOM, mode: 'dfu', platform: 'bsom'})])
    await connect(page, BSOM)
    const text = await page.innerText(card(BSOM))
    expect(text).to.contain('DFU mode')
    expect(text).to.contain("3.3.1 (from its system part's header)")
    expect(text).to.contain('not set (0xFF)')
    await page.click(`#fix-${BSOM}`)
    await page.waitForSelector(`#allow-${BSOM}`)
    expect(await page.innerText(`${card(BSOM)} .permission`)).to.contain('In normal mode the B-SoM has another USB product ID')
    // As the page says: once it has restarted (the virtual device's LED breathes cyan), allow it. The picture is of
    // that moment, the same from run to run (before it, the restart is caught at any point).
    await page.waitForSelector(`#led-v-${BSOM}[data-led="breathing-cyan"]`)
    // While it restarts, the card says what was written and read back (before: "not set (0xFF)", the first read),
    // that it is restarting (before: "DFU mode"), and shows no LED picture of the mode it has left.
    const waiting = await page.innerText(`${card(BSOM)} .facts`)
    expect(waiting).to.contain('set (0x01)')
    expect(waiting).to.not.contain('not set')
    expect(waiting).to.contain('restarting (was in DFU mode)')
    expect(await page.$(`#led-${BSOM}`)).to.equal(null)
    await state(page, 'dfu-bsom-permission')
    await page.click(`#allow-${BSOM}`)
    await page.click(`#chooser button:has-text("${BSOM}")`)
    await page.waitForSelector(`${card(BSOM)}[data-outcome="fixed"]`)
    expect(await page.$(`#allow-${BSOM}`)).to.equal(null)
    expect(await page.innerText(card(BSOM))).to.contain('by DFU and read back')
    await state(page, 'dfu-bsom-fixed')
  })

  it('a Boron whose firmware does not answer: the Safe Mode steps with the LED, the on-screen buttons, fixed', async () => {
    const page = await open('blocked-boron')
    await connect(page, BORON)
    expect(await page.innerText(card(BORON))).to.contain('The device firmware does not answer USB requests')
    await page.click(`#fix-${BORON}`)
    await page.waitForSelector(`${card(BORON)}[data-phase="buttons"]`, {timeout: 60_000})
    expect(await page.innerText(`${card(BORON)} .steps`)).to.contain('hold MODE and RESET, release RESET, release MODE when the LED blinks magenta')
    expect(await page.getAttribute(`#led-wait-${BORON}`, 'data-led')).to.equal('blinking-magenta')
    await state(page, 'silent-boron-safe-mode-steps')
    await page.click(`#mode-${BORON}`)
    await page.click(`#reset-${BORON}`)
    await page.waitForSelector(`#led-v-${BORON}[data-led="blinking-magenta"]`)
    await state(page, 'silent-boron-buttons')
    await page.click(`#mode-${BORON}`)
    await page.waitForSelector(`${card(BORON)}[data-outcome="fixed"]`, {timeout: 60_000})
    expect(await page.textContent(`${card(BORON)} .log`)).to.contain('The device restarted in Safe Mode.')
    await state(page, 'silent-boron-fixed')
  })

  it('a 4.2.0 Boron and a P2: not the flag, with the same advice as the CLI', async () => {
    const page = await open([spec({deviceOs: '4.2.0', id: BORON, platform: 'boron'}), spec({deviceOs: '5.9.0', id: P2, platform: 'p2'})])
    await connect(page, BORON)
    await connect(page, P2)
    await page.waitForSelector(`${card(BORON)}[data-outcome="not-the-flag"]`)
    await page.waitForSelector(`${card(P2)}[data-outcome="not-the-flag"]`)
    expect(await page.innerText(card(BORON))).to.contain('Device OS 4.2.0 (4.0 or later) has no setup-done flag')
    expect(await page.innerText(card(P2))).to.contain('Photon 2 / P2 never had the setup-done flag')
    expect(await page.$$('[id^=fix-]')).to.have.length(0)
    await state(page, 'not-the-flag')
  })

  it('two stuck devices: a list, each with its state, and "Fix all"', async () => {
    const page = await open([spec({}), spec({id: BORON, platform: 'boron'})])
    await connect(page, ARGON)
    await connect(page, BORON)
    expect(await page.innerText('#fix-all')).to.equal('Fix all (2 devices)')
    await state(page, 'two-devices')
    await page.click('#fix-all')
    await page.waitForSelector(`${card(ARGON)}[data-outcome="fixed"]`)
    await page.waitForSelector(`${card(BORON)}[data-outcome="fixed"]`)
    expect(await page.$$eval('[data-virtual] .byte', (els) => els.map((e) => e.getAttribute('data-byte')))).to.deep.equal(['1', '1'])
    await state(page, 'two-devices-fixed')
  })

  it('a cable pulled mid-write: a clear message, nothing written but 8134, read again once plugged in', async () => {
    const page = await open([spec({faults: {unplugAfterTransfers: await writeTransfer()}})])
    await connect(page, ARGON)
    await page.click(`#fix-${ARGON}`)
    await page.waitForSelector(`${card(ARGON)}[data-outcome="failed"]`)
    const text = await page.innerText(card(ARGON))
    expect(text).to.contain(`Device ${ARGON} disconnected during the operation.`)
    expect(text).to.contain("The byte's state after the write is unknown")
    expect(text).to.contain('Plug it in again')
    expect(await page.innerText('.guard')).to.equal('Write guard: nothing was written anywhere but DCT 8134.')
    await state(page, 'unplugged-mid-write')
    await page.click(`#cable-${ARGON}`)
    await page.waitForSelector(`${card(ARGON)}[data-outcome="nothing-to-fix"], ${card(ARGON)}[data-outcome="not-the-flag"], ${card(ARGON)} #fix-${ARGON}`)
  })

  it('Linux without the udev rule: the rule and how to install it', async () => {
    const page = await open([spec({faults: {accessDenied: true}})])
    await page.click('#connect')
    await page.click(`#chooser button:has-text("${ARGON}")`)
    await page.waitForSelector(`${card(ARGON)} .problem pre`)
    const text = await page.innerText(card(ARGON))
    expect(text).to.contain('Linux does not let this browser open the device')
    expect(text).to.contain(`SUBSYSTEMS=="usb", ATTRS{idVendor}=="2b04"`)
    await state(page, 'udev-rule')
  })

  it('a device held by another program: said, and read again on request', async () => {
    const page = await open([spec({faults: {usbError: {open: 'open error: device is busy (errno 16)'}}})])
    await connect(page, ARGON)
    const text = await page.innerText(card(ARGON))
    expect(text).to.contain(`Device ${ARGON} is in use by another program, so it cannot be opened here.`)
    expect(text).to.contain('Close the other program that uses the device')
    await page.waitForSelector(`#again-${ARGON}`)
    await state(page, 'held-by-another-program')
  })

  it('no navigator.usb (Firefox, Safari, iOS): said, with the way out; the virtual devices still work', async () => {
    await b.page.addInitScript(() => {
      delete (Navigator.prototype as {usb?: unknown}).usb
    })
    await b.page.goto(served.url)
    await b.page.waitForSelector('body[data-ready="unsupported"]')
    const text = await b.page.innerText('#support')
    expect(text).to.contain('This browser cannot reach USB devices')
    expect(text).to.contain('Open it in Chrome or Edge')
    expect(await b.page.$('#connect')).to.equal(null)
    await state(b.page, 'no-webusb')
    await b.page.click('#start-example')
    await b.page.waitForSelector('#connect')
  })

  it('a page outside a secure context: said, with the address that works', async () => {
    // The address is on the screenshot: served on a fixed port when it is free, so that the picture stays the same
    // from run to run (any free port otherwise: the test holds the same).
    const fixed = await serveWeb(['--port', '48134']).catch(() => undefined)
    try {
      const url = (fixed ?? served).url.replace('127.0.0.1', 'insecure.test')
      await b.page.goto(url)
      await b.page.waitForSelector('body[data-ready="unsupported"]')
      expect(await b.page.evaluate(() => window.isSecureContext)).to.equal(false)
      const text = await b.page.innerText('#support')
      expect(text).to.contain('This page is not in a secure context')
      expect(text).to.contain(url.replace(/\/$/, ''))
      expect(text).to.contain('http://127.0.0.1')
      await state(b.page, 'insecure-context')
    } finally {
      await fixed?.stop()
    }
  })
})

/**
 * How many transfers a stuck Argon sees up to the write (the INIT of request 73) when the page reads it and fixes
 * it: the same flow on the same simulator, in Node, on a fake clock. The cable comes out right after that transfer.
 */
async function writeTransfer(): Promise<number> {
  const clock = new FakeClock()
  const bench = new VirtualBench([spec({})], {changed: () => {}, choose: async (shown) => shown[0], clock})
  const doctor = new WebDoctor({changed: () => {}, clock, grants: new Grants(), timeoutMs: 5000, usb: bench.usb, waitMs: 60_000})
  await doctor.connect()
  await doctor.flows[0].fix()
  const write = bench.bus.log.findIndex((r) => /^C0 01 .. .. 49 00/.test(r.setup))
  expect(write).to.be.greaterThan(0)
  return write + 1
}
