/**
 * What only tests need beside the virtual cloud (src/lib/cloud/virtual.ts, the one implementation the suite and
 * PARTICLE_VIRTUAL_CLOUD share): a HOME whose official-CLI profile is logged in to it.
 */
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {VirtualCloud} from '../../src/lib/cloud/virtual.js'

/** A fresh HOME whose official-CLI profile is logged in to this cloud (token and API URL). */
export function profileHome(cloud: VirtualCloud): string {
  const home = mkdtempSync(join(tmpdir(), 'setup-flag-home-'))
  mkdirSync(join(home, '.particle'))
  writeFileSync(join(home, '.particle', 'particle.config.json'), JSON.stringify({access_token: cloud.token, apiUrl: cloud.url}))
  return home
}
