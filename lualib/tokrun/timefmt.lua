-- Times are integer seconds since the epoch inside tokrun; RFC 3339 UTC at
-- the edges.  No dependence on the local time zone (os.time() has one).
local M = {}

local tonumber, floor = tonumber, math.floor

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
-- days_from_civil).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- The date of a day number (H. Hinnant's civil_from_days).
local function civil_from_days(z)
  z = z + 719468
  local era = (z >= 0 and z or z - 146096) // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end

local function epoch(y, mo, d, h, mi, s)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then return nil end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
end

-- M.offset(s) -> seconds east of UTC for "Z", "+02:00", "-0530" | nil
function M.offset(s)
  if s == nil or s == 'Z' or s == 'z' or s == '' then return 0 end
  local sign, h, m = s:match('^([+-])(%d%d):?(%d%d)$')
  if not sign then return nil end
  local off = tonumber(h) * 3600 + tonumber(m) * 60
  return sign == '-' and -off or off
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10,
  Nov = 11, Dec = 12 }

-- M.parse_http_date(s) -> epoch seconds of an HTTP Date header in the
-- IMF-fixdate form (RFC 9110 section 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT") | nil
function M.parse_http_date(s)
  if type(s) ~= 'string' then return nil end
  local d, mon, y, h, mi, sec = s:match('^%a%a%a, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$')
  if not d or not MONTHS[mon] then return nil end
  return epoch(tonumber(y), MONTHS[mon], tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
end

-- M.parse_rfc3339(s) -> epoch seconds (fractions dropped) | nil
function M.parse_rfc3339(s)
  if type(s) ~= 'string' then return nil end
  local y, mo, d, h, mi, sec, rest =
    s:match('^(%d%d%d%d)-(%d%d)-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$')
  if not y then return nil end
  rest = rest:gsub('^%.%d+', '')
  local off = M.offset(rest)
  local t = off and epoch(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
  return t and t - off
end

-- M.parse_datetime(s, offset) -> epoch seconds for "YYYY-MM-DD HH:MM:SS[.mmm]"
-- read in the zone `offset` (e.g. "+02:00"; default UTC) | nil
function M.parse_datetime(s, offset)
  if type(s) ~= 'string' then return nil end
  local y, mo, d, h, mi, sec = s:match('^(%d%d%d%d)-(%d%d)-(%d%d)[ T](%d%d):(%d%d):(%d%d)%.?%d*$')
  local off = M.offset(offset)
  local t = y and off and epoch(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
  return t and t - off
end

-- The times RFC 3339 can write: years 1..9999.
M.MIN_EPOCH = -62135596800     -- 0001-01-01T00:00:00Z
M.MAX_EPOCH = 253402300799     -- 9999-12-31T23:59:59Z

-- M.rfc3339(epoch_seconds) -> "2026-11-22T15:22:51Z".  Total: a time
-- beyond year 9999 (a provider's expires_in of 1e15) is written as the
-- last second RFC 3339 can write, one before year 1 as the first; nil
-- for NaN.
function M.rfc3339(t)
  if t ~= t then return nil end
  if t > M.MAX_EPOCH then t = M.MAX_EPOCH elseif t < M.MIN_EPOCH then t = M.MIN_EPOCH end
  t = math.tointeger(floor(t))
  local days, secs = t // 86400, t % 86400
  local y, mo, d = civil_from_days(days)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02dZ', y, mo, d, secs // 3600, secs % 3600 // 60, secs % 60)
end

return M
