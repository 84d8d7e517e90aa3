"""The one exception type the CLI turns into `error: ...` and exit status 1."""


class ListenError(Exception):
    """A failure the user can act on: bad input, a missing voice, a tool that failed."""
