-- busted output handler: the plain terminal report, then the one closing
-- line CI reads: "N passed, N failed" (errors count as failures).
return function(options)
  local busted = require 'busted'
  local handler = require 'busted.outputHandlers.plainTerminal'(options)

  local function summary()
    local failed = handler.failuresCount + handler.errorsCount
    io.write(string.format('%d passed, %d failed, %d skipped\n',
      handler.successesCount, failed, handler.pendingsCount))
    io.flush()
    return nil, true
  end

  busted.subscribe({ 'suite', 'end' }, summary, { priority = -1 })
  return handler
end
