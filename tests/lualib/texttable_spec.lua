-- The tables CLIs print for people, as the dataos recipe reads them
-- (dataos.lua).
local texttable = require 'tokrun.texttable'

-- `dataos-ctl user apikey create` as the DataOS CLI reference shows it.
local DATAOS = [[
INFO[0000] 🔑 user apikey create...
INFO[0001] 🔑 user apikey create...complete

                  TOKEN                 │  TYPE  │      EXPIRATION      │         NAME
────────────────────────────────────────┼────────┼──────────────────────┼───────────────────────
  dG9rZW5fYWJjZGVmZ2hpams.NTY3ODkw      │ apikey │ 2024-12-01T10:00:00Z │ token_weekly_secure
]]

describe('texttable.parse', function()
  it('reads the DataOS apikey table', function()
    local rows, header = texttable.parse(DATAOS)
    assert.same({ 'TOKEN', 'TYPE', 'EXPIRATION', 'NAME' }, header)
    assert.same({ {
      TOKEN = 'dG9rZW5fYWJjZGVmZ2hpams.NTY3ODkw', TYPE = 'apikey',
      EXPIRATION = '2024-12-01T10:00:00Z', NAME = 'token_weekly_secure',
    } }, rows)
  end)

  it('reads an ASCII table with and without spaces around the bars', function()
    local rows = texttable.parse(table.concat({
      'TOKEN | TYPE | EXPIRATION | NAME',
      '------|------|------------|-----',
      'abc.def|apikey|2024-12-01T10:00:00Z|weekly',
      '| ghi | apikey | 2025-01-01T00:00:00Z | daily |',
    }, '\n'))
    assert.same({
      { TOKEN = 'abc.def', TYPE = 'apikey', EXPIRATION = '2024-12-01T10:00:00Z', NAME = 'weekly' },
      { TOKEN = 'ghi', TYPE = 'apikey', EXPIRATION = '2025-01-01T00:00:00Z', NAME = 'daily' },
    }, rows)
  end)

  it('upper-cases header names and keeps empty cells', function()
    local rows = texttable.parse('+----+------+\n| Token | name |\n+====+======+\n| t1 |  |\r\n')
    assert.same({ { TOKEN = 't1', NAME = '' } }, rows)
  end)

  it('skips WARN, DEBU and ERRO lines and colour codes', function()
    local rows = texttable.parse('  WARN[0000] expiring soon\nDEBU[0000] x | y\n'
      .. '\27[1mTOKEN\27[0m │ NAME\nt │ n\nERRO[0002] late | noise\n')
    assert.same({ { TOKEN = 't', NAME = 'n' } }, rows)
  end)

  it('reports a row with the wrong number of cells by line', function()
    local rows, err = texttable.parse('TOKEN | TYPE\n------|-----\nabc | apikey | extra\n')
    assert.is_nil(rows)
    assert.equal('line 3: expected 2 cells, got 3', err)
  end)

  it('refuses output that is only log lines (a CLI error)', function()
    local rows, err = texttable.parse('INFO[0000] 🔑 user apikey create...\n'
      .. 'ERRO[0001] 🔑 user apikey create...error\nERRO[0001] unauthorized: token expired\n')
    assert.is_nil(rows)
    assert.equal('no table in the output', err)
  end)

  it('refuses empty output', function()
    assert.is_nil((texttable.parse('')))
    assert.is_nil((texttable.parse('\n\n  \n')))
  end)

  it('refuses garbage: a header with no rows', function()
    local rows, err = texttable.parse('Error: unknown command "apikey" for "dataos-ctl user"\n')
    assert.is_nil(rows)
    assert.equal('the table has a header but no rows', err)
  end)

  it('refuses garbage: lines that do not line up', function()
    local rows, err = texttable.parse('panic: runtime error\n\ngoroutine 1 [running]:\nmain.main() | x\n')
    assert.is_nil(rows)
    assert.equal('line 4: expected 1 cells, got 2', err)
  end)

  it('refuses a header with an empty column name', function()
    local rows, err = texttable.parse('TOKEN || NAME\na | b | c\n')
    assert.is_nil(rows)
    assert.equal('line 1: column 2 has no name', err)
  end)

  it('raises when not given a string', function()
    assert.has_error(function() texttable.parse(nil) end)
  end)
end)

describe('texttable on hostile output', function()
  it('reads a row padded with a megabyte of spaces (trimming is linear, not quadratic)', function()
    local pad = string.rep(' ', 1024 * 1024)
    local rows = assert(require('tokrun.texttable').parse('TOKEN | NAME\n a' .. pad .. 'b | n\n'))
    assert.equal('a' .. pad .. 'b', rows[1].TOKEN)
  end)
end)
