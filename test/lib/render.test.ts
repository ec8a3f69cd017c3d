import {expect} from 'chai'

import {commandLine} from '../../src/lib/cli.js'
import {errors} from '../../src/lib/errors.js'

describe('command names for the CLI that runs us', () => {
  it('keeps the standalone shorthand, and adds the topic inside another host', () => {
    expect(commandLine({bin: 'particle-setup-flag'}, 'set abc')).to.equal('particle-setup-flag set abc')
    expect(commandLine({bin: 'acme'}, 'set abc')).to.equal('acme setup-flag set abc')
  })

  it('words that name our commands are composed for the CLI the person typed, not rewritten afterwards', () => {
    const e = errors.badDeviceId('x')
    expect(e.toJSON().suggestions.join(' ')).to.contain('`particle-setup-flag get`')
    expect(e.toJSON({bin: 'acme'}).suggestions.join(' ')).to.contain('`acme setup-flag get`')
    expect(e.words({bin: 'acme'}).suggestions.join(' ')).not.to.contain('particle-setup-flag')
  })
})
