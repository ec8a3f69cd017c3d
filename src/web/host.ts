/**
 * The system the page runs on, named as Node's `process.platform` names it (the browser side of src/lib/host.ts,
 * swapped in by scripts/build-web.js): a USB error's advice depends on it, as in the CLI.
 */
export function hostSystem(): string {
  const nav = navigator as Navigator & {userAgentData?: {platform?: string}}
  const p = (nav.userAgentData?.platform || navigator.platform || navigator.userAgent).toLowerCase()
  if (p.startsWith('win')) return 'win32'
  if (p.startsWith('mac')) return 'darwin'
  if (p.includes('android')) return 'android'
  if (p.includes('cros') || p.includes('chrome os')) return 'chromeos'
  if (p.includes('linux')) return 'linux'
  return p
}
