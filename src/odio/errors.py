"""The one exception type for mistakes a user can fix (bad file, bad column, bad setting).

The CLI prints these as a single ``error: ...`` line and exits with status 2; anything
else is a bug in odio and keeps its traceback.
"""

from __future__ import annotations


class OdioError(Exception):
    """A user-fixable problem, with a message that names the file, row, column or setting.

    Example:
        >>> raise OdioError("train.csv: column 'text' not found")
        Traceback (most recent call last):
        ...
        odio.errors.OdioError: train.csv: column 'text' not found
    """
