-- A release is given only the parameters its steps use.
local lease = require 'tokrun.lease'
local recipe = require 'tokrun.recipe'
local cli = require 'cli_helper'

describe('lease.params_for_release', function()
  it('names only what the release steps (and the values they derive from) use', function()
    local decl = recipe.load(cli.recipe('pam_checkout'))
    assert.same({ base_url = true, api_token = true, run_host = true }, lease.params_for_release(decl))
  end)
end)
