# zsh capture.zsh <script> <line>: what zsh's own completion offers for <line><TAB>, a candidate a line.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1= ; RPROMPT= ; autoload -Uz compinit; compinit -u -D; source ${(q)1}"
# The hits compadd is given, printed (the completion widget writes to the terminal zpty reads).
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -A __hits "$@"; local h; for h in $__hits; do print -r -- "<<$h>>"; done; }'
zpty -w z 'functions[_berth_under_test]=$functions[_berth]; _berth() { _berth_under_test "$@"; print -r -- "<<DONE>>"; }'
zpty -w z "bindkey '^I' complete-word; print -r -- READY"
local line
while zpty -r z line; do [[ $line == READY* ]] && break; done
zpty -w -n z "$2"$'\t'
local -a out
integer deadline=$(( SECONDS + 20 ))
while (( SECONDS < deadline )); do
  if zpty -r -t z line; then
    [[ $line == *'<<DONE>>'* ]] && break
    [[ $line == *'<<'*'>>'* ]] && out+=("${${line#*<<}%%>>*}")
  else
    sleep 0.05
  fi
done
zpty -d z
print -rl -- $out
