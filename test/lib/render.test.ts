import {expect} from 'chai'

import {commandLine, forHost} from '../../src/lib/render.js'

describe('command names for the CLI that runs us', () => {
  it('keeps the standalone shorthand, and adds the topic inside another host', () => {
    expect(commandLine('particle-setup-flag', 'set abc')).to.equal('particle-setup-flag set abc')
    expect(commandLine('acme', 'set abc')).to.equal('acme setup-flag set abc')
    const text = 'Run `particle-setup-flag get`, then particle-setup-flag set x; eval "$(particle-setup-flag setup-flag shell-init bash)"'
    expect(forHost(text, 'particle-setup-flag')).to.equal(text)
    expect(forHost(text, 'acme')).to.equal('Run `acme setup-flag get`, then acme setup-flag set x; eval "$(acme setup-flag shell-init bash)"')
    expect(forHost('PARTICLE_VIRTUAL_DEVICES=x particle-setup-flag-tools get', 'acme')).to.equal('PARTICLE_VIRTUAL_DEVICES=x particle-setup-flag-tools get')
  })
})
