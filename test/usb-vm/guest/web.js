/**
 * Runs inside the usb-vm guest, as root, from the repository root: the web doctor through the real kernel USB
 * stack. `particle-setup-flag web` serves the page on 127.0.0.1:PORT; Chromium (the host's Debian chromium, through
 * playwright-core) runs with the managed policy WebUsbAllowDevicesForUrls granting Particle's vendor ID (0x2b04) to
 * the page's origin, so `getDevices()` returns the gadget without a chooser; the page reads the device, and "Fix it"
 * is pressed. Prints what the page showed and how it ended, as one JSON document on stdout.
 */
import {execFileSync, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {chromium} from 'playwright-core'

const PORT = 8431
const ORIGIN = `http://127.0.0.1:${PORT}`
const result = {stage: 'policy'}

function done(code) {
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(code)
}

try {
  // The guest's / is the host's, read-only: the policy folder goes on a tmpfs of its own.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'policies', '/etc/chromium'])
  mkdirSync('/etc/chromium/policies/managed', {recursive: true})
  writeFileSync('/etc/chromium/policies/managed/webusb.json', JSON.stringify({WebUsbAllowDevicesForUrls: [{devices: [{vendor_id: 0x2b04}], urls: [ORIGIN]}]}))
  // The guest boots with its loopback interface down: 127.0.0.1 is reachable once it is up.
  execFileSync('ip', ['link', 'set', 'lo', 'up'])
  result.stage = 'serve'
  const web = spawn(process.execPath, ['bin/run.js', 'web', '--no-open', '--port', String(PORT)], {stdio: ['ignore', 'pipe', 'inherit']})
  await new Promise((resolve, reject) => {
    web.stdout.on('data', (d) => String(d).includes(ORIGIN) && resolve())
    web.once('exit', (code) => reject(new Error(`web exited ${code}`)))
  })
  result.stage = 'chromium'
  const dir = mkdtempSync(join(tmpdir(), 'chromium-'))
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']
  const context = await chromium.launchPersistentContext(dir, {args: flags, executablePath: '/usr/bin/chromium', headless: true, timeout: 300_000})
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(300_000)
  page.on('pageerror', (e) => (result.pageErrors ??= []).push(e.message))
  result.stage = 'page'
  await page.goto(ORIGIN)
  result.policy = await page.evaluate(() => navigator.usb.getDevices().then((ds) => ds.map((d) => `${d.vendorId.toString(16)}:${d.productId.toString(16)} ${d.serialNumber}`)))
  await page.waitForSelector('article[data-device][data-phase="idle"] .facts')
  result.read = await page.innerText('article[data-device]')
  result.stage = 'fix'
  await page.click('[id^="fix-"]')
  await page.waitForSelector('article[data-device][data-outcome]')
  result.outcome = await page.getAttribute('article[data-device]', 'data-outcome')
  result.text = await page.innerText('article[data-device]')
  result.log = await page.textContent('article[data-device] .log')
  result.stage = 'done'
  await context.close()
  web.kill('SIGINT')
  done(0)
} catch (error) {
  result.error = String(error?.stack ?? error)
  done(1)
}
