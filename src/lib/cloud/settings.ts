/**
 * The official Particle CLI's settings, read (never written): `~/.particle/profile.json` names the active
 * profile (default "particle"), `~/.particle/<profile>.config.json` holds `apiUrl` and `access_token`. So
 * `particle login` and `particle profile <name>` just work here too.
 *
 * The official CLI has no environment overrides; scripts and CI get ours:
 *   PARTICLE_PROFILE       use this profile instead of the one in profile.json
 *   PARTICLE_API_URL       cloud base URL (default https://api.particle.io)
 *   PARTICLE_ACCESS_TOKEN  access token (takes precedence over the profile's)
 *   PARTICLE_OFFLINE=1     never call the cloud (same as --offline)
 *   PARTICLE_VIRTUAL_CLOUD a virtual cloud in this process instead (a fixture file, or a bundled example's name:
 *                          virtual.ts); it needs no login, and takes the place of the API URL, token and proxy
 * Proxies: the profile's `proxyUrl`, else HTTPS_PROXY / HTTP_PROXY (either case), with NO_PROXY honoured as
 * the official CLI 3.47+ does (`*` or comma-separated host suffixes).
 */
import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {errors} from '../errors.js'
import {addSecret, addUrlSecrets} from '../redact.js'

export const DEFAULT_API_URL = 'https://api.particle.io'

export interface CloudSettings {
  accessToken?: string
  apiUrl: string
  /** The file the token came from, or the environment variable. */
  from: string
  offline: boolean
  profile: string
  proxyUrl?: string
  /** The deadline of one cloud request in ms (--timeout when given); default CLOUD_DEADLINE_MS. */
  timeoutMs?: number
  /**
   * PARTICLE_VIRTUAL_CLOUD's value and the folder of bundled examples: the cloud client starts it (virtual.ts)
   * when it first needs the cloud, and points `apiUrl` at it.
   */
  virtualCloud?: {examples?: string; value: string}
}

/** Home as the official CLI finds it: `home`, `HOME`, `HOMEPATH`, `USERPROFILE`, then the OS. */
export function particleDir(env: NodeJS.ProcessEnv): string {
  const home = [env.home, env.HOME, env.HOMEPATH, env.USERPROFILE].find((h) => h && existsSync(h)) ?? homedir()
  return join(home, '.particle')
}

function readJson(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw errors.settingsNotJson(file, error)
  }
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {}
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined)

/** `examples`: this package's examples folder, where PARTICLE_VIRTUAL_CLOUD finds a bundled example by name. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, examples?: string): CloudSettings {
  const virtual = str(env.PARTICLE_VIRTUAL_CLOUD)
  if (virtual) {
    // Loopback: no proxy, and a token of its own (not a secret; the virtual cloud accepts exactly this one).
    const offline = /^(1|true|yes)$/i.test(env.PARTICLE_OFFLINE ?? '')
    return {accessToken: 'virtual-cloud-token', apiUrl: 'http://127.0.0.1', from: 'PARTICLE_VIRTUAL_CLOUD', offline, profile: 'virtual', virtualCloud: {examples, value: virtual}}
  }
  const dir = particleDir(env)
  const profile = str(env.PARTICLE_PROFILE) ?? str(readJson(join(dir, 'profile.json'))?.name) ?? 'particle'
  if (!/^[\w.-]+$/.test(profile)) {
    throw errors.badProfile(profile)
  }
  const configFile = join(dir, `${profile}.config.json`)
  const config = readJson(configFile) ?? {}
  const envToken = str(env.PARTICLE_ACCESS_TOKEN)
  const offline = /^(1|true|yes)$/i.test(env.PARTICLE_OFFLINE ?? '')
  const settings = {
    accessToken: envToken ?? str(config.access_token),
    apiUrl: (str(env.PARTICLE_API_URL) ?? str(config.apiUrl) ?? DEFAULT_API_URL).replace(/\/+$/, ''),
    from: envToken ? 'PARTICLE_ACCESS_TOKEN' : configFile,
    offline,
    profile,
    proxyUrl: str(config.proxyUrl) ?? proxyFromEnv(env, str(env.PARTICLE_API_URL) ?? str(config.apiUrl) ?? DEFAULT_API_URL),
  }
  // No output of this run may show them, whatever echoes them (an HTTP body, a debug line, a URL in a message).
  addSecret(settings.accessToken)
  addUrlSecrets(settings.apiUrl)
  addUrlSecrets(settings.proxyUrl)
  return settings
}

/** The proxy for `url` from the environment, unless NO_PROXY exempts its host. */
export function proxyFromEnv(env: NodeJS.ProcessEnv, url: string): string | undefined {
  const proxy = str(env.HTTPS_PROXY) ?? str(env.https_proxy) ?? str(env.HTTP_PROXY) ?? str(env.http_proxy)
  if (!proxy) return undefined
  let host: string
  try {
    host = new URL(url).hostname.toLowerCase()
  } catch {
    return proxy
  }
  const noProxy = (str(env.NO_PROXY) ?? str(env.no_proxy) ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  for (const entry of noProxy) {
    if (entry === '*') return undefined
    const suffix = entry.replace(/^\*?\.?/, '')
    if (host === suffix || host.endsWith(`.${suffix}`)) return undefined
  }
  return proxy
}
