-- {name|form}: the value form-urlencoded, as RFC 6749 section 2.3.1 asks of
-- a client id and secret before they go into HTTP Basic.
local template = require 'tokrun.template'

describe('the |form template filter', function()
  it('form-urlencodes a value, space as +', function()
    assert.equal('a%2Fb%2Bc%3D+d', template.string('{v|form}', { v = 'a/b+c= d' }))
  end)

  it('leaves unreserved characters alone and drops out when unset', function()
    assert.equal('id-1.x_y~z:', template.string('{v|form}:', { v = 'id-1.x_y~z' }))
    assert.is_nil(template.string('{v|form}', {}))
  end)
end)
