"""How frames cross between Python and the Rust core: pandas frames and
Series to Arrow (the time column, a ``DatetimeIndex`` and its return),
dictionary-encoded columns, and the result back to pandas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from windcore.exceptions import ColumnError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import polars as pl
    import pyarrow as pa

#: Default name of the time column (``time_column=``); the output keeps the input's name.
TIMESTAMP = "timestamp"


class _IndexTime:
    """A pandas ``DatetimeIndex`` that went in as the time column, and what the
    output needs to put it back: the column it became, the index's own name
    and time zone, and, for a Series, the variable its values became."""

    __slots__ = ("column", "name", "tz", "variable")

    def __init__(self, column: str, name: Any, tz: Any, variable: Optional[str]) -> None:
        self.column = column
        self.name = name
        self.tz = tz
        self.variable = variable


def _free_name(wanted: Any, taken: Any) -> str:
    """``wanted`` if it is a string not among ``taken``, else ``timestamp``,
    else a name no column has."""
    for name in (wanted, TIMESTAMP, "__windcore_time__"):
        if isinstance(name, str) and name not in taken:
            return name
    raise ColumnError("cannot name the time column: `timestamp` and `__windcore_time__` are taken")


def _from_pandas(
    data: Any, time_column: Optional[str], named: "set[str]"
) -> "tuple[pa.Table, Optional[str], Optional[_IndexTime]]":
    """A pandas DataFrame or Series as a pyarrow Table, the time column's name
    to pass on, and how to restore a ``DatetimeIndex`` on the output (None
    when the time is a column).

    The one rule: the time is the column ``time_column`` (default
    ``timestamp``) when the frame has it, otherwise a ``DatetimeIndex`` (when
    ``time_column`` is given, only one of that name). A Series always uses
    its ``DatetimeIndex``; its values become the variable named after the
    Series (``value`` when unnamed).

    ``named``: the columns the call names (keys, counters, states,
    variables); with the time column and every numeric column they are
    converted, any other column becomes an all-null placeholder (windcore
    does not read it, and a text column would be copied for nothing).
    """
    import pandas as pd

    try:
        import pyarrow as pa
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "pandas input needs pyarrow: pip install 'windcore[pandas]'"
        ) from e
    variable = None
    if isinstance(data, pd.Series):
        if not isinstance(data.index, pd.DatetimeIndex):
            raise TypeError(
                "a pandas Series needs a DatetimeIndex (the sample times), got a "
                f"{type(data.index).__name__}; pass a DataFrame with a time column instead"
            )
        variable = "value" if data.name is None else str(data.name)
        data = data.to_frame(variable)
    index = data.index
    restore = None
    if isinstance(index, pd.DatetimeIndex) and (
        variable is not None
        or (time_column is None and TIMESTAMP not in data.columns)
        or (time_column is not None and time_column not in data.columns and time_column == index.name)
    ):
        column = _free_name(index.name, data.columns)
        restore = _IndexTime(column, index.name, index.tz, variable)
        time_column = column
    wanted = set(named) | {time_column or TIMESTAMP}
    try:
        table = _arrow_table(data, wanted, None if restore is None else (restore.column, index))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        raise ColumnError(f"cannot convert the pandas data to Arrow: {e}") from e
    return table, time_column, restore


def _arrow_table(
    data: "pd.DataFrame",
    wanted: "Optional[set[str]]" = None,
    index: "Optional[tuple[str, pd.DatetimeIndex]]" = None,
) -> "pa.Table":
    """A pandas DataFrame as a pyarrow Table, column by column; with
    ``index``, a ``DatetimeIndex`` first as a column of that name (as
    ``reset_index`` would put it, without building that frame).

    With ``wanted``, a column that is neither among them nor numeric or
    boolean becomes an all-null column of its name (not converted).

    A numpy-backed numeric or boolean column is shared, not copied: NaN stays
    NaN (windcore reads NaN and null alike as a missing value), where
    ``pa.Table.from_pandas`` would copy every column to turn its NaN into
    nulls. So are times without NaT (see ``_time_array``). Every other column
    (strings, categories, nullable extension types) is converted as
    ``pa.Table.from_pandas`` converts it.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    arrays, names = [], []
    if index is not None:
        names.append(index[0])
        arrays.append(_time_array(index[1]))
    # items(): each column by position (duplicate names too), a third of the
    # time of `iloc[:, i]` (which counts for frames of many short columns).
    for name, column in data.items():
        names.append(str(name))
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            arrays.append(pa.array(column.to_numpy(), from_pandas=False))
        elif isinstance(dtype, (np.dtype, pd.DatetimeTZDtype)) and dtype.kind == "M":
            arrays.append(_time_array(column))
        elif (
            wanted is not None
            and str(name) not in wanted
            and not pd.api.types.is_numeric_dtype(dtype)
            and not pd.api.types.is_bool_dtype(dtype)
        ):
            arrays.append(pa.nulls(len(column)))
        else:
            try:
                arrays.append(pa.Array.from_pandas(column))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
                raise type(e)(f"column `{name}`: {e}") from e
    return pa.Table.from_arrays(arrays, names=names)


