"""Text from HyperMake's own documentation that tests run unchanged."""

# The runner example of HyperMake's `runner.md` (`object popen`), verbatim: `submit` takes the script file,
# runs it in the background in the job's directory and prints nothing; `poll` and `cancel` take the pid.
POPEN_RUNNER = """
object popen:
  def submit(script_file):
    {
      source $script_file > stdout 2> stderr
      echo $? > exitcode
    } &
    echo $! > pid

  def poll(pid):
    if kill -0 $pid > /dev/null 2>&1
    then
      :
    else
      if [ -f exitcode ]
      then
        cat exitcode
      else
        echo -1
      fi
    fi

  def cancel(pid):
    kill -9 $pid
"""


def with_refresh_interval(text: str, seconds: str) -> str:
    """The runner with `refresh_interval` set, as HyperMake's docs allow."""
    return text.replace("object popen:\n", f'object popen:\n  refresh_interval = "{seconds}"\n')
