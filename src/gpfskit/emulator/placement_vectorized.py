"""File placement over a whole scan batch: ``POOL_NAME`` for every row, vectorised.

The same decisions as ``placement.Placement.pool_for`` makes for one record (the tests
check both agree); kept apart because it needs NumPy and pyarrow, which a command that
places one file does not load.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpfskit.emulator.placement import (
    SYSTEM,
    TIMES_AT_CREATION,
    ZERO_AT_CREATION,
    Placement,
    PlacementHistory,
)
from gpfskit.language import EvalContext
from gpfskit.language.vectorized import evaluate_mask


def pool_column(history: PlacementHistory, batch: pa.RecordBatch,
                ctx: EvalContext | None = None, *, recorded: pa.Array | None = None,
                directories: np.ndarray | None = None,
                occupancy: Mapping[str, float] | None = None) -> pa.Array:
    """POOL_NAME for every row of a scan batch: each file as the placement in force at its
    CREATION_TIME placed it (see :func:`placed_by`)."""
    if len(history.eras) == 1 or "CREATION_TIME" not in batch.schema.names:
        return placed_by(history.current, batch, ctx, recorded=recorded,
                         directories=directories, occupancy=occupancy)
    created = pc.fill_null(batch.column("CREATION_TIME").cast(pa.float64()), np.inf)
    era_of = np.maximum(np.searchsorted(np.array(history.sinces), np.asarray(created),
                                        "right") - 1, 0)
    pools = np.empty(batch.num_rows, object)
    for index in np.unique(era_of):
        rows = np.flatnonzero(era_of == index)
        take = pa.array(rows)
        column = placed_by(history.eras[index][1], batch.take(take), ctx,
                           recorded=recorded.take(take) if recorded is not None else None,
                           directories=directories[rows] if directories is not None else None,
                           occupancy=occupancy)
        pools[rows] = column.to_numpy(zero_copy_only=False)
    return pa.array(pools, pa.string())


def placed_by(placement: Placement, batch: pa.RecordBatch, ctx: EvalContext | None = None,
              *, recorded: pa.Array | None = None, directories: np.ndarray | None = None,
              occupancy: Mapping[str, float] | None = None) -> pa.Array:
    """POOL_NAME for every row of a scan batch, as ``placement`` places them.

    ``recorded`` is the pool recorded on each file (null where none), ``directories`` a
    boolean mask of the rows that are directories (they are in ``system``).
    """
    n = batch.num_rows
    names = [placement.default]
    choice = np.zeros(n, np.int32)
    rules = placement.usable_rules(occupancy)
    constant = None if rules and (rules[0].for_fileset is not None
                                  or rules[0].where is not None) else (
        rules[0].pool if rules else placement.default)
    if constant is not None:
        names = [constant]
    elif n:
        ctx = ctx or EvalContext()
        view = _creation_view(batch)
        open_rows = np.ones(n, bool)
        for rule in rules:
            if not open_rows.any():
                break
            mask = open_rows.copy()
            if rule.for_fileset is not None:
                mask &= isin(view.column("FILESET_NAME"), rule.for_fileset)
            if rule.where is not None and mask.any():
                mask &= evaluate_mask(rule.where, view, ctx)
            if mask.any():
                pool = rule.pool or placement.default
                if pool not in names:
                    names.append(pool)
                choice[mask] = names.index(pool)
                open_rows &= ~mask
    if directories is not None and directories.any():
        if SYSTEM not in names:
            names.append(SYSTEM)
        choice[directories] = names.index(SYSTEM)
    placed = pa.array(names, pa.string()).take(pa.array(choice, pa.int32()))
    if recorded is None or recorded.null_count == n:
        return placed
    if not pa.types.is_string(recorded.type):
        recorded = recorded.cast(pa.string())
    recorded = pc.if_else(pc.equal(recorded, ""), pa.scalar(None, pa.string()), recorded)
    if directories is not None and directories.any():
        recorded = pc.if_else(pa.array(directories), pa.scalar(None, pa.string()), recorded)
    return pc.coalesce(recorded, placed)


def isin(column: pa.Array, values: tuple[str, ...]) -> np.ndarray:
    """Rows of a string or binary column whose value is one of ``values`` (NULL: no)."""
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        value_set = pa.array([v.encode() for v in values], column.type)
    else:
        value_set = pa.array(list(values), column.type)
    return np.asarray(pc.fill_null(pc.is_in(column, value_set=value_set), False))


def _creation_view(batch: pa.RecordBatch) -> pa.RecordBatch:
    names = batch.schema.names
    replace: dict[str, pa.Array] = {}
    for name in ZERO_AT_CREATION:
        if name in names:
            replace[name] = pa.array(np.zeros(batch.num_rows, np.int64))
    if "CREATION_TIME" in names:
        created = batch.column("CREATION_TIME")
        for name in TIMES_AT_CREATION:
            if name in names:
                replace[name] = created.cast(batch.schema.field(name).type)
    if not replace:
        return batch
    arrays = [replace.get(name, batch.column(i)) for i, name in enumerate(names)]
    return pa.RecordBatch.from_arrays(arrays, names=names)


# Loading ------------------------------------------------------------------------------------
