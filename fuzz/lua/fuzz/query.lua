-- codec.query of pairs parses back, split on & and = and percent-decoded,
-- to the same pairs in the same order.
local codec = require 'tokrun.codec'
local fuzz = require 'fuzz.lib'

return function(data)
  local r = fuzz.reader(data)
  local pairs_in = {}
  for i = 1, r:byte() % 9 do
    local name = r:str(24)
    local value
    if r:byte() % 8 == 0 then value = r:byte() * 257 - 3000 else value = r:str(48) end
    pairs_in[i] = { name, value }
  end
  local q = codec.query(pairs_in)
  fuzz.check(q:find('^[%w%-._~%%&=]*$'), 'query has a byte outside pct, & and =: %s', fuzz.show(q))
  if #pairs_in == 0 then
    fuzz.check(q == '', 'query of no pairs is %s', fuzz.show(q))
    return
  end
  local n = 0
  for piece in (q .. '&'):gmatch('([^&]*)&') do
    n = n + 1
    local want = pairs_in[n]
    fuzz.check(want, 'query %s has more pieces than %d pairs', fuzz.show(q), #pairs_in)
    local name, value = piece:match('^([^=]*)=([^=]*)$')
    fuzz.check(name, 'piece %s of %s is not name=value', fuzz.show(piece), fuzz.show(q))
    fuzz.check(codec.unpct(name) == want[1], 'pair %d name: %s is not %s', n, fuzz.show(name), fuzz.show(want[1]))
    fuzz.check(codec.unpct(value) == tostring(want[2]), 'pair %d value: %s is not %s', n,
      fuzz.show(value), fuzz.show(want[2]))
  end
  fuzz.check(n == #pairs_in, 'query %s has %d pieces for %d pairs', fuzz.show(q), n, #pairs_in)
end
