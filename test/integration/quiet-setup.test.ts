// A quiet set-up: `npm ci` warns of no dependency's engines on the Node versions we develop on, and the repository
// names no package host (npm registry, Debian mirror...): .ci/run adds bookworm-backports from the mirror the
// machine already uses (its bookworm_mirror function, run here on sample source folders through APT_DIR).
// `npm run build` printing nothing of oclif's update check is checked where a fresh clone is set up
// (test/integration/pack.test.ts).
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'

import {ROOT, tempDir} from '../support/cli.js'

const semver = createRequire(import.meta.url)('semver') as {satisfies(version: string, range: string): boolean}

const script = readFileSync(join(ROOT, '.ci/run'), 'utf8')
const fn = /^bookworm_mirror\(\) \{[\s\S]*?^\}$/m.exec(script)?.[0] ?? ''

function mirror(files: Record<string, string>): {out: string; status: number} {
  const apt = tempDir('setup-flag-apt-')
  mkdirSync(join(apt, 'sources.list.d'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(apt, name), text)
  try {
    const out = execFileSync('bash', ['-c', `${fn}\nbookworm_mirror`], {encoding: 'utf8', env: {...process.env, APT_DIR: apt}})
    return {out: out.trim(), status: 0}
  } catch (error) {
    return {out: String((error as {stdout?: string}).stdout ?? '').trim(), status: (error as {status: number}).status}
  }
}

describe('.ci/run: bookworm-backports from the machine\'s own mirror', () => {
  it('is a function of the script, and the script names no mirror host', () => {
    expect(fn).to.match(/^bookworm_mirror\(\) \{/)
    expect(script).not.to.match(/URIs: *http/)
    expect(script).not.to.match(/\b(deb|security|archive|ftp)\.(debian|ubuntu)\.(org|com)\b/)
  })

  it('takes URIs and key from the deb822 block whose Suites has bookworm (not -security, not a disabled one)', () => {
    const r = mirror({
      'sources.list.d/a-security.sources': 'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n',
      'sources.list.d/b.sources': [
        'Types: deb',
        'URIs: http://off.example/debian',
        'Suites: bookworm',
        'Enabled: no',
        '',
        'Types: deb',
        '# a comment',
        'URIs: http://mirror.example/debian http://second.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        'Signed-By: /usr/share/keyrings/example.gpg',
        '',
      ].join('\n'),
    })
    expect(r).to.deep.equal({out: 'http://mirror.example/debian,http://second.example/debian /usr/share/keyrings/example.gpg', status: 0})
  })

  it('reads one-line sources with options, and fails when no bookworm entry exists', () => {
    expect(mirror({'sources.list': 'deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n'})).to.deep.equal({out: 'http://mirror.example/debian /k.gpg', status: 0})
    expect(mirror({'sources.list': 'deb http://mirror.example/debian bookworm main contrib\n'})).to.deep.equal({out: 'http://mirror.example/debian', status: 0})
    expect(mirror({'sources.list': 'deb http://mirror.example/debian trixie main\n'}).status).to.equal(1)
  })
})

describe('npm ci: no EBADENGINE on the Node versions we develop on', () => {
  // The development floor: mocha and c8 need 20.19 on the 20 line; users need only `engines`.
  const DEVELOPMENT = ['20.19.0', '22.13.0', '24.0.0', process.versions.node]

  it('every package in package-lock.json (dev ones too) accepts them', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {packages: Record<string, {engines?: Record<string, string> | string[]}>}
    const refused: string[] = []
    for (const [path, p] of Object.entries(lock.packages)) {
      const range = Array.isArray(p.engines) ? undefined : p.engines?.node
      if (!path || !range) continue
      for (const v of DEVELOPMENT) if (!semver.satisfies(v, range)) refused.push(`${path.replace(/^node_modules\//, '')} (${range}) refuses ${v}`)
    }
    expect(refused).to.deep.equal([])
  })
})

describe('the repository names no package host', () => {
  // Every host an http(s) URL in a tracked file points at is one of these: the project's own, Particle's, the
  // sources docs cite, loopback, example and reserved (.invalid, .test) hosts, and the funding pages
  // package-lock.json carries.
  const KNOWN = [
    /^github\.com$/,
    /^([\w-]+\.)?particle\.io$/,
    /^learn\.microsoft\.com$/,
    /^(127\.0\.0\.1|localhost)$/,
    /(^|\.)example(\.[a-z]+)?$/,
    /\.(invalid|test)$/,
    /^(opencollective\.com|www\.patreon\.com|paulmillr\.com|feross\.org)$/,
  ]

  it('no URL host outside the known ones (a registry or mirror would be one)', () => {
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {cwd: ROOT, encoding: 'utf8'}).split('\0').filter(Boolean)
    const unknown = new Set<string>()
    for (const f of files) {
      let text: string
      try {
        text = readFileSync(join(ROOT, f), 'utf8')
      } catch {
        continue // deleted in the work tree
      }
      for (const [, host] of text.matchAll(/https?:\/\/([a-z\d][\w.-]*[a-z\d])/gi)) {
        if (host.includes('.') && !KNOWN.some((k) => k.test(host.toLowerCase()))) unknown.add(`${host} (${f})`)
      }
    }
    expect([...unknown]).to.deep.equal([])
  })
})
