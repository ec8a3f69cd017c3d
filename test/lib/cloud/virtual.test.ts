// The virtual cloud's fixtures (PARTICLE_VIRTUAL_CLOUD): each problem named by its path, the bundled examples found
// by name, and the Cloud client reaching the started server through particle-api-js at its own base URL.
import {expect} from 'chai'
import {join} from 'node:path'

import {realClock} from '../../../src/lib/clock.js'
import {Cloud} from '../../../src/lib/cloud/cloud.js'
import {loadSettings} from '../../../src/lib/cloud/settings.js'
import {bundledClouds, cloudFromFixture, resolveVirtualCloud} from '../../../src/lib/cloud/virtual-fixture.js'
import {ROOT} from '../../support/cli.js'

const EXAMPLES = join(ROOT, 'examples')
const ok = {id: 'e00fce681a2b3c4d5e6f7a8b', platform: 'argon'}

function problem(doc: unknown): string {
  try {
    cloudFromFixture(doc)
  } catch (error) {
    return (error as Error).message
  }
  return 'accepted'
}

describe('virtual cloud fixtures', () => {
  it('builds devices in the cloud\'s own shape (platform by name or ID, version, online, development)', () => {
    const cloud = cloudFromFixture({
      devices: [{deviceOs: '2.3.1', development: true, id: 'E00FCE681A2B3C4D5E6F7A8B', name: 'a', online: true, platform: 'boron'}],
      products: [{devices: [{id: 'e00fce680000000000000001', platformId: 999}], id: 7, slug: 'pumps'}],
      reports: false,
    })
    expect(cloud.devices).to.deep.equal([
      {connected: true, development: true, id: 'e00fce681a2b3c4d5e6f7a8b', last_handshake_at: undefined, last_heard: undefined, name: 'a', platform_id: 13, system_firmware_version: '2.3.1'},
    ])
    expect(cloud.products[0]).to.deep.include({id: 7, slug: 'pumps'})
    expect((cloud.products[0].devices[0] as {platform_id: number}).platform_id).to.equal(999)
    expect(cloud.reports).to.equal(false)
  })

  it('names the path of every problem', () => {
    expect(problem([])).to.contain('the document must be an object')
    expect(problem({device: []})).to.equal('the document has an unknown key "device" (known keys: devices, events, products, reports)')
    expect(problem({devices: [{id: 'e00f', platform: 'argon'}]})).to.equal('devices[0].id must be 24 hex digits')
    expect(problem({devices: [{...ok, platform: 'argonn'}]})).to.match(/^devices\[0\]\.platform must be a platform name/)
    expect(problem({devices: [{id: ok.id}]})).to.contain('needs "platform"')
    expect(problem({devices: [{...ok, online: 'yes'}]})).to.equal('devices[0].online must be true or false')
    expect(problem({devices: [{...ok, mode: 'dfu'}]})).to.contain('devices[0] has an unknown key "mode"')
    expect(problem({products: [{devices: [], id: '7', slug: 'p'}]})).to.equal('products[0].id must be a number (the product ID)')
    expect(problem({products: [{devices: [{...ok, deviceOs: 3}], id: 7, slug: 'p'}]})).to.equal('products[0].devices[0].deviceOs must be a string')
    expect(problem({devices: [ok], events: [{device: 'nobody', name: 'spark/status'}]})).to.equal('events[0].device must be the ID or name of one of "devices"')
    expect(problem({devices: [ok], events: [{afterSeconds: -1, device: ok.id, name: 'spark/status'}]})).to.contain('events[0].afterSeconds must be')
    expect(problem({devices: [ok], reports: 'no'})).to.equal('reports must be true or false')
  })

  it('finds bundled examples by bare name, and lists only the fixtures among them', () => {
    expect(resolveVirtualCloud('fleet', EXAMPLES)).to.equal(join(EXAMPLES, 'fleet.json'))
    expect(resolveVirtualCloud('fleet.json', EXAMPLES)).to.equal(join(EXAMPLES, 'fleet.json'))
    expect(resolveVirtualCloud('nothing', EXAMPLES)).to.equal(undefined)
    expect(resolveVirtualCloud('sub/fleet', EXAMPLES)).to.equal(undefined)
    expect(bundledClouds(EXAMPLES)).to.deep.equal(['fleet']) // the devices files are not clouds
  })

  it('PARTICLE_VIRTUAL_CLOUD: no login needed, no proxy; the client starts it and reaches it at its base URL', async () => {
    const settings = loadSettings({HTTPS_PROXY: 'http://proxy.invalid:3128', PARTICLE_VIRTUAL_CLOUD: 'fleet'}, EXAMPLES)
    expect(settings).to.include({from: 'PARTICLE_VIRTUAL_CLOUD', offline: false})
    expect(settings.proxyUrl).to.equal(undefined)
    const cloud = new Cloud(settings, realClock)
    expect(cloud.usable).to.equal(true)
    const page = await cloud.devicePage({page: 1, perPage: 3, product: 'pumps'})
    expect(page.ok).to.equal(true)
    const body = (page as {body: {devices: Array<{name: string}>; meta: {total_pages: number}}}).body
    expect(body.devices.map((d) => d.name)).to.deep.equal(['pump-07', 'pump-12', 'bench-unit'])
    expect(body.meta.total_pages).to.equal(3)
    expect(settings.apiUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await cloud.device('field-boron')).id).to.equal('e00fce681a2b3c4d5e6f7c01')
    expect(loadSettings({PARTICLE_OFFLINE: '1', PARTICLE_VIRTUAL_CLOUD: 'fleet'}, EXAMPLES).offline).to.equal(true)
  })
})
