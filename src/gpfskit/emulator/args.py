"""Option parsing with the conventions of the mm* commands.

Options may appear anywhere among the operands, valued options take the next word (or
``--opt=value``), single-letter flags can be grouped (``mmgetstate -aL``) and a valued option
may be repeated (``--parms`` of mmaddcallback). Mistakes raise ``UsageError``, which the
dispatcher turns into the command's ``Usage:`` text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TYPE_CHECKING = False   # True for mypy only: a command from a shell does not load typing
if TYPE_CHECKING:
    from fractions import Fraction

# The largest number a command stores: the state database's integers (and the real
# commands' counters) are signed 64-bit.
MAX_NUMBER = 2**63 - 1


class UsageError(Exception):
    """The arguments do not fit the command's synopsis."""


class Parsed:
    """A command line taken apart (a plain class: every command parses its arguments, and a
    dataclass would have each one load ``dataclasses`` first)."""

    __slots__ = ("flags", "operands", "values")

    def __init__(self, operands: list[str], flags: set[str],
                 values: dict[str, list[str]] | None = None) -> None:
        self.operands = operands
        self.flags = flags
        self.values: dict[str, list[str]] = {} if values is None else values

    def has(self, *names: str) -> bool:
        return any(n in self.flags or n in self.values for n in names)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.values.get(name)
        return values[-1] if values else default

    def all(self, name: str) -> list[str]:
        return list(self.values.get(name, []))


def parse(argv: Sequence[str], *, flags: Sequence[str] = (), valued: Sequence[str] = (),
          min_operands: int = 0, max_operands: int | None = None) -> Parsed:
    """Split ``argv`` (without the command name) into operands, flags and option values."""
    flag_set, valued_set = set(flags), set(valued)
    result = Parsed([], set())
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            result.operands.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-" or _is_number(arg):
            result.operands.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        if name in valued_set:
            if eq:
                value = inline
            elif i < len(args):
                value = args[i]
                i += 1
            else:
                raise UsageError(f"Option {name} requires a value.")
            result.values.setdefault(name, []).append(value)
        elif arg in flag_set:
            result.flags.add(arg)
        elif not arg.startswith("--") and len(arg) > 2 and all(
            f"-{c}" in flag_set for c in arg[1:]
        ):
            result.flags.update(f"-{c}" for c in arg[1:])
        else:
            raise UsageError(f"Incorrect option: {arg}")
    if len(result.operands) < min_operands:
        raise UsageError("Missing arguments.")
    if max_operands is not None and len(result.operands) > max_operands:
        raise UsageError(f"Incorrect extra argument: {result.operands[max_operands]}")
    return result


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_digits(text: str) -> bool:
    """Only the digits 0-9 (``str.isdigit`` also takes ``¹`` and ``١``, which ``int`` refuses
    or reads differently)."""
    return text.isascii() and text.isdigit()


def scaled_number(text: str, units: dict[str, int | Fraction], *, fractions: bool = False,
                  maximum: int | None = MAX_NUMBER) -> int:
    """``500``, ``2M``, ``1.5G`` (with ``fractions``): the number times its unit, rounded up.

    ``units`` maps each accepted suffix (upper case, ``""`` for none) to its multiplier.
    Digits are ASCII only and the arithmetic is exact, so a 400-digit number is refused as
    too large instead of overflowing; ValueError says what is wrong.
    """
    from fractions import Fraction  # loaded by the commands that take numbers only

    number = r"[0-9]+(?:\.[0-9]+)?" if fractions else r"[0-9]+"
    pattern = rf"({number})\s*([A-Za-z]*)"
    match = re.fullmatch(pattern, text.strip())
    if not match or match.group(2).upper() not in units:
        raise ValueError("it is not a number" + (
            f" with one of the units {', '.join(u for u in units if u)}" if len(units) > 1
            else ""))
    value = -(-Fraction(match.group(1)) * units[match.group(2).upper()] // 1)
    if maximum is not None and value > maximum:
        raise ValueError(f"it is larger than the maximum of {maximum}")
    return int(value)


def node_list(text: str) -> list[str]:
    """``-N node1,node2`` -> ['node1', 'node2'] (class names are expanded by the caller)."""
    return [n for n in text.split(",") if n]
