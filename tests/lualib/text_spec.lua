-- tokrun.text: helpers the parsers share.
local text = require 'tokrun.text'

describe('text.trim', function()
  it('drops leading and trailing whitespace only', function()
    assert.equal('a b', text.trim('  a b \t\n'))
    assert.equal('x', text.trim('x'))
    assert.equal('', text.trim(' \t\r\n '))
    assert.equal('', text.trim(''))
  end)

  -- '^%s*(.-)%s*$' took about 50 s on such a line (issue 9)
  it('trims 100 KB of spaces on either side of a value in one pass', function()
    local pad = (' '):rep(100000)
    assert.equal('v a l', text.trim(pad .. 'v a l' .. pad))
  end)
end)
