"""The one error every malformed collection query raises."""

from __future__ import annotations


class QueryError(ValueError):
    """A malformed query or one naming an unknown field; str() is the user-facing reason (-> 400).

    The message names the query parameter first (``where: ...``, ``sort: ...``) and then says
    exactly what is wrong: the offending key or the column of the expression.
    """
