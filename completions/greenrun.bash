# bash completion for greenrun: options, subcommands, region and cloud ids
# (from `greenrun regions --ids`), files where options take files, and the
# wrapped command (with its own completion) after -- or the first non-option.

# Options that take a value; the next word is that value, not the command.
_greenrun_valued='-i --interval --scope -j --json --checkpoint --summary-file --csv --project --experiment-id
  --step-summary --metrics --metrics-format --pushgateway --label --max-energy --max-emissions --max-increase
  --on-budget --grace --baseline -r --region --cloud --intensity --intensity-file --pue --emission-factor --compare
  --cpu-tdp --cpu-model --cpu-idle-w --cpu-max-w --ram-w-per-gb --gpu-tdp --nvml-lib --rocm-lib --dev-root
  --sysfs-root --procfs-root --html --log-level --log-file --tree --config --intensity-source
  --start-within --expected-duration --pause-above --max-delay --pause-with --intensity-poll --intensity-timeout --intensity-ttl
  --instance-type --embodied-kg --lifetime --functional-unit --wue --progress'

_greenrun() {
  local cur prev words cword
  _init_completion -n : || return
  local i skip=0
  for ((i = 1; i < cword; i++)); do
    if ((skip)); then skip=0; continue; fi
    local w=${words[i]}
    if [[ $w == -- ]]; then _command_offset $((i + 1)); return; fi
    if [[ $w == -* ]]; then
      [[ $w != *=* && " $_greenrun_valued " == *" $w "* ]] && skip=1
      continue
    fi
    # The first word that is no option: a subcommand, or the command to wrap.
    case $w in
      sensors|regions|report|compare|mark|count|progress|plan|config|help) ;;
      *) _command_offset $i; return ;;
    esac
    break
  done
  if [[ ${words[1]} == help ]]; then  # a subcommand or a section of the manual
    ((cword == 2)) && COMPREPLY=($(compgen -W "$(greenrun help topics 2>/dev/null | sed 's/^[a-z ]*://')" -- "$cur"))
    return
  fi
  case $prev in
    -r|--region|--compare)
      COMPREPLY=($(compgen -W "$(greenrun regions --ids region 2>/dev/null)" -- "$cur")); return ;;
    --cloud)
      COMPREPLY=($(compgen -W "$(greenrun regions --ids cloud 2>/dev/null)" -- "$cur"))
      __ltrim_colon_completions "$cur"; return ;;
    -j|--json|--csv|--summary-file|--step-summary|--metrics|--intensity-file|--baseline|--nvml-lib|--rocm-lib|--html|--log-file|--config)
      _filedir; return ;;
    --sysfs-root|--procfs-root|--dev-root) _filedir -d; return ;;
    --scope) COMPREPLY=($(compgen -W "process machine" -- "$cur")); return ;;
    --emission-factor) COMPREPLY=($(compgen -W "lifecycle direct" -- "$cur")); return ;;
    --on-budget) COMPREPLY=($(compgen -W "warn fail stop" -- "$cur")); return ;;
    --metrics-format) COMPREPLY=($(compgen -W "prometheus openmetrics" -- "$cur")); return ;;
    --pause-with) COMPREPLY=($(compgen -W "stop SIGUSR1 SIGUSR2 SIGTSTP" -- "$cur")); return ;;
    --intensity-source) COMPREPLY=($(compgen -W "electricitymaps: watttime: uk uk: file" -- "$cur")); return ;;
    --log-level) COMPREPLY=($(compgen -W "off debug trace" -- "$cur")); return ;;
    --tree) COMPREPLY=($(compgen -W "auto cgroup proc" -- "$cur")); return ;;
  esac
  [[ " $_greenrun_valued " == *" $prev "* ]] && return  # a value greenrun cannot guess
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(greenrun --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]+' | sort -u) --" -- "$cur"))
    return
  fi
  if ((cword == 1)); then
    COMPREPLY=($(compgen -W "sensors regions report compare mark count progress plan config help" -- "$cur") $(compgen -c -- "$cur"))
  else
    COMPREPLY=($(compgen -c -- "$cur"))
  fi
}
complete -F _greenrun greenrun
