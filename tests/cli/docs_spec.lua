-- The user's documentation stays inside the repository: every link in the
-- README and docs/ resolves to a file here, and every #heading it names
-- exists in that file (GitHub's anchor rules).
local cli = require 'cli_helper'

local function read(path)
  local f = io.open(cli.root .. '/' .. path, 'rb')
  if not f then return nil end
  local s = f:read('a')
  f:close()
  return s
end

-- GitHub's anchor for a heading: lower case, punctuation dropped, spaces to -.
local function anchors(text)
  local set = {}
  for line in text:gmatch('[^\n]+') do
    local h = line:match('^#+%s+(.-)%s*$')
    if h then set[(h:lower():gsub('[^%w%s_-]', ''):gsub('%s', '-'))] = true end
  end
  return set
end

local DOCS = { 'README.md', 'docs/cli.md', 'docs/recipes.md', 'docs/mock.md', 'bench/README.md' }

describe('the documentation', function()
  for _, doc in ipairs(DOCS) do
    it(doc .. ' links only to files and headings inside the repository', function()
      local text = assert(read(doc), doc)
      local dir = doc:match('^(.*)/') or '.'
      local n = 0
      for target in text:gmatch('%]%(([^)%s]+)%)') do
        assert.falsy(target:find('^%a[%w+.-]*:'), doc .. ' links outside: ' .. target)
        local file, anchor = target:match('^([^#]*)#?(.*)$')
        local path = file == '' and doc or (dir .. '/' .. file):gsub('^%./', '')
        while path:find('[^/]+/%.%./') do path = path:gsub('[^/]+/%.%./', '', 1) end
        local body = read(path)
        assert.truthy(body or os.rename(cli.root .. '/' .. path, cli.root .. '/' .. path),
          doc .. ' links to a missing file: ' .. target)
        if anchor ~= '' then
          assert.truthy(anchors(body)[anchor], doc .. ' links to a missing heading: ' .. target)
        end
        n = n + 1
      end
      assert.falsy(text:find('SPEC', 1, true), doc .. ' mentions the contract file')
      assert.falsy(text:find('../shared', 1, true), doc .. ' points outside the repository')
      if doc == 'README.md' then assert.truthy(n > 5) end
    end)
  end

  it('the man pages and unit files say nothing of the contract file either', function()
    for _, f in ipairs({ 'packaging/man/tokrun.1', 'packaging/systemd/tokrun@.service', 'packaging/systemd/tokrun@.timer',
      'packaging/gen/manpage.lua', 'packaging/gen/annotations.lua' }) do
      local text = assert(read(f), f)
      assert.falsy(text:find('SPEC', 1, true), f)
      assert.falsy(text:find('../shared', 1, true), f)
    end
  end)

  it('docs/cli.md documents every option --help lists', function()
    local text = read('docs/cli.md')
    local help = cli.run({ '--help' }).stdout
    for opt in help:gmatch('%-%-[%a][%w-]*') do
      assert.truthy(text:find(opt, 1, true), opt)
    end
  end)

  it('starts the README with the demo and the test command', function()
    local text = read('README.md')
    assert.truthy(text:find('^# tokrun\n\n```sh\nbash scripts/demo.sh [^\n]*\nbash scripts/test.sh [^\n]*\n```\n'))
  end)
end)
