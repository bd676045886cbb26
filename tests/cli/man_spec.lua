-- The man pages: tokrun(1) covers every command, option and exit code the
-- program has; tokrun-recipe(5) is generated from the schema table and
-- names every word in it; both render with groff without a warning.
local cli = require 'cli_helper'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

local function have(cmd)
  return os.execute('command -v ' .. cmd .. ' >/dev/null 2>&1') == true
end

local function sh(script, ...)
  return assert(process.run { argv = { 'sh', '-c', script, 'sh', ... },
    env = { PATH = os.getenv('PATH'), HOME = os.getenv('HOME') or '/tmp' }, timeout = 60 })
end

-- groff's warnings for a page (empty when clean).
local function groff_warnings(page)
  local r = sh('groff -ww -z -man "$1" 2>&1', page)
  assert.equal(0, r.status, r.stdout)
  return r.stdout
end

-- A page's text with roff's escapes for '-' and '\' undone.
local function plain(page)
  local text = assert(sys.read_file(page, 1024 * 1024))
  return (text:gsub('\\%-', '-'):gsub('\\e', '\\'))
end

describe('tokrun(1)', function()
  local PAGE = cli.root .. '/packaging/man/tokrun.1'

  it('renders without a warning', function()
    if not have('groff') then return pending('groff is not installed (apt-get install groff-base)') end
    assert.equal('', groff_warnings(PAGE))
  end)

  it('documents every option --help lists, every command and every exit code', function()
    local text = plain(PAGE)
    local help = cli.run({ '--help' }).stdout
    local n = 0
    for opt in help:gmatch('%-%-[%a][%w-]*') do
      assert.truthy(text:find('\\fB' .. opt, 1, true), opt)
      n = n + 1
    end
    assert.truthy(n > 15)
    for _, cmd in ipairs({ 'exec', 'release', 'check', 'list', 'new', 'lua' }) do
      assert.truthy(text:find('\\fB' .. cmd .. '\\fR', 1, true) or text:find('\\fBtokrun ' .. cmd, 1, true), cmd)
    end
    for kind, code in pairs(require('tokrun.errors').exit_codes) do
      assert.truthy(text:find('\n.B ' .. code .. '\n', 1, true), kind .. ' ' .. code)
    end
    for _, section in ipairs({ 'SYNOPSIS', 'OPTIONS', 'OUTPUT', 'EXIT STATUS', 'ENVIRONMENT', 'FILES',
      'EXAMPLES' }) do
      assert.truthy(text:find('\n.SH ' .. section .. '\n', 1, true), section)
    end
    for _, example in ipairs({ 'cron', 'systemctl', 'kubectl', 'git', 'docker', 'aws' }) do
      assert.truthy(text:lower():find(example, 1, true), example)
    end
  end)
end)

describe('tokrun-recipe(5)', function()
  local page
  setup(function()
    page = cli.tmpdir() .. '/tokrun-recipe.5'
    local r = assert(process.run { argv = { sys.paths().exe, 'lua', cli.root .. '/packaging/gen/manpage.lua', page },
      timeout = 60 })
    assert.equal(0, r.status, r.stderr)
  end)
  teardown(cli.cleanup)

  it('renders without a warning', function()
    if not have('groff') then return pending('groff is not installed (apt-get install groff-base)') end
    assert.equal('', groff_warnings(page))
  end)

  it('names every word of the schema, in the section of its table, with its description', function()
    local schema = require 'tokrun.schema'
    local text = plain(page)
    local n = 0
    for ctx, words in pairs(schema.contexts) do
      local at = text:find('\n.SS ' .. ctx .. '\n', 1, true)
      assert.truthy(at, 'section ' .. ctx)
      local section = text:sub(at + 1):match('^(.-)\n%.S[HS] ') or text:sub(at + 1)
      for name, word in pairs(words) do
        if type(word) == 'table' then
          assert.truthy(section:find('\n\\fB' .. name .. '\\fR', 1, true), ctx .. '.' .. name)
          n = n + 1
        end
      end
    end
    assert.truthy(n > 50, 'words: ' .. n)
  end)

  it('is the page the build installs (generated, so it cannot drift)', function()
    local built = sys.paths().exe:match('^(.*)/[^/]+$') .. '/packaging/man/tokrun-recipe.5'
    local installed = sys.read_file(built, 1024 * 1024)
    if not installed then return pending('no ' .. built .. ' in this build') end
    assert.equal(assert(sys.read_file(page, 1024 * 1024)), installed)
  end)
end)
