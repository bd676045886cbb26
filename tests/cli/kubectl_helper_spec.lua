-- --format exec-credential with the real kubectl: kubeconfigs whose exec
-- plugin says client.authentication.k8s.io/v1 and v1beta1, against a
-- loopback HTTPS API mock that demands the token; --cache makes three
-- kubectl calls mint once; interactiveMode Never (spec.interactive false)
-- never prompts.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'
local json = require 'tokrun.json'

local KUBECTL = '/usr/bin/kubectl'
local have_kubectl = sys.lstat(KUBECTL) ~= nil
local BIN = cli.bin:sub(1, 1) == '/' and cli.bin or (sys.realpath(cli.bin) or cli.bin)
local ECHO = cli.root .. '/tests/cli/fixtures/echo_token.lua'
local TOKEN = 'k8s-token.Zx9/+='

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function read(path)
  local f = io.open(path)
  if not f then return '' end
  local s = f:read('a')
  f:close()
  return s
end

local function kubeconfig(dir, srv, version, extra_args)
  local args = { '-f', 'exec-credential', '--cache' }
  for _, a in ipairs(extra_args or {}) do args[#args + 1] = a end
  args[#args + 1] = ECHO
  local path = dir .. '/kubeconfig-' .. version:match('[^/]+$')
  write(path, table.concat({
    'apiVersion: v1', 'kind: Config', 'clusters:', '- name: mock', '  cluster:',
    '    server: ' .. srv.url, '    certificate-authority: ' .. srv.cacert,
    'users:', '- name: tokrun', '  user:', '    exec:', '      apiVersion: ' .. version,
    '      command: ' .. json.encode(BIN), '      args: ' .. json.encode(args),
    '      interactiveMode: Never', '      provideClusterInfo: false',
    'contexts:', '- name: mock', '  context:', '    cluster: mock', '    user: tokrun',
    'current-context: mock', '' }, '\n'))
  return path
end

local function kubectl(dir, config, env)
  local e = { PATH = os.getenv('PATH'), HOME = dir, KUBECONFIG = config, XDG_CACHE_HOME = dir .. '/cache',
    ECHO_TOKEN = TOKEN, ECHO_COUNT_FILE = dir .. '/count' }
  for k, v in pairs(env or {}) do e[k] = v end
  return assert(process.run { argv = { KUBECTL, 'get', '--raw', '/api/v1/namespaces/default/configmaps/app' },
    env = e, stdin = '', timeout = 60 })
end

local describe_kubectl = have_kubectl and describe or pending

describe_kubectl('the real kubectl through tokrun -f exec-credential', function()
  local srv, dir
  before_each(function()
    srv = mock.start { routes = 'tests/mocks/kube_api.lua', tls = true, config = { token = TOKEN } }
    dir = cli.tmpdir()
    assert(sys.mkdir(dir .. '/cache', 448))
  end)
  after_each(function() srv:stop(); cli.cleanup() end)

  local function stats()
    local resp = assert(require('tokrun.http').request { url = srv.url .. '/__mock/kube', cacert = srv.cacert,
      timeout = 5 })
    return json.decode(resp.body)
  end

  for _, version in ipairs({ 'client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1' }) do
    it('authenticates with a kubeconfig in ' .. version .. '; three calls mint once', function()
      local config = kubeconfig(dir, srv, version)
      for _ = 1, 3 do
        local r = kubectl(dir, config)
        assert.equal(0, r.status, r.stderr)
        assert.equal('hello from the mock API', json.decode(r.stdout).data.greeting)
      end
      assert.equal('minted\n', read(dir .. '/count'))
      assert.same({ accepted = 3, rejected = 0 }, stats())
    end)
  end

  it('fails cleanly, without a prompt, when the recipe cannot mint', function()
    local config = kubeconfig(dir, srv, 'client.authentication.k8s.io/v1')
    local r = kubectl(dir, config, { ECHO_TOKEN = '' })
    assert.not_equal(0, r.status)
    assert.matches('ECHO_TOKEN', r.stderr, 1, true)   -- tokrun's one line, passed on by kubectl
    assert.equal('', read(dir .. '/count'))
    assert.same({ accepted = 0, rejected = 0 }, stats())
  end)

  it('a token the API server rejects is never accepted', function()
    local config = kubeconfig(dir, srv, 'client.authentication.k8s.io/v1beta1')
    local r = kubectl(dir, config, { ECHO_TOKEN = 'forged' })
    assert.not_equal(0, r.status)
    assert.equal(0, stats().accepted)
  end)
end)
