/**
 * The system this runs on, as Node's `process.platform` names it ('linux', 'win32', 'darwin'): the advice of a USB
 * error depends on it (usb/errors.ts). This is the Node adapter; the page's bundle (scripts/build-web.js) puts
 * src/web/host.ts in its place, which asks the browser instead (docs/architecture.md, "Layers").
 */
export function hostSystem(): string {
  return process.platform
}
