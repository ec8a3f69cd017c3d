/**
 * The errors of the virtual devices and the virtual cloud (PARTICLE_VIRTUAL_DEVICES, PARTICLE_VIRTUAL_CLOUD,
 * `virtual press`): a devices file or a fixture that cannot be used, a bundled example mistyped, a press that cannot
 * be made. Made as every other error is (error.ts), their words composed here from the data the caller passes; the
 * errors of real devices and of the cloud are in errors.ts. docs/architecture.md, "Words".
 */
import {makeError as make, suggestRun as run} from './error.js'
import {EXIT} from './exits.js'
import {oneLine} from './redact.js'
import {connectedNow, listText, type Nearby} from './words.js'

const devicesFileShape = 'Its shape: {"devices": [{"id": "<24 hex>", "platform": "argon", "deviceOs": "3.3.1", "mode": "listening", "setupDone": 255, "faults": {}}]}'

export const virtualErrors = {
  devicesFile: (file: string, problem: string, cause?: unknown) =>
    make('SETUP_FLAG_DEVICES_FILE', EXIT.USAGE, `The virtual devices file ${file} is not usable: ${problem}.`, ['Fix the file, or unset PARTICLE_VIRTUAL_DEVICES to use real USB.', devicesFileShape], {cause}),
  /** PARTICLE_VIRTUAL_DEVICES=`value` names no file and no bundled example; `examples`: the bundled ones, closest first. */
  unknownExample: (value: string, examples: string[]) =>
    make('SETUP_FLAG_DEVICES_FILE', EXIT.USAGE, `PARTICLE_VIRTUAL_DEVICES=${oneLine(value)} names no file, and no bundled example has that name. The bundled examples, closest first: ${examples.join(', ')}.`, [
      `Name one of them (PARTICLE_VIRTUAL_DEVICES=${examples[0]}), or give the path of a devices file of your own.`,
    ]),
  devicesFileWrite: (file: string, problem: string, cause?: unknown) =>
    make('SETUP_FLAG_DEVICES_FILE_WRITE', EXIT.USAGE, `The virtual devices file ${file} could not be written back (${problem}); the virtual devices' state is not saved.`, [
      'Make the file and its folder writable for this user (a temporary file and a .lock file are created beside it), or point PARTICLE_VIRTUAL_DEVICES at a copy in a writable folder.',
    ], {cause}),
  /** `virtual press` words that are no button press (`unknown`, with the press `closest` to it), or none; `presses`: those that are. */
  pressWords: (o: {closest?: string; presses: readonly string[]; unknown?: string}) =>
    make('SETUP_FLAG_USAGE', EXIT.USAGE, `${o.unknown === undefined ? '`virtual press` needs the buttons to press' : `"${oneLine(o.unknown)}" is not a button press`}: ${listText(o.presses.map((p) => `\`${p}\``))}, one or more, then the device when there are several (replug is unplug then plug).`, [
      run(o.closest ? 'Did you mean `' : 'For example: `', `virtual press ${o.closest ?? 'safe-mode'}`, o.closest ? '`?' : '`.'),
    ]),
  /** `virtual press` has nothing to press: real USB, a bundled example no run uses (a fresh copy's press is lost), no such device. */
  virtualPress: (p: {kind: 'not-virtual'} | {example: string; kind: 'example-unused'} | {arg?: string; devices: Nearby[]; file: string; kind: 'no-device'}) => {
    if (p.kind === 'not-virtual') {
      return make('SETUP_FLAG_VIRTUAL_PRESS', EXIT.USAGE, '`virtual press` presses the buttons of virtual devices, and PARTICLE_VIRTUAL_DEVICES is not set: press a real device\'s buttons by hand.', [
        run('To try it: PARTICLE_VIRTUAL_DEVICES=blocked-boron ', 'doctor', ' in one terminal, and the `virtual press` it shows in another.'),
      ])
    }
    if (p.kind === 'example-unused') {
      return make('SETUP_FLAG_VIRTUAL_PRESS', EXIT.NO_DEVICE, `No run is using the bundled example ${p.example} now, so there is nothing to press: each run starts from a fresh copy of it, unless another run is using it.`, [
        run(`Start the doctor first, in another terminal (PARTICLE_VIRTUAL_DEVICES=${p.example} `, 'doctor', '), then press while it runs.'),
        `Or copy it to a file of your own, whose devices keep their state from run to run, and set PARTICLE_VIRTUAL_DEVICES to its path.`,
      ])
    }
    const message = p.arg === undefined ? `The virtual devices file ${p.file} holds no device.` : `No device "${oneLine(p.arg)}" in the virtual devices file ${p.file}.${connectedNow(p.devices, 'Its devices')}`
    return make('SETUP_FLAG_VIRTUAL_PRESS', EXIT.NO_DEVICE, message, ['Name one of its devices by ID, the first 6 or more digits of its ID, or its name.'])
  },
  /** The fixture PARTICLE_VIRTUAL_CLOUD names cannot be used (`what`: the value or the file; `problem`: why). */
  virtualCloud: (what: string, problem: string, cause?: unknown) =>
    make('SETUP_FLAG_VIRTUAL_CLOUD', EXIT.USAGE, `The virtual cloud ${oneLine(what)} is not usable: ${oneLine(problem)}.`, [
      'Fix the file, or unset PARTICLE_VIRTUAL_CLOUD to use the Particle Cloud.',
      'Its shape: {"devices": [{"id": "<24 hex>", "name": "pump-07", "platform": "boron", "deviceOs": "2.3.1", "online": true}], "products": [{"id": 12345, "slug": "pumps", "devices": [...]}], "events": [{"device": "pump-07", "name": "spark/status", "data": "online", "afterSeconds": 5}]}',
    ], {cause}),
}
