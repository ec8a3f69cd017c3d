/**
 * Whether this browser can reach a USB device from this page, decided before anything is offered: WebUSB exists
 * only in Chromium browsers (Chrome, Edge, Opera; not Firefox, Safari, nor any browser on iOS), and only for pages
 * in a secure context (https, or http on this computer: 127.0.0.1, localhost). The page's words for each are in
 * text/web.ts.
 */

import {type Browser, type Support} from '../text/web.js'

export type {Browser, Support} from '../text/web.js'

export interface BrowserFacts {
  hasUsb: boolean
  origin: string
  secure: boolean
  userAgent: string
}

/** Which browser lacks WebUSB, by its user agent (only to name it in the page's words). */
export function browserOf(userAgent: string): Browser {
  if (/iPhone|iPad|iPod/.test(userAgent)) return 'ios'
  if (/Firefox\//.test(userAgent)) return 'firefox'
  if (/Safari\//.test(userAgent) && !/Chrome\/|Chromium\//.test(userAgent)) return 'safari'
  return 'other'
}

/** Insecure first: a Chromium browser hides navigator.usb from an insecure page, and the cure is the address. */
export function webSupport(f: BrowserFacts): Support {
  if (!f.secure) return {kind: 'insecure', origin: f.origin}
  if (!f.hasUsb) return {kind: 'no-webusb', browser: browserOf(f.userAgent)}
  return {kind: 'ok'}
}
