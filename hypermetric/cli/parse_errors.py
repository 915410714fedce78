"""The argument parser's errors in the same `error: ... / = help: ...` form as every other user error.

click reports a bad command line itself, as a `Usage: ... Error: ...` box on stderr. That box looks like no
other message of hypermetric, so `app` turns each of click's exceptions into a `UsageError` here: the message
in our words, the accepted values of a choice, a "did you mean" for a misspelt option or command, and the
`--help` line of the command that was being parsed.
"""

from __future__ import annotations

from hypermetric.errors import UsageError
from hypermetric.suggest import did_you_mean, join_names


def usage_error(exc: Exception) -> UsageError:
    """The `UsageError` that says what click's exception `exc` says."""
    kind = type(exc).__name__
    command = _command_path(exc)
    helpline = f"see `{command} --help`"
    if kind == "NoSuchOption":
        name = getattr(exc, "option_name", "?")
        possible = list(getattr(exc, "possibilities", None) or [])
        guess = did_you_mean(name, possible) or (possible[0] if len(possible) == 1 else None)
        return UsageError(f"`{command}` has no option `{name}`",
                          help=f"did you mean `{guess}`? ({helpline})" if guess else helpline)
    if kind == "BadParameter":
        return _bad_value(exc, helpline)
    if kind == "MissingParameter":
        return UsageError(f"{_param_name(exc)} is missing", help=helpline)
    if kind == "BadOptionUsage" or kind == "BadArgumentUsage":
        return UsageError(_sentence(_message(exc)), help=helpline)
    message = _message(exc)
    if message.startswith("No such command"):
        return _no_such_command(exc)
    return UsageError(_sentence(message), help=helpline)


def _bad_value(exc: Exception, helpline: str) -> UsageError:
    param = getattr(exc, "param", None)
    choices = list(getattr(getattr(param, "type", None), "choices", None) or [])
    name = _param_name(exc)
    if choices:
        value = _given_value(exc)
        return UsageError(f"invalid value `{value}` for {name}",
                          help=f"accepted values: {', '.join(choices)}")
    return UsageError(f"invalid value for {name}: {_sentence(str(getattr(exc, 'message', exc)))}", help=helpline)


def _given_value(exc: Exception) -> str:
    """The value the user gave, as click quotes it at the start of its message (`'xml' is not one of`)."""
    text = str(getattr(exc, "message", ""))
    if text.startswith("'") and "'" in text[1:]:
        return text[1:text.index("'", 1)]
    return text


def _no_such_command(exc: Exception) -> UsageError:
    ctx = getattr(exc, "ctx", None)
    group = getattr(ctx, "command", None)
    names = sorted(getattr(group, "commands", {}) or {})
    text = _message(exc)
    given = text.split("'")[1] if text.count("'") >= 2 else text
    guess = did_you_mean(given, names)
    help = f"did you mean `{guess}`?" if guess else f"the commands are {join_names(names, 'and')}"
    return UsageError(f"no command `{given}`", help=help)


def _param_name(exc: Exception) -> str:
    param = getattr(exc, "param", None)
    opts = list(getattr(param, "opts", None) or [])
    if getattr(param, "param_type_name", "") == "option" and opts:
        return f"`{max(opts, key=len)}`"
    hint = getattr(exc, "param_hint", None)
    if isinstance(hint, str) and hint:
        return hint.replace("'", "`")
    return "an argument"


def _command_path(exc: Exception) -> str:
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    return path or "hypermetric"


def _sentence(text: str) -> str:
    """click's sentence with our casing: lower-case start, no final full stop, `quotes` for names."""
    text = str(text).strip().rstrip(".").replace("'", "`")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def single_value(option: str, values: list[str] | None) -> str | None:
    """The one value of an option given at most once; a repeat is an error rather than a silent last-wins."""
    if not values:
        return None
    if len(values) > 1:
        raise UsageError(f"`{option}` is given {len(values)} times ({', '.join(values)})",
                         help=f"give `{option}` once")
    return values[0]


def _message(exc: Exception) -> str:
    """Click's own wording of its error (`format_message`), or the exception's text."""
    format_message = getattr(exc, "format_message", None)
    return format_message() if callable(format_message) else str(exc)
