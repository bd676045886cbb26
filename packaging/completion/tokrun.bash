# bash completion for tokrun: subcommands, options, formats, recipe names on
# the search path (`tokrun list`) and, after -p, the chosen recipe's
# parameters (`tokrun --help RECIPE --format json`: the names -p accepts).

_tokrun_options='-p --param --env-file -o --output -f --format --cache --cache-cacert
  --cache-fallback= --shared-rotation --min-ttl --max-age
  --timeout --exec-timeout --retries --cacert --client-cert --client-key --insecure --dry-run
  -v --verbose --now -h --help --version'
_tokrun_commands='exec release check list new lua git-credential'
_tokrun_formats='json token env exec-credential aws-credential-process'

# The recipes `tokrun list` knows, one name a line.
_tokrun_recipes() {
  "${1:-tokrun}" list 2>/dev/null | while read -r name _; do printf '%s\n' "$name"; done
}

# The parameters RECIPE accepts with -p, one name a line.
_tokrun_params() {
  "$1" --help "$2" --format json 2>/dev/null |
    sed -n 's/.*"cli_params":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' | tr -d '"'
}

_tokrun() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local tokrun=${COMP_WORDS[0]} sub="" recipe="" i w
  COMPREPLY=()
  # what is on the line already: the subcommand, the recipe, a "--"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --) [ "$sub" = exec ] && { COMPREPLY=($(compgen -c -- "$cur")); return; } ;;
      -p|--param|--env-file|-o|--output|-f|--format|--min-ttl|--max-age|--timeout|--exec-timeout|\
      --retries|--cacert|--cache-cacert|--client-cert|--client-key|--now|-C) ((i++)) ;;
      -*) ;;
      *) if [ $i -eq 1 ] && [[ " $_tokrun_commands " == *" $w "* ]]; then sub=$w
         elif [ -z "$recipe" ]; then recipe=$w; fi ;;
    esac
  done
  case $prev in
    -f|--format)
      if [ "$sub" = check ]; then COMPREPLY=($(compgen -W json -- "$cur"))
      else COMPREPLY=($(compgen -W "$_tokrun_formats" -- "$cur")); fi
      return ;;
    -p|--param)
      [ -n "$recipe" ] && COMPREPLY=($(compgen -S = -W "$(_tokrun_params "$tokrun" "$recipe")" -- "$cur"))
      compopt -o nospace 2>/dev/null
      return ;;
    --env-file|-o|--output|--cacert|--cache-cacert|--client-cert|--client-key)
      COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -C) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --min-ttl|--max-age|--timeout|--exec-timeout|--retries|--now) return ;;
  esac
  case $sub in
    new)
      [[ $cur == -* ]] && COMPREPLY=($(compgen -W '--hmac --oauth2 --jwt --cli -C' -- "$cur"))
      return ;;
    lua) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    list) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$_tokrun_options" -- "$cur"))
  elif [[ $cur == */* || $cur == .* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [ -z "$recipe" ] || [ "$sub" = check ]; then
    local words
    words=$(_tokrun_recipes "$tokrun")
    [ -z "$sub" ] && [ $COMP_CWORD -eq 1 ] && words="$_tokrun_commands $words"
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -F _tokrun tokrun
