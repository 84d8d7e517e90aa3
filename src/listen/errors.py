"""The exception types the CLI turns into `error: ...` and exit status 1."""


class ListenError(Exception):
    """A failure the user can act on: bad input, a missing voice, a tool that failed."""


class TransientError(ListenError):
    """A failure that may pass if the same work is tried again later: a page server that is
    down, overloaded or slow. Queue workers retry these (with backoff); a local render
    reports them like any other error."""
