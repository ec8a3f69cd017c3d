/** Words for devices away from the desk: the card for the person on site, and the caveat before a flash. */
import {SAFE_MODE_BUTTONS} from '../instructions.js'

/** The instructions for the person next to a device in the field, and how long we wait for it. */
export function onSiteCard(who: string, waitMs: number): string {
  const minutes = Math.round(waitMs / 60_000)
  const buttons = SAFE_MODE_BUTTONS.charAt(0).toUpperCase() + SAFE_MODE_BUTTONS.slice(1)
  return [
    `For the person next to ${who} (it is offline; nothing needs a computer there):`,
    '  1. Keep it powered, with its antenna connected and its Wi-Fi or cellular network in range.',
    `  2. ${buttons}.`,
    '  3. It now connects from Safe Mode (breathing magenta). Leave it alone: it is flashed from here the moment it',
    '     comes online, restarts a few times, and reports back. Do not unplug it until told it is done.',
    '',
    `Waiting up to ${minutes >= 2 ? `${minutes} minutes` : `${Math.round(waitMs / 1000)} s`} for it to come online; Ctrl-C stops the wait, and then nothing is flashed.`,
  ].join('\n')
}

/** The caveat shown before flashing the preparatory firmware. */
export function caveatText(): string {
  return 'The preparatory firmware replaces the application until production firmware is flashed back. It writes one byte of the configuration flash (DCT offset 8134); a power loss or reset during that write can corrupt the DCT, and with it the device keys and cloud settings. Keep the device powered and online until it reports back.'
}

/** The progress line while a device in the field is awaited. */
export const onlineWaitTitle = (who: string) => `Waiting for ${who} to come online`

/** The question before flashing, after the caveat. */
export const flashQuestion = (who: string) => `Flash the preparatory firmware to ${who}?`
