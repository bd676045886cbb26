-- The host: lualib, precompiled and linked into the binary, keeps what a
-- traceback needs (the file and its lines) though the names of locals and
-- upvalues are left out of the chunks.
describe('the host', function()
  it('loads lualib modules that name their file and lines', function()
    local output = require 'tokrun.output'
    local info = debug.getinfo(output.render, 'SL')
    assert.matches('lualib/tokrun/output%.lua$', info.source)
    assert.is_not_nil(next(info.activelines))
    local ok, err = pcall(output.render, nil, 'json')
    assert.is_false(ok)
    assert.matches('lualib/tokrun/output%.lua:%d+:', err)
  end)

  it('finds an embedded module through its searcher, with the source path as loader data', function()
    local searcher = package.searchers[2]
    local loader, where = searcher('tokrun.errors')
    assert.equal('function', type(loader), tostring(loader))
    assert.matches('lualib/tokrun/errors%.lua$', where)
  end)
end)
