// The official CLI's settings, read and never written; our environment overrides; proxies as CLI 3.47+ does.
import {expect} from 'chai'
import {mkdirSync, mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DEFAULT_API_URL, loadSettings, proxyFromEnv} from '../../../src/lib/cloud/settings.js'

function home(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'settings-'))
  mkdirSync(join(dir, '.particle'))
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, '.particle', name), typeof content === 'string' ? content : JSON.stringify(content))
  }
  return dir
}

describe('Particle CLI settings', () => {
  it('reads the active profile and its config; defaults to the particle profile and the public cloud', () => {
    const h = home({'particle.config.json': {access_token: 'a1'}, 'profile.json': {name: 'staging'}, 'staging.config.json': {access_token: 's1', apiUrl: 'http://x:1/'}})
    expect(loadSettings({HOME: h})).to.deep.include({accessToken: 's1', apiUrl: 'http://x:1', profile: 'staging'})
    expect(loadSettings({HOME: home({'particle.config.json': {access_token: 'a1'}})})).to.deep.include({accessToken: 'a1', apiUrl: DEFAULT_API_URL, profile: 'particle'})
    expect(loadSettings({HOME: home({})}).accessToken).to.equal(undefined)
  })

  it('honours our environment overrides, and never writes the files', () => {
    const h = home({'other.config.json': {access_token: 'o1'}, 'particle.config.json': {access_token: 'a1'}})
    const before = readdirSync(join(h, '.particle')).sort()
    expect(loadSettings({HOME: h, PARTICLE_PROFILE: 'other'}).accessToken).to.equal('o1')
    expect(loadSettings({HOME: h, PARTICLE_ACCESS_TOKEN: 'env', PARTICLE_API_URL: 'http://y'})).to.deep.include({accessToken: 'env', apiUrl: 'http://y', from: 'PARTICLE_ACCESS_TOKEN'})
    expect(loadSettings({HOME: h, PARTICLE_OFFLINE: '1'}).offline).to.equal(true)
    expect(readdirSync(join(h, '.particle')).sort()).to.deep.equal(before)
  })

  it('a broken file is a clear error naming it; a bad profile name too', () => {
    const h = home({'profile.json': '{"name": '})
    expect(() => loadSettings({HOME: h})).to.throw(/profile\.json is not valid JSON/)
    expect(() => loadSettings({HOME: home({}), PARTICLE_PROFILE: '../etc'})).to.throw(/not a valid Particle CLI profile name/)
  })

  it('takes the proxy from the profile, else HTTPS_PROXY / HTTP_PROXY, unless NO_PROXY exempts the host', () => {
    const url = 'https://api.particle.io'
    expect(proxyFromEnv({HTTPS_PROXY: 'http://p:3128'}, url)).to.equal('http://p:3128')
    expect(proxyFromEnv({http_proxy: 'http://q:3128'}, url)).to.equal('http://q:3128')
    expect(proxyFromEnv({HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'particle.io'}, url)).to.equal(undefined)
    expect(proxyFromEnv({HTTPS_PROXY: 'http://p:3128', NO_PROXY: '.particle.io'}, url)).to.equal(undefined)
    expect(proxyFromEnv({HTTPS_PROXY: 'http://p:3128', no_proxy: 'example.com, *'}, url)).to.equal(undefined)
    expect(proxyFromEnv({HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'example.com'}, url)).to.equal('http://p:3128')
    expect(proxyFromEnv({HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'icle.io'}, url)).to.equal('http://p:3128') // suffix on a label boundary only
    const h = home({'particle.config.json': {access_token: 'a', proxyUrl: 'http://profile:8080'}})
    expect(loadSettings({HOME: h, HTTPS_PROXY: 'http://env:1'}).proxyUrl).to.equal('http://profile:8080')
  })
})
