-- Routes for tests/runtime/http_spec.lua: an echo of the request, and the
-- answers a transport must cope with (any status, big and slow bodies,
-- redirects, dropped connections).
return function(config, mock)   -- luacheck: ignore mock
  local function echo(req)
    return { status = 200, json = {
      method = req.method, path = req.path, query = req.query,
      headers = req.headers, body = req.body } }
  end
  local function tail(req)
    return req.path:match('^/[^/]+/(.*)$')
  end

  local routes = {
    -- /status/404 answers 404, with a body naming it.
    ['GET /status/*'] = function(req)
      local status = tonumber(tail(req))
      return { status = status, headers = { ['X-Status'] = tostring(status) },
               body = 'status ' .. status }
    end,
    -- /big/N answers N bytes, announced by Content-Length.
    ['GET /big/*'] = function(req)
      return { status = 200, body_size = tonumber(tail(req)) }
    end,
    -- /delay/S answers after S seconds.
    ['GET /delay/*'] = function(req)
      return { status = 200, delay = tonumber(tail(req)), body = 'late' }
    end,
    -- /slow/S sends the headers, then the body over S seconds.
    ['GET /slow/*'] = function(req)
      return { status = 200, slow_body = tonumber(tail(req)), body = ('x'):rep(64) }
    end,
    ['GET /redirect'] = function()
      return { status = 302, headers = { Location = '/echo?from=redirect' }, body = 'moved' }
    end,
    ['GET /redirect-loop'] = function()
      return { status = 302, headers = { Location = '/redirect-loop' } }
    end,
    ['GET /headers'] = function()
      return { status = 200, headers = { ['X-Mixed-Case'] = 'Value', ['Content-Type'] = 'text/plain' },
               body = 'ok' }
    end,
    -- The kit writes header values as given, so a CRLF in one makes a
    -- second header line: here a repeated header, and an oversized one.
    ['GET /repeated'] = function()
      return { status = 200, headers = { ['Set-Cookie'] = 'a=1\r\nset-cookie: b=2' }, body = 'ok' }
    end,
    ['GET /big-headers'] = function()
      return { status = 200, headers = { ['X-Big'] = ('v'):rep(70000) }, body = 'ok' }
    end,
    -- /chunked/N: N bytes in 4 KiB chunks; Transfer-Encoding comes before the
    -- kit's Content-Length, so the client ignores the length.
    ['GET /chunked/*'] = function(req)
      local n, parts = tonumber(tail(req)), {}
      for _ = 1, n // 4096 do parts[#parts + 1] = '1000\r\n' .. ('x'):rep(4096) .. '\r\n' end
      parts[#parts + 1] = '0\r\n\r\n'
      return { status = 200, headers = { ['Transfer-Encoding'] = 'chunked' }, body = table.concat(parts) }
    end,
    -- /gzip/N: N bytes of 'a', gzip-compressed (by gzip(1)) to a few
    -- hundred bytes, with Content-Encoding: gzip.
    ['GET /gzip/*'] = function(req)
      local h = assert(io.popen(("head -c %d /dev/zero | tr '\\0' a | gzip -c"):format(tonumber(tail(req)))))
      local gz = h:read('a')
      h:close()
      return { status = 200, headers = { ['Content-Encoding'] = 'gzip' }, body = gz }
    end,
    ['GET /drop'] = function() return { drop = true } end,
    ['GET /drop-after-headers'] = function()
      return { status = 200, drop_after_headers = true, body_size = 1000 }
    end,
  }
  for _, method in ipairs{ 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD' } do
    routes[method .. ' /echo'] = echo
  end
  routes['GET /config'] = function() return { status = 200, json = config } end
  return routes
end
