// A representative subset of the fault matrix through the built binary (bin/run.js over dist/, real clock, a devices
// file): the same expectations as the in-process matrix (expectations.ts), checked on the exit status, the JSON
// report, the devices file afterwards (DCT byte) and its write-guard record (`violations` must be absent).
import {expect} from 'chai'

import type {SetReport} from '../../src/lib/flag.js'

import {devicesFile, readDevices, runJson} from '../support/cli.js'
import {device, expected, FAULTS, knownBug, resolve} from './expectations.js'

type Method = 'auto' | 'dfu' | 'usb'
type Mode = 'dfu' | 'listening' | 'normal' | 'safe'

const SAMPLE: Array<[fault: string, method: Method, mode: Mode]> = [
  ['blockedSystemThread: true', 'auto', 'safe'],
  ['blockedSystemThread: true', 'dfu', 'listening'],
  ["blockedSystemThread: 'connecting'", 'auto', 'normal'],
  ['stallControl', 'usb', 'normal'],
  ['stallControl', 'auto', 'dfu'],
  ['busy: 3', 'auto', 'listening'],
  ['dfuWriteError', 'usb', 'dfu'],
  ['dfuWriteError', 'auto', 'dfu'],
  ['accessDenied', 'dfu', 'listening'],
  ['protected', 'dfu', 'normal'],
  ['protected', 'auto', 'listening'],
  ['noSystemPart', 'auto', 'dfu'],
]

describe('fault matrix through the built binary (representative subset)', function () {
  this.timeout(120_000)

  it(`${SAMPLE.length} cases side by side: exit status, error code and phrase, DCT in the devices file, no violations`, async function () {
    const runs = await Promise.all(
      SAMPLE.map(async ([faultName, method, mode]) => {
        const fault = FAULTS.find((f) => f.name === faultName)!
        const file = devicesFile([device(mode, fault)])
        const r = await runJson<{devices: SetReport[]}>(['set', '--method', method, '--timeout', '1'], {env: {PARTICLE_VIRTUAL_DEVICES: file}})
        return {faultName, file, method, mode, r}
      }),
    )
    const problems: string[] = []
    const bugs: string[] = []
    for (const {faultName, file, method, mode, r} of runs) {
      const want = expected(faultName, method, mode)
      const after = readDevices(file)
      const report = r.json.devices?.[0]
      const got = {code: report?.error?.code, dct: after.devices[0].setupDone, exit: r.code, flag: report?.flag, violations: after.violations}
      const ok =
        got.exit === want.exit &&
        got.code === want.code &&
        got.dct === want.dct &&
        got.violations === undefined &&
        (!want.flag || got.flag === want.flag) &&
        (!want.phrase || want.phrase.test(report?.error?.message ?? `${report?.steps.join(' ')} ${report?.reason ?? ''}`)) &&
        (want.flag !== 'unknown' || !/does not apply/.test(report?.steps.join(' ') ?? '')) &&
        !r.stdout.includes('\n    at ') &&
        !r.stderr.includes('\n    at ')
      const line = `${faultName} --method ${method} from ${mode}: got ${JSON.stringify(got)}, want ${JSON.stringify({...want, phrase: String(want.phrase)})}`
      const bug = knownBug(faultName, resolve(method, mode), mode)
      if (!ok && bug) bugs.push(line)
      else if (!ok) problems.push(line)
      else if (bug) problems.push(`listed as a known bug but behaves as expected now: ${line}`)
    }
    expect(problems, problems.join('\n')).to.deep.equal([])
    expect(bugs, 'known bugs in the sample').to.deep.equal([])
  })
})
