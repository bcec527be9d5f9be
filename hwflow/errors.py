"""User-facing errors."""


class HwflowError(Exception):
    """A problem with the user's input: the message is one line saying what is wrong and the fix."""
