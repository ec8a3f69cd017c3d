// Debian's Chromium driven by playwright-core, for the page's tests: no browser is downloaded (executablePath), a
// fresh user data directory per browser, nothing of Chromium's own network traffic (the flags below); axe-core run
// in the page; keyboard-only moves; screenshots of each state into docs/web/.
import {createRequire} from 'node:module'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type BrowserContext, chromium, type Page} from 'playwright-core'

import {ROOT} from './cli.js'

export const CHROMIUM = '/usr/bin/chromium'
export const SHOTS = join(ROOT, 'docs', 'web')

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface Browser {
  close(): Promise<void>
  context: BrowserContext
  page: Page
  /** Everything the page asked the network for (its own files, and nothing else, is what a test expects). */
  requests: string[]
  /** Errors thrown in the page. */
  errors: string[]
}

/** A Chromium with a fresh profile and one page; `extra` flags (a host rule, say) beside the fixed ones. */
export async function openChromium(extra: string[] = []): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), 'web-chromium-'))
  const context = await chromium.launchPersistentContext(dir, {args: [...FLAGS, ...extra], executablePath: CHROMIUM, headless: true, viewport: {height: 800, width: 1000}})
  const page = context.pages()[0] ?? (await context.newPage())
  const requests: string[] = []
  const errors: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('pageerror', (e) => errors.push(e.message))
  return {
    close: async () => {
      await context.close()
      rmSync(dir, {force: true, recursive: true})
    },
    context,
    errors,
    page,
    requests,
  }
}

const require = createRequire(join(ROOT, 'package.json'))
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

/** axe-core's serious and critical violations of the page as it is now, as "rule: target". */
export async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE)
  return page.evaluate(async () => {
    const axe = (window as unknown as {axe: {run(c: Document, o: object): Promise<{violations: Array<{id: string; impact: string; nodes: Array<{target: string[]}>}>}>}}).axe
    const r = await axe.run(document, {resultTypes: ['violations']})
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
}

/** Move the focus with Tab alone until it is on the element with this id (fails when it cannot be reached). */
export async function tabTo(page: Page, id: string, most = 60): Promise<void> {
  for (let i = 0; i < most; i++) {
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return
    await page.keyboard.press('Tab')
  }
  throw new Error(`#${id} cannot be reached with Tab`)
}

/** A screenshot of the whole page, animations stopped (the LED shows its colour), into docs/web/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, {recursive: true})
  await page.screenshot({animations: 'disabled', fullPage: true, path: join(SHOTS, `${name}.png`)})
}
