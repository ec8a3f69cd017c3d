// Where the page cannot work, decided from what the browser tells, and the grants the page has seen (the second
// permission is asked exactly for a product ID of a device not seen before, whatever the page was reloaded).
import {expect} from 'chai'

import {webSupport} from '../../../src/lib/web/environment.js'
import {Grants, memoryStore} from '../../../src/lib/web/grants.js'

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36'
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'
const IOS_CHROME = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1'

describe('web: where the page can work', () => {
  it('an insecure page first (the cure is its address), then a browser without WebUSB, by name', () => {
    const at = (o: {hasUsb: boolean; secure: boolean; userAgent: string}) => webSupport({origin: 'http://bench.example:8080', ...o})
    expect(at({hasUsb: false, secure: false, userAgent: CHROME})).to.deep.equal({kind: 'insecure', origin: 'http://bench.example:8080'})
    expect(at({hasUsb: false, secure: true, userAgent: FIREFOX})).to.deep.equal({browser: 'firefox', kind: 'no-webusb'})
    expect(at({hasUsb: false, secure: true, userAgent: SAFARI})).to.deep.equal({browser: 'safari', kind: 'no-webusb'})
    expect(at({hasUsb: false, secure: true, userAgent: IOS_CHROME})).to.deep.equal({browser: 'ios', kind: 'no-webusb'})
    expect(at({hasUsb: true, secure: true, userAgent: CHROME})).to.deep.equal({kind: 'ok'})
  })

  it('grants: by serial number and product ID, kept in the store across loads', () => {
    const store = memoryStore()
    const g = new Grants(store)
    expect(g.has('E00FCE681A2B3C4D5E6F7A03', 0xc017)).to.equal(false)
    g.add({productId: 0xc017, serialNumber: 'E00FCE681A2B3C4D5E6F7A03'})
    expect(g.has('e00fce681a2b3c4d5e6f7a03', 0xc017)).to.equal(true)
    expect(g.has('e00fce681a2b3c4d5e6f7a03', 0xd017)).to.equal(false) // DFU mode: another product ID
    expect(new Grants(store).has('e00fce681a2b3c4d5e6f7a03', 0xc017)).to.equal(true)
    store.write('not json')
    expect(new Grants(store).has('e00fce681a2b3c4d5e6f7a03', 0xc017)).to.equal(false)
  })
})
