-- Redaction (SPEC section 9): a redactor learns the secrets of a run and
-- removes them, in every form a request or a trace can carry them, from
-- anything tokrun prints other than the result itself.
local M = {}

local codec = require 'tokrun.codec'
local json = require 'tokrun.json'

local type, tostring, pairs, ipairs, setmetatable, getmetatable, pcall, error =
  type, tostring, pairs, ipairs, setmetatable, getmetatable, pcall, error
local char, find, format, gsub, lower, sub =
  string.char, string.find, string.format, string.gsub, string.lower, string.sub
local concat, sort = table.concat, table.sort
local utf8_codes, utf8_len = utf8.codes, utf8.len

local MASK = '***'

-- A base64 core shorter than this would match unrelated text too often.
local MIN_CORE = 4

local base64, base64url, pct, form = codec.base64, codec.base64url, codec.pct, codec.form

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

local Redactor = {}
Redactor.__index = Redactor

-- redact.new() -> an empty redactor
function M.new()
  return setmetatable({ forms = {}, order = nil }, Redactor)
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
    self.order = nil
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
  local p, f = pct(secret), form(secret)
  register(self, p)
  register(self, lower_hex(p))
  register(self, f)
  register(self, lower_hex(f))
  for k = 0, 2 do
    local core = base64_core(secret, k)
    if #core >= MIN_CORE then
      register(self, core)
      register(self, (gsub(core, '[+/]', { ['+'] = '-', ['/'] = '_' })))
    end
  end
  register(self, base64(secret))
  register(self, base64url(secret))
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

local function escape_pattern(s)
  return (gsub(s, '[%^%$%(%)%%%.%[%]%*%+%-%?]', '%%%0'))
end

-- Longest forms first, so a form that contains a shorter one (the padded
-- base64 and its core) is masked whole and never leaves a tail behind.
local function patterns(self)
  if not self.order then
    local list = {}
    for s in pairs(self.forms) do list[#list + 1] = s end
    sort(list, function(a, b)
      if #a ~= #b then return #a > #b end
      return a < b
    end)
    for i, s in ipairs(list) do list[i] = escape_pattern(s) end
    self.order = list
  end
  return self.order
end

-- r:apply(text) -> text with every registered form replaced by ***
function Redactor:apply(text)
  if type(text) ~= 'string' then
    error(format("bad argument to 'apply' (string expected, got %s)", type(text)), 2)
  end
  for _, pat in ipairs(patterns(self)) do
    text = gsub(text, pat, MASK)
  end
  return text
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