def _time_array(times: "Any") -> "pa.Array":
    """A pandas datetime column or ``DatetimeIndex`` as Arrow, of the type
    ``pa.Array.from_pandas`` gives it (unit, time zone). Without NaT its
    integers are shared, not converted: pyarrow's own conversion of 1.2 M
    times took 1.7 ms, the shared view 0.01 ms. With NaT (null in Arrow):
    ``pa.Array.from_pandas``."""
    import pyarrow as pa

    if times.hasnans:
        return pa.Array.from_pandas(times)
    kind = pa.Array.from_pandas(times[:0]).type
    return pa.array(times.array.asi8, type=pa.int64()).view(kind)


def _to_pandas(
    out: "Optional[pl.DataFrame]",
    restore: Optional[_IndexTime],
    by: list[str],
    timezone: Optional[str],
    long: bool,
    arrays: "dict[str, Any]",
    times: "dict[str, tuple[Any, str, Optional[str]]]",
    order: list[str],
) -> "pd.DataFrame":
    """The result as pandas; an input ``DatetimeIndex`` comes back as the
    index of window labels (with the keys in front: a MultiIndex), with the
    input index's name and, unless ``timezone`` was given, its time zone
    (naive stays naive). A Series' wide columns are the statistics' names.

    The core hands over its columns as numpy arrays where it can (see
    ``_windcore.resample(numpy=True)``): ``arrays``, numeric columns taken
    as they are (pandas keeps each writable, where converting through Arrow
    would copy every one); ``times``, time columns as their integers, unit
    and zone; ``out``, the other columns (keys, signal names) through Arrow,
    or None; ``order``: every column's name in order."""
    import pandas as pd

    rest = out.to_pandas() if out is not None else None

    def column(name: str) -> Any:
        if name in arrays:
            return arrays[name]
        if name in times:
            values, unit, zone = times[name]
            instants = pd.DatetimeIndex(values.view(f"datetime64[{unit}]"))
            return (instants if zone is None else instants.tz_localize("UTC").tz_convert(zone)).array
        return rest[name].array

    index = None
    if restore is not None:
        labels = pd.DatetimeIndex(column(restore.column)).rename(restore.name)
        if timezone is None:
            labels = labels.tz_convert(restore.tz)  # None: UTC wall clock, naive
        if by:
            keys = [pd.Series(column(k), name=k) for k in by]
            index = pd.MultiIndex.from_arrays([*keys, labels], names=[*by, restore.name])
        else:
            index = labels
        order = [name for name in order if name != restore.column and name not in by]
    columns = {name: column(name) for name in order}
    if index is None:
        index = pd.RangeIndex(len(next(iter(columns.values()))) if columns else 0)
    df = _frame(columns, order, index)
    if restore is not None and restore.variable is not None and not long:
        prefix = restore.variable + "_"
        df.columns = [c[len(prefix):] if c.startswith(prefix) else c for c in df.columns]
    return df


