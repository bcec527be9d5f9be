"""User-facing errors: the CLI exits 2 on a HwflowError (bad input) and 1 on a CheckFailed."""


class HwflowError(Exception):
    """A problem with the user's input: the message is one line saying what is wrong and the fix."""


class CheckFailed(HwflowError):
    """A check hwflow ran found a difference (e.g. a testbench mismatch): the message says where to look."""
