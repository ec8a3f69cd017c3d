// The audit's CSV cells, for spreadsheets.
import {expect} from 'chai'

import {csvCell, csvLine} from '../../../src/lib/audit/report.js'

describe('audit CSV cells', () => {
  it('quotes as RFC 4180 says, and defuses text a spreadsheet would run as a formula', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', null, true, 3])).to.equal('a,"b,c","say ""hi""","two\nlines",,true,3')
    expect(csvCell('=HYPERLINK("x")')).to.equal(`"'=HYPERLINK(""x"")"`)
    expect(csvCell('+1')).to.equal("'+1")
    expect(csvCell('@cmd')).to.equal("'@cmd")
    expect(csvCell('-3')).to.equal("'-3")
  })
})
