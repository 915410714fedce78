# hypermetric's go-ahead gate (see gate.py): bash reads this file, named by BASH_ENV, before the script. It
# waits for the runner's line on standard input and exits without running the script if the pipe closes first.
read -r hm_go || exit 125
exec </dev/null
if [ -n "${HYPERMETRIC_GATE_CD+x}" ]; then
  # started ahead in another directory: move into the job's (a physical path, so PWD is what bash started
  # there would find), leaving OLDPWD as the script would find it
  hm_old=${OLDPWD-} hm_had=${OLDPWD+x}
  cd -- "$HYPERMETRIC_GATE_CD" || exit 125
  if [ -n "$hm_had" ]; then OLDPWD=$hm_old; else unset OLDPWD; fi
  unset HYPERMETRIC_GATE_CD hm_old hm_had
fi
unset BASH_ENV hm_go