#: Up to this many rows, the numpy columns of a result are gathered into one
#: block per type (a copy); longer ones each stay a block of their own. Near
#: this length the copy costs what a block costs pandas to set up.
_STACK_ROWS = 2048


def _frame(columns: "dict[str, Any]", order: list[str], index: "pd.Index") -> "pd.DataFrame":
    """A DataFrame of ``columns`` (numpy arrays or pandas arrays, by name, in
    ``order``) on ``index``, the arrays taken as they are: each its own
    block, except that short numpy columns of one type make one block.

    ``pd.DataFrame(dict, copy=False)`` checks and wraps every column anew
    (about 4 µs each: half a millisecond for 120 statistics); building the
    blocks directly with ``pandas.api.internals.create_dataframe_from_blocks``
    (pandas 3, what pyarrow uses) skips that. Older pandas: the dict."""
    import numpy as np
    import pandas as pd

    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:  # pragma: no cover - pandas < 3
        return pd.DataFrame(columns, columns=order, index=index, copy=False)
    blocks = []
    short: "dict[Any, list[tuple[int, Any]]]" = {}  # numpy type -> (position, array)
    for i, name in enumerate(order):
        values = columns[name]
        if isinstance(values, pd.arrays.NumpyExtensionArray):
            values = values.to_numpy()
        if isinstance(values, np.ndarray) and len(values) <= _STACK_ROWS:
            short.setdefault(values.dtype, []).append((i, values))
        elif isinstance(values, np.ndarray) or (
            isinstance(values, pd.arrays.DatetimeArray) and values.tz is None
        ):
            blocks.append((values.reshape(1, -1), np.array([i])))  # a 2-D block of one column
        else:
            blocks.append((values, np.array([i])))  # an extension array: a block of its own
    for same in short.values():
        blocks.append((np.stack([v for _, v in same]), np.array([i for i, _ in same])))
    return create_dataframe_from_blocks(blocks, index=index, columns=pd.Index(order))


def _decode_arrow_keys(table: "pa.Table", names: list[str], keys: list[str]) -> "pa.Table":
    """Dictionary-encoded columns among ``names`` (pandas ``category``, pyarrow
    dictionary) decoded to their values: a copy of those columns only, the
    others are shared. A key column (of ``keys``) with string entries is left
    to the core, which decodes it without copying a string (its rows share the
    entries' bytes)."""
    import pyarrow as pa

    for name in names:
        i = table.schema.get_field_index(name)
        if i < 0:
            continue  # the core names the missing column
        field = table.schema.field(i)
        if not pa.types.is_dictionary(field.type):
            continue
        values = field.type.value_type
        if name in keys and (
            pa.types.is_string(values) or pa.types.is_large_string(values) or pa.types.is_string_view(values)
        ):
            continue
        column = table.column(i).cast(values)
        table = table.set_column(i, pa.field(name, column.type, field.nullable), column)
    return table


def _decode_polars_keys(
    df: "pl.DataFrame", names: list[str], keys: list[str]
) -> "tuple[pl.DataFrame, dict[str, list[Optional[str]]]]":
    """polars ``Categorical`` / ``Enum`` columns among ``names`` cast to
    ``String`` (a copy of those columns only), except key columns (of
    ``keys``): those go as their codes (their physical integers, not copied)
    with the words the codes stand for (returned, by column), which the core
    ranks without reading a string per row. polars' own Arrow export of a
    ``Categorical`` would take ~0.4 s for 50 M rows. A ``Categorical`` whose
    categories (shared by every column of them in the process) outnumber the
    rows goes through that export instead, as the core would otherwise rank
    more words than there are rows."""
    import polars as pl

    exprs = []
    words: dict[str, list[Optional[str]]] = {}
    for name in names:
        dtype = df.schema.get(name)
        if not isinstance(dtype, (pl.Categorical, pl.Enum)):
            continue
        if name not in keys:
            exprs.append(pl.col(name).cast(pl.String))
            continue
        entries = list(dtype.categories)
        if len(entries) <= max(df.height, 1 << 16):
            exprs.append(pl.col(name).to_physical())
            words[name] = entries
    return (df.with_columns(exprs) if exprs else df), words
