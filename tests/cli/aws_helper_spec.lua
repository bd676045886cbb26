-- -f aws-credential-process with the real AWS CLI: a profile whose
-- credential_process is tokrun running aws_web_identity against a loopback
-- STS mock; `aws sts get-caller-identity` is then signed (SigV4) with the
-- minted keys, which the mock verifies: the Authorization header names the
-- minted access key id, X-Amz-Security-Token is the session token, and the
-- signature checks out with the minted secret.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'
local json = require 'tokrun.json'

local AWS = '/usr/bin/aws'
local have_aws = sys.lstat(AWS) ~= nil
local BIN = cli.bin:sub(1, 1) == '/' and cli.bin or (sys.realpath(cli.bin) or cli.bin)
local ROLE = 'arn:aws:iam::123456789012:role/deploy'
local JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl'

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local describe_aws = have_aws and describe or pending

describe_aws('the real AWS CLI through tokrun -f aws-credential-process', function()
  local srv, dir
  before_each(function()
    srv = mock.start { routes = 'tests/mocks/aws_sts.lua', config = { role_arn = ROLE, web_identity_token = JWT } }
    dir = cli.tmpdir()
    assert(sys.mkdir(dir .. '/cache', 448))
    write(dir .. '/token', JWT .. '\n')
    -- the recipe's inputs go in an --env-file: in the CLI's own environment,
    -- AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE would make it assume the
    -- role itself instead of running credential_process
    write(dir .. '/tokrun.env', 'AWS_WEB_IDENTITY_TOKEN_FILE=' .. dir .. '/token\n'
      .. 'AWS_ROLE_ARN=' .. ROLE .. '\nAWS_ENDPOINT_URL_STS=' .. srv.url .. '/\n')
    write(dir .. '/config', table.concat({
      '[profile tokrun]',
      'credential_process = ' .. BIN .. ' -f aws-credential-process --cache --env-file ' .. dir .. '/tokrun.env '
        .. cli.recipe('aws_web_identity'),
      'region = us-east-1', '' }, '\n'))
  end)
  after_each(function() srv:stop(); cli.cleanup() end)

  local function aws(args)
    local argv = { AWS }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    return assert(process.run { argv = argv, timeout = 90, stdin = '', env = {
      PATH = '/usr/bin:/bin', HOME = dir, AWS_CONFIG_FILE = dir .. '/config',
      AWS_SHARED_CREDENTIALS_FILE = dir .. '/credentials', AWS_EC2_METADATA_DISABLED = 'true',
      XDG_CACHE_HOME = dir .. '/cache', AWS_PAGER = '' } })
  end

  local function stats()
    local resp = assert(require('tokrun.http').request { url = srv.url .. '/__mock/sts', timeout = 5 })
    return json.decode(resp.body)
  end

  it('signs get-caller-identity with the minted keys (the mock verifies SigV4), minting once', function()
    for _ = 1, 2 do
      local r = aws({ 'sts', 'get-caller-identity', '--profile', 'tokrun', '--endpoint-url', srv.url,
        '--output', 'json' })
      assert.equal(0, r.status, r.stderr)
      local id = json.decode(r.stdout)
      assert.equal('arn:aws:sts::123456789012:assumed-role/mock/ASIAMOCK0001', id.Arn)
      assert.equal('123456789012', id.Account)
    end
    local auth = srv:last().headers.authorization
    assert.same({ minted = 1, identities = 2 }, stats())
    assert.matches('^AWS4%-HMAC%-SHA256 Credential=ASIAMOCK0001/%d+/us%-east%-1/sts/aws4_request', auth)
  end)

  it('the CLI reports tokrun\'s failure and the mock sees no signed call', function()
    write(dir .. '/token', 'eyJ.forged.token\n')
    local r = aws({ 'sts', 'get-caller-identity', '--profile', 'tokrun', '--endpoint-url', srv.url })
    assert.not_equal(0, r.status)
    assert.matches('InvalidIdentityToken', r.stderr, 1, true)
    assert.not_matches('eyJ.forged.token', r.stderr, 1, true)
    assert.same({ minted = 0, identities = 0 }, stats())
  end)
end)
