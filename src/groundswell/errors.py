"""Errors a user can act on. The CLI turns these into one-line messages and exit 1."""


class GroundswellError(Exception):
    """A problem with the user's input or setup, never a bug: shown without a traceback."""


class UnknownFormat(GroundswellError):
    pass


class StoreBusy(GroundswellError):
    pass
