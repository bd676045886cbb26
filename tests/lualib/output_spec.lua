-- output.shell_quote, the quoting of `--format env` (docs/cli.md, Output formats), read
-- back by a real sh; and fuzz/lua/fuzz/sh.lua, the reader fuzz/env_quote
-- uses instead of a shell, held to the same sh.
local output = require 'tokrun.output'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

package.path = sys.paths().srcdir .. '/fuzz/lua/?.lua;' .. package.path
local sh_reader = require 'fuzz.sh'

-- What sh makes of word, by `sh -c 'printf %s WORD'`.
local function sh(word)
  local r = assert(process.run{ argv = { 'sh', '-c', 'printf %s ' .. word }, timeout = 10 })
  assert.equal(0, r.status, r.stderr)
  return r.stdout
end

-- A random string of 0..40 bytes other than NUL (argv cannot hold one).
local function random_bytes()
  local t = {}
  for i = 1, math.random(0, 40) do t[i] = string.char(math.random(1, 255)) end
  return table.concat(t)
end

describe('output.shell_quote', function()
  it('quotes 200 random byte strings so that sh reads each back exactly', function()
    math.randomseed(20240917)
    for _ = 1, 200 do
      local s = random_bytes()
      local q = output.shell_quote(s)
      assert.equal(s, sh(q), q)
      assert.equal(s, sh_reader.unquote(q), q)
    end
  end)

  it("quotes a single quote as '\\''", function()
    assert.equal([['it'\''s']], output.shell_quote("it's"))
    assert.equal("''", output.shell_quote(''))
  end)
end)

describe('the sh reader of fuzz/env_quote', function()
  it('reads words of quoted runs and backslash escapes as sh does', function()
    math.randomseed(20240918)
    for _ = 1, 50 do
      local pieces = {}
      for i = 1, math.random(1, 6) do
        local kind = math.random(3)
        if kind == 1 then       -- a quoted run: any byte but ' and NUL
          pieces[i] = "'" .. random_bytes():gsub("'", '') .. "'"
        elseif kind == 2 then   -- an escaped byte, newline included
          pieces[i] = '\\' .. string.char(math.random(1, 255))
        else                    -- plain letters
          pieces[i] = ('abcXYZ019-_./'):sub(math.random(13)):sub(1, 3)
        end
      end
      local word = table.concat(pieces)
      assert.equal(sh(word), sh_reader.unquote(word), word)
    end
  end)

  it('refuses what is not one plain word', function()
    assert.is_nil(sh_reader.unquote("'open"))
    assert.is_nil(sh_reader.unquote('a b'))
    assert.is_nil(sh_reader.unquote('$HOME'))
    assert.is_nil(sh_reader.unquote('x\\'))
  end)
end)
