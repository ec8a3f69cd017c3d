/** What the adversarial suite shares. */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {tempDir} from '../support/cli.js'

/** A HOME whose default Particle CLI profile holds `config` (access_token, apiUrl, proxyUrl). */
export function profileHome(config: Record<string, unknown>): string {
  const dir = tempDir('setup-flag-home-')
  mkdirSync(join(dir, '.particle'))
  writeFileSync(join(dir, '.particle', 'particle.config.json'), JSON.stringify(config))
  return dir
}
