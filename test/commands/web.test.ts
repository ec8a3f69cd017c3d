// `particle-setup-flag web` through the built binary: the page served on 127.0.0.1 (nothing else: a path outside
// the folder is a 404, a POST a 405), its address printed, Ctrl-C stops it with status 0; a port in use is said as
// such (status 2); the help names the exit statuses from the one table.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'

import {BIN, ROOT, runCli} from '../support/cli.js'
import {serveWeb} from '../support/web-server.js'

describe('web command', function () {
  this.timeout(60_000)

  it('serves the page on 127.0.0.1 and stops on Ctrl-C with status 0', async () => {
    const served = await serveWeb()
    const page = await fetch(served.url)
    expect(page.status).to.equal(200)
    expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8')
    expect(await page.text()).to.contain('<script type="module" src="app.js"></script>')
    const app = await fetch(new URL('app.js', served.url))
    expect([app.status, app.headers.get('content-type')]).to.deep.equal([200, 'text/javascript; charset=utf-8'])
    expect((await fetch(new URL('style.css', served.url))).status).to.equal(200)
    expect((await fetch(`${served.url}..%2Fpackage.json`)).status).to.equal(404)
    expect((await fetch(new URL('meta.json', served.url))).status).to.equal(404)
    expect((await fetch(served.url, {method: 'POST'})).status).to.equal(405)
    const {code, stdout} = await served.stop()
    expect(code).to.equal(0)
    expect(stdout).to.match(/^The web doctor is served at http:\/\/127\.0\.0\.1:\d+\/\nOpen it in Chrome or Edge\. Ctrl-C stops the server\.\nStopped serving the web doctor\.\n$/)
  })

  it('a --port in use: said as such, status 2', async () => {
    const served = await serveWeb()
    const port = new URL(served.url).port
    const r = spawnSync(process.execPath, [BIN, 'web', '--no-open', '--port', port], {cwd: ROOT, encoding: 'utf8', timeout: 30_000})
    await served.stop()
    expect(r.status).to.equal(2)
    expect(r.stderr).to.contain(`Port ${port} of 127.0.0.1 is in use by another program.`)
    expect(r.stderr).to.contain(`particle-setup-flag web --port ${Number(port) + 1}`)
  })

  it('its help: what it does and its exit statuses', async () => {
    const help = await runCli(['web', '--help'])
    const text = help.stdout.replaceAll(/\s+/g, ' ')
    expect(text).to.contain('Serves the web doctor on http://127.0.0.1')
    expect(text).to.contain('Exit status: 0 when stopped with Ctrl-C; 1 the page is not built (or a bug), 2 bad input, or the --port is in use, 141')
    expect(text).to.contain('--[no-]open')
  })
})
