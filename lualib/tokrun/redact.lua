-- Redaction (docs/cli.md, Safety): a redactor learns the secrets of a run and
-- removes them, in every form a request or a trace can carry them, from
-- anything tokrun prints other than the result itself.
local M = {}

local codec = require 'tokrun.codec'
local json = require 'tokrun.json'

local type, tostring, pairs, ipairs, setmetatable, getmetatable, pcall, error =
  type, tostring, pairs, ipairs, setmetatable, getmetatable, pcall, error
local byte, char, find, format, gsub, lower, sub =
  string.byte, string.char, string.find, string.format, string.gsub, string.lower, string.sub
local concat, sort = table.concat, table.sort
local utf8_codes, utf8_len = utf8.codes, utf8.len

local MASK = '***'

-- A base64 core shorter than this would match unrelated text too often.
local MIN_CORE = 4

local base64, base64url = codec.base64, codec.base64url

-- JSON string escapes as lua-cjson writes them (its char2escape table):
-- '"', '\', '/', the C0 controls and DEL; other bytes, UTF-8 included, as is.
local CJSON_ESCAPES = { ['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/',
  ['\b'] = '\\b', ['\t'] = '\\t', ['\n'] = '\\n', ['\f'] = '\\f', ['\r'] = '\\r' }
for b = 0, 0x1f do
  local c = char(b)
  CJSON_ESCAPES[c] = CJSON_ESCAPES[c] or format('\\u%04x', b)
end
CJSON_ESCAPES['\127'] = '\\u007f'

-- keep_slash: '/' as is, as most other encoders write it (a server echoing
-- a value back in an error); keep_del: DEL as is too, as tokrun.json (the
-- bodies tokrun sends), JavaScript and Go write it.
local function json_escape(s, keep_slash, keep_del)
  local class = '[%z\1-\31"\\' .. (keep_del and '' or '\127') .. (keep_slash and '' or '/') .. ']'
  return (gsub(s, class, CJSON_ESCAPES))
end

-- What ensure_ascii encoders (Python's json) write: every non-ASCII
-- character as \uXXXX, a surrogate pair above U+FFFF.  nil for invalid UTF-8.
local function json_escape_ascii(s, hexfmt)
  if not utf8_len(s) then return nil end
  local parts = {}
  for _, cp in utf8_codes(s) do
    if cp < 0x80 then
      local c = char(cp)
      parts[#parts + 1] = c == '/' and c or (CJSON_ESCAPES[c] or c)
    elseif cp < 0x10000 then
      parts[#parts + 1] = format(hexfmt, cp)
    else
      cp = cp - 0x10000
      parts[#parts + 1] = format(hexfmt, 0xD800 + (cp >> 10)) .. format(hexfmt, 0xDC00 + (cp & 0x3FF))
    end
  end
  return concat(parts)
end

local function lower_hex(s)
  return (gsub(s, '%%%x%x', lower))
end

-- Percent-encoders differ in what they leave as is; each writes the rest
-- as %XX.  [what it keeps (a pattern class body), space as '+']
local PCT_STYLES = {
  { "A-Za-z0-9%-._~" },                          -- RFC 3986 unreserved (codec.pct)
  { "A-Za-z0-9%-._~/" },                         -- Python's urllib.parse.quote (safe='/')
  { "A-Za-z0-9%-._~!*'()" },                     -- JavaScript's encodeURIComponent
  { "A-Za-z0-9%-._~!*'();,/?:@&=+$#" },          -- JavaScript's encodeURI
  { "A-Za-z0-9%-._~$&+:=@" },                    -- Go's url.PathEscape
  { "A-Za-z0-9%-._~$&+,/:;=@" },                 -- Go's URL.EscapedPath
  { "A-Za-z0-9%-._~", true },                    -- form: Python's quote_plus, Go's QueryEscape
  { "A-Za-z0-9%-._*", true },                    -- form as browsers write it (WHATWG)
}

local function pct_byte(c) return format('%%%02X', byte(c)) end

local function pct_style(s, keep, plus)
  local class = '[^' .. keep .. (plus and ' ' or '') .. ']'
  s = gsub(s, class, pct_byte)
  if plus then s = gsub(s, ' ', '+') end
  return s
end

-- Leading characters of base64(filler .. secret) that also depend on the k
-- filler bytes before the secret.
local B64_LEAD = { [0] = 0, 2, 3 }

-- The characters of base64(secret) that are the same wherever the secret
-- sits in a larger encoded string, k = offset mod 3: drop the characters
-- that mix in the neighbouring bytes at either end.
local function base64_core(secret, k)
  local enc = gsub(base64(('\0'):rep(k) .. secret), '=+$', '')
  local last = #enc
  if (k + #secret) % 3 ~= 0 then last = last - 1 end
  return sub(enc, B64_LEAD[k] + 1, last)
end

-- Control characters as escapes, so text from a provider or a child
-- (a message, a trace) prints as one line and cannot drive a terminal:
-- C0 controls, DEL and the C1 controls (U+0080..U+009F, as UTF-8).
local CONTROL_ESCAPES = { ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function escape_control(c)
  return CONTROL_ESCAPES[c] or format('\\x%02x', byte(c))
end

local function escape_c1(c1)
  return format('\\u%04x', byte(c1, 2))
end

-- M.oneline(s) -> s with control characters escaped (\n, \x1b, \u009b)
function M.oneline(s)
  s = gsub(s, '[%z\1-\31\127]', escape_control)
  return (gsub(s, '\194[\128-\159]', escape_c1))
end

local Redactor = {}
Redactor.__index = Redactor

-- redact.new() -> an empty redactor
function M.new()
  return setmetatable({ forms = {}, scan = nil }, Redactor)
end

local function check_secret(v, fname)
  local t = type(v)
  if t == 'number' then return tostring(v) end
  if t ~= 'string' and t ~= 'nil' then
    error(format("bad argument to '%s' (string expected, got %s)", fname, t), 3)
  end
  return v
end

local function register(self, s)
  if s and s ~= '' and not self.forms[s] then
    self.forms[s] = true
    self.scan = nil
  end
end

-- r:add(secret): redact secret and every form a request can carry it in.
-- nil and '' are ignored (an unset optional secret).
function Redactor:add(secret)
  secret = check_secret(secret, 'add')
  if not secret or secret == '' then return self end
  register(self, secret)
  register(self, json_escape(secret))
  register(self, json_escape(secret, true))
  register(self, json_escape(secret, true, true))
  register(self, json_escape_ascii(secret, '\\u%04x'))
  register(self, json_escape_ascii(secret, '\\u%04X'))
  for _, style in ipairs(PCT_STYLES) do
    local p = pct_style(secret, style[1], style[2])
    register(self, p)
    register(self, lower_hex(p))
  end
  for k = 0, 2 do
    local core = base64_core(secret, k)
    if #core >= MIN_CORE then
      register(self, core)
      register(self, (gsub(core, '[+/]', { ['+'] = '-', ['/'] = '_' })))
    end
  end
  register(self, base64(secret))
  register(self, base64url(secret))
  register(self, M.oneline(secret))   -- as tokrun prints it on stderr
  return self
end

-- r:add_basic(user, secret): also redact the credentials of
-- `Authorization: Basic base64(user:secret)`, which contain neither alone.
function Redactor:add_basic(user, secret)
  user = check_secret(user, 'add_basic') or ''
  secret = check_secret(secret, 'add_basic')
  self:add(secret)
  if secret and secret ~= '' then
    register(self, base64(user .. ':' .. secret))
  end
  return self
end

-- The scanner: one pass over the text finds every registered form, so the
-- cost is linear in the text whatever the number and length of secrets.
-- Forms are indexed by their first ANCHOR bytes (a shorter form by all of
-- its bytes); a candidate longer than its anchor is confirmed by a rolling
-- hash of the text (H), so overlapping and almost-matching occurrences
-- cost no more than any other text.  The union of all occurrences is
-- masked: a form overlapping another one is never left with a tail.
local ANCHOR = 8
local BASE = 0x100000001b3   -- odd; hashes wrap modulo 2^64
local CHUNK = 4096

local function hash(s)
  local h = 0
  for i = 1, #s, CHUNK do
    local bytes = { byte(s, i, i + CHUNK - 1) }
    for k = 1, #bytes do h = h * BASE + bytes[k] end
  end
  return h
end

local function power(n)   -- BASE^n modulo 2^64
  local r, b = 1, BASE
  while n > 0 do
    if n & 1 == 1 then r = r * b end
    b, n = b * b, n >> 1
  end
  return r
end

local function class_char(c)
  return find(c, '^%w$') and c or '%' .. c
end

local function build_scanner(self)
  local long, short, lengths, firsts = {}, {}, {}, {}
  local hashes, powers, any = {}, {}, false
  for s in pairs(self.forms) do
    any = true
    firsts[sub(s, 1, 1)] = true
    if #s > ANCHOR then
      local key = sub(s, 1, ANCHOR)
      local list = long[key] or {}
      list[#list + 1] = s
      long[key] = list
      hashes[s] = hash(s)
      powers[#s] = powers[#s] or power(#s)
    else
      if not short[#s] then short[#s] = {}; lengths[#lengths + 1] = #s end
      short[#s][s] = true
    end
  end
  if not any then return false end
  for _, list in pairs(long) do
    sort(list, function(a, b) return #a > #b or (#a == #b and a < b) end)
  end
  sort(lengths, function(a, b) return a > b end)
  local class = {}
  for c in pairs(firsts) do class[#class + 1] = class_char(c) end
  sort(class)
  return { long = long, short = short, lengths = lengths, hashes = hashes, powers = powers,
    class = '[' .. concat(class) .. ']' }
end

local function scanner(self)
  if self.scan == nil then self.scan = build_scanner(self) end
  return self.scan
end

-- r:apply(text) -> text with every registered form replaced by ***
function Redactor:apply(text)
  if type(text) ~= 'string' then
    error(format("bad argument to 'apply' (string expected, got %s)", type(text)), 2)
  end
  local sc = scanner(self)
  if not sc then return text end
  local n = #text
  local long, short, lengths, hashes, powers = sc.long, sc.short, sc.lengths, sc.hashes, sc.powers
  local H, built = { 0 }, 0   -- H[k + 1]: hash of text's first k bytes, built as far as needed
  local function prefix(k)
    if k > built then
      local h = H[built + 1]
      for i = built + 1, k, CHUNK do
        local bytes = { byte(text, i, i + CHUNK - 1) }
        for j = 1, #bytes do h = h * BASE + bytes[j]; H[i + j] = h end
      end
      built = #H - 1
    end
    return H[k + 1]
  end
  local out, last = {}, 0            -- last: text copied up to here
  local mstart, mend = nil, 0        -- the mask being grown
  local pos = 1
  while true do
    local i = find(text, sc.class, pos)
    if not i then break end
    local e = 0                      -- end of the longest form starting at i
    local list = long[sub(text, i, i + ANCHOR - 1)]
    if list then
      for _, f in ipairs(list) do
        local m = #f
        local fe = i + m - 1
        if fe <= n and fe > e and (prefix(fe) - prefix(i - 1) * powers[m]) == hashes[f]
          -- equal hashes: confirmed byte by byte only where it starts a new
          -- mask, so the work stays linear when occurrences overlap
          and (i <= mend or sub(text, i, fe) == f) then
          e = fe
          break
        end
      end
    end
    if e == 0 then
      for _, m in ipairs(lengths) do
        if short[m][sub(text, i, i + m - 1)] then e = i + m - 1; break end
      end
    end
    if e > 0 then
      if mstart and i <= mend then
        if e > mend then mend = e end
      else
        if mstart then
          out[#out + 1] = sub(text, last + 1, mstart - 1)
          out[#out + 1] = MASK
          last = mend
        end
        mstart, mend = i, e
      end
    end
    pos = i + 1
  end
  if not mstart then return text end
  out[#out + 1] = sub(text, last + 1, mstart - 1)
  out[#out + 1] = MASK
  out[#out + 1] = sub(text, mend + 1)
  return concat(out)
end

-- r:line(text) -> text fit to print as one line on stderr: redacted, its
-- control characters escaped, and redacted again (an escaped form of a
-- secret is no longer the form apply knew).
function Redactor:line(text)
  local out = self:apply(text)
  local esc = M.oneline(out)
  if esc == out then return out end
  return self:apply(esc)
end

local WHOLE_HEADERS = {
  authorization = true, ['proxy-authorization'] = true, cookie = true, ['set-cookie'] = true,
}

local function secret_header(name)
  name = lower(name)
  return WHOLE_HEADERS[name] or find(name, 'key', 1, true) or find(name, 'token', 1, true)
    or find(name, 'secret', 1, true)
end
M.secret_header = secret_header   -- what never follows a request to another origin

-- r:headers(tbl) -> a copy of a name -> value header table fit to print:
-- credential-bearing headers masked whole, the others passed through apply.
-- A value may be a list (a header seen more than once).
function Redactor:headers(tbl)
  local out = {}
  for name, value in pairs(tbl) do
    local whole = type(name) == 'string' and secret_header(name)
    if type(value) == 'table' then
      local list = {}
      for i, v in ipairs(value) do list[i] = whole and MASK or self:apply(tostring(v)) end
      out[name] = list
    else
      out[name] = whole and MASK or self:apply(tostring(value))
    end
  end
  return out
end

local SECRET_KEYS = { 'token', 'secret', 'passw', 'key', 'credential' }

-- A JSON key or form field whose value is a credential whatever it holds.
local function secret_key(name)
  name = lower(name)
  for _, w in ipairs(SECRET_KEYS) do
    if find(name, w, 1, true) then return true end
  end
  return false
end
M.secret_key = secret_key

local function mask_tree(v)
  if type(v) ~= 'table' then return v end
  local out = {}
  for k, x in pairs(v) do
    out[k] = (type(k) == 'string' and secret_key(k)) and MASK or mask_tree(x)
  end
  return setmetatable(out, getmetatable(v))  -- keeps json.array marks
end

local unpct = codec.unpct

-- A body that reads as application/x-www-form-urlencoded: one line of
-- name=value pairs joined by '&'.
local function mask_form(s)
  if not find(s, '=', 1, true) or find(s, '%s') then return nil end
  local parts = {}
  for piece in (s .. '&'):gmatch('([^&]*)&') do
    local name, eq = piece:match('^([^=]*)(=?)')
    if eq == '=' and secret_key(unpct(name, true) or name) then
      piece = name .. '=' .. MASK
    end
    parts[#parts + 1] = piece
  end
  return concat(parts, '&')
end

-- A body that looks like JSON but does not parse (an answer cut short):
-- the value under each credential-looking key is masked as it stands -- a
-- string to its closing quote, or to the end of a truncated text.
local function mask_broken_json(s)
  if not find(s, '^%s*[{%[]') then return nil end
  local parts, pos = {}, 1
  while true do   -- pos only moves forward
    local _, ke, key = find(s, '"([^"\\]*)"%s*:%s*', pos)
    if not ke then break end
    parts[#parts + 1] = sub(s, pos, ke)
    pos = ke + 1
    local c = sub(s, pos, pos)
    if secret_key(key) and c == '"' then
      local i = pos + 1
      while true do
        i = find(s, '[\\"]', i)
        if not i or sub(s, i, i) == '"' then break end
        i = i + 2   -- an escape: skip the escaped byte
      end
      parts[#parts + 1] = '"' .. MASK .. (i and '"' or '')
      pos = i and i + 1 or #s + 1
    elseif secret_key(key) and c ~= '{' and c ~= '[' and c ~= '' then
      parts[#parts + 1] = MASK
      pos = find(s, '[,}%]]', pos) or #s + 1
    end
  end
  parts[#parts + 1] = sub(s, pos)
  return concat(parts)
end

-- r:json_text(s) -> s fit for a -v trace of a body: values under
-- credential-looking keys (JSON, at any depth, or form fields) masked,
-- then apply.  Text that is neither is only passed through apply.
function Redactor:json_text(s)
  if type(s) ~= 'string' then
    error(format("bad argument to 'json_text' (string expected, got %s)", type(s)), 2)
  end
  local v = json.decode(s)
  if type(v) == 'table' then
    local ok, out = pcall(json.encode, mask_tree(v))
    if ok then return self:apply(out) end
  elseif v == nil then
    local masked = mask_broken_json(s) or mask_form(s)
    if masked then return self:apply(masked) end
  end
  return self:apply(s)
end

return M
