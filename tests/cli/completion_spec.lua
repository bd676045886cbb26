-- Shell completion (packaging/completion): each script sourced in its real
-- shell, bash and zsh, and asked for completions as the shell would ask:
-- subcommands, options, formats, recipe names on the search path, and a
-- recipe's parameters after -p.
local cli = require 'cli_helper'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

local function have(cmd)
  return os.execute('command -v ' .. cmd .. ' >/dev/null 2>&1') == true
end

local BASH = [==[
. "$COMPLETION"
req() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
  _tokrun; printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '; echo; }
]==]

-- zsh: the function autoloaded from fpath as compinit would; the
-- completion system's builtins replaced by ones that print what they are
-- given (compadd filtered by the word being completed, as it matches).
local ZSH = [==[
setopt extendedglob
fpath=("${COMPLETION%/*}" $fpath)
autoload -Uz _tokrun
compadd() {
  local suffix= ; local -a a; a=("$@")
  while [[ $a[1] == -* && $a[1] != -- ]]; do
    if [[ $a[1] == -S ]]; then suffix=$a[2]; a=(${a[3,-1]}); else a=(${a[2,-1]}); fi
  done
  [[ $a[1] == -- ]] && a=(${a[2,-1]})
  local c; for c in $a; do [[ $c == ${words[CURRENT]}* ]] && print -r -- $c$suffix; done
}
_files() { print -r -- '<files>'; }
_command_names() { print -r -- '<commands>'; }
_message() { :; }
req() { words=("$@"); CURRENT=$#words; print -r -- "$(_tokrun | sort | tr '\n' ' ')"; }
]==]

describe('shell completion', function()
  local dir
  setup(function()
    dir = cli.tmpdir()
    local zephyr = assert(sys.read_file(cli.root .. '/docs/examples/zephyr.lua', 65536))
    assert(sys.write_atomic(dir .. '/mine.lua', (zephyr:gsub("name = 'zephyr'", "name = 'mine'"))))
  end)
  teardown(cli.cleanup)

  -- Runs the requests (one shell line each) -> one line of sorted answers each.
  local function complete(shell, requests)
    local prelude = shell == 'bash' and BASH or ZSH
    local file = cli.root .. '/packaging/completion/' .. (shell == 'bash' and 'tokrun.bash' or '_tokrun')
    local script = prelude .. table.concat(requests, '\n') .. '\n'
    local argv = shell == 'bash' and { 'bash', '--norc', '--noprofile', '-c', script }
      or { 'zsh', '-f', '-c', script }
    local r = assert(process.run { argv = argv, timeout = 120, env = {
      PATH = os.getenv('PATH'), HOME = dir, TOKRUN_PATH = dir, COMPLETION = file } })
    assert.equal(0, r.status, r.stderr)
    assert.equal('', r.stderr)
    local lines = {}
    for line in r.stdout:gmatch('([^\n]*)\n') do lines[#lines + 1] = line end
    return lines
  end

  for _, shell in ipairs({ 'bash', 'zsh' }) do
    it('completes subcommands, options, formats, recipes and -p parameters in ' .. shell, function()
      if not have(shell) then return pending(shell .. ' is not installed (apt-get install ' .. shell .. ')') end
      local t = "req '" .. cli.bin .. "' "
      local got = complete(shell, {
        t .. "ex",
        t .. "--for",
        t .. "-f ''",
        t .. "check -f ''",
        t .. "mi",
        t .. "mine -p ''",
        t .. "-v mine --dry-run -p ''",
        t .. "exec pam_checkout -p r",
        t .. "new acme -",
        t .. "v",
      })
      assert.equal('exec ', got[1])
      assert.equal('--format ', got[2])
      assert.equal('aws-credential-process env exec-credential json token ', got[3])
      assert.equal('json ', got[4])
      assert.equal('mine ', got[5])
      -- the secret key_secret is left out: -p refuses it
      assert.equal('base_url= key_id= scopes= ttl= ', got[6])
      assert.equal(got[6], got[7])
      assert.equal('reason= run_host= ', got[8])
      assert.equal('--cli --hmac --jwt --oauth2 -C ', got[9])
      assert.equal('velafi velt ', got[10])
    end)
  end
end)
