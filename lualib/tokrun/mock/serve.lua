-- The mock server process that tokrun.mock starts:
--   tokrun lua tokrun/mock/serve.lua SETUP.json READY
-- (see tokrun/mock/server.lua).
os.exit(require("tokrun.mock.server").serve(arg[1], arg[2]))
