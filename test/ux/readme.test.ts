// The README serves the person with a blinking device first: its first screen names the
// command to run; one spelling of each command; one exit-status table for all commands; links stay inside the
// repository; the two set-up commands for a clone stay exactly as they are.
import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {EXIT} from '../../src/lib/errors.js'
import {exitTableMarkdown} from '../../src/lib/text/help.js'
import {ROOT} from '../support/cli.js'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

describe('README, for users first', () => {
  it('the first screen (24 lines) says which command to run for a device blinking dark blue, and how to install it', () => {
    const first = readme.split('\n').slice(0, 24).join('\n')
    expect(first).to.match(/blink\w* dark blue/)
    expect(first).to.contain('particle-setup-flag doctor')
    // The install that works today (from the clone); the registry's is named only as what it will be once published.
    expect(first).to.contain('`npm install -g .`')
    expect(readme.indexOf('npm install -g particle-plugin-setup-flag')).to.be.greaterThan(readme.indexOf('npm ci && npm run build && npm install -g .'))
    expect(readme).to.match(/Once the package is published, `npm install -g particle-plugin-setup-flag`/)
    expect(readme).to.contain('npm uninstall -g particle-plugin-setup-flag')
  })

  it('keeps the two set-up commands of a clone exactly', () => {
    expect(readme).to.contain('npm ci && npm run build && PARTICLE_VIRTUAL_DEVICES=examples/mixed-bench.json ./bin/run.js get\nnpm test\n')
  })

  it('one spelling of each command; ./bin/run.js only where building from source', () => {
    expect(readme).not.to.contain('particle-setup-flag setup-flag ')
    // The guide has the README open with the two set-up commands of a clone; the rest, up to the one link to
    // the development material, is for users.
    const setup = 'npm ci && npm run build && PARTICLE_VIRTUAL_DEVICES=examples/mixed-bench.json ./bin/run.js get\n'
    expect(readme.indexOf(setup), 'the set-up commands open the README').to.be.within(0, 1200)
    const users = readme.slice(0, readme.indexOf('## Development')).replace(setup, '')
    expect(users).not.to.contain('./bin/run.js')
    expect(users).not.to.match(/`setup-flag (get|set|doctor)/)
  })

  it('one exit-status table, with every status the commands use', () => {
    expect(readme.match(/\| status \| meaning/g)).to.have.length(1)
    for (const status of Object.values(EXIT)) expect(readme, String(status)).to.match(new RegExp(`^\\| ${status} \\|`, 'm'))
    // The table is the exit table of the code (src/lib/exits.ts), word for word, as each command's help is.
    expect(readme).to.contain(exitTableMarkdown())
  })

  it('links stay inside the repository and resolve', () => {
    for (const file of ['README.md', 'docs/details.md', 'docs/development.md']) {
      const text = readFileSync(join(ROOT, file), 'utf8')
      for (const [, target] of text.matchAll(/\]\(([^)#]+)(?:#[^)]*)?\)/g)) {
        expect(target, `${file}: ${target}`).not.to.match(/^https?:|^\.\.\/\.\./)
        expect(existsSync(join(ROOT, dirname(file), target)), `${file}: ${target}`).to.equal(true)
      }
      expect(text).not.to.contain('shared/docs')
    }
  })
})
