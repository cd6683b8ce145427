"""windcore.resample on wind-farm data by every kind of key: integers, strings from
pandas and pyarrow, dictionaries (pandas category, polars Categorical / Enum, pyarrow
dictionaries) in any order, two keys; each against the same rows with plain keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import windcore

from farm_data import (
    ANGLE,
    ALL_STATS,
    to_polars,
    _StreamOnly,
    oracle,
    as_pandas,
    compare,
    run_farm,
)


# ----------------------------------------------------------------------- key types


def test_integer_keys_keep_their_type(raw):
    ids = {a: int(a[3:]) * 7 for a in raw["asset"].unique()}  # 7, 14, ..., 42: not lexicographic
    pdf = raw.assign(turbine=raw["asset"].map(ids).astype("int64")).drop(columns="asset")
    for dtype in (pl.Int64, pl.Int32, pl.UInt64):
        data = to_polars(pdf).with_columns(pl.col("turbine").cast(dtype))
        wide = windcore.resample(data, by="turbine", angles=ANGLE)
        assert wide.columns[:2] == ["turbine", "timestamp"]
        assert wide.schema["turbine"] == dtype
        pairs = list(zip(wide["turbine"], wide["timestamp"]))
        assert pairs == sorted(pairs)
        assert wide["turbine"].unique().sort().to_list() == sorted(ids.values())
    # Same numbers as the string keys.
    by_int = as_pandas(
        windcore.resample(pdf, by="turbine", angles=ANGLE, stats=ALL_STATS, long=True)
    )
    assert by_int["turbine"].dtype == np.int64
    back = {v: k for k, v in ids.items()}
    by_int = by_int.assign(asset=by_int["turbine"].map(back)).drop(columns="turbine")
    compare(by_int, oracle(raw))


def test_small_integer_key_is_widened_not_lost(raw):
    d = to_polars(raw).with_columns(
        pl.col("asset").str.slice(3).cast(pl.UInt8).alias("turbine")
    ).drop("asset")
    wide = windcore.resample(d, by="turbine", angles=ANGLE)
    assert wide.schema["turbine"].is_integer()
    assert wide["turbine"].unique().sort().to_list() == list(range(1, raw["asset"].nunique() + 1))


def test_pandas_category_key(raw):
    cat = raw.assign(asset=raw["asset"].astype("category"))
    got = as_pandas(run_farm(cat))
    assert got["asset"].map(type).eq(str).all()
    pd.testing.assert_frame_equal(got, as_pandas(run_farm(raw)), check_exact=True)


@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]"])
def test_pandas_string_dtype_key(raw, dtype):
    got = as_pandas(run_farm(raw.assign(asset=raw["asset"].astype(dtype))))
    pd.testing.assert_frame_equal(got, as_pandas(run_farm(raw)), check_exact=True)


def test_pandas_integer_category_key(raw):
    ids = raw["asset"].str.slice(3).astype(int)
    cat = raw.assign(asset=ids.astype("category"))
    got = as_pandas(run_farm(cat))
    assert got["asset"].dtype.kind in "iu"


@pytest.mark.parametrize("dtype", ["categorical", "enum"])
def test_polars_categorical_key(raw, dtype):
    base = to_polars(raw)
    kind = pl.Categorical() if dtype == "categorical" else pl.Enum(sorted(raw["asset"].unique()))
    data = base.with_columns(pl.col("asset").cast(kind))
    got = run_farm(data)
    assert got.schema["asset"] == pl.String
    pd.testing.assert_frame_equal(as_pandas(got), as_pandas(run_farm(base)), check_exact=True)
    # LazyFrame too.
    pd.testing.assert_frame_equal(
        as_pandas(run_farm(data.lazy())), as_pandas(run_farm(base)), check_exact=True
    )


def test_dictionary_keys_with_long_names_and_nulls_read_as_their_strings(raw):
    """Entries longer than a string view's inline 12 bytes, unused entries and
    null keys: a dictionary key column decodes to exactly the strings."""
    names = {a: f"Windpark Nordsee-Ost {a} (nacelle)" for a in raw["asset"].unique()}
    base = to_polars(raw.assign(asset=raw["asset"].map(names))).with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 0).then(None).otherwise(pl.col("asset")).alias("asset")
    )
    reference = as_pandas(run_farm(base))
    assert reference["asset"].isna().any() and reference["asset"].str.len().max() > 12
    unused = pl.Enum(["an unused entry, longer than twelve bytes", *sorted(names.values())])
    for kind in (pl.Categorical(), unused):
        data = base.with_columns(pl.col("asset").cast(kind))
        for frame in (data, _StreamOnly(data.to_arrow())):
            pd.testing.assert_frame_equal(as_pandas(run_farm(frame)), reference, check_exact=True)


def test_arrow_dictionary_key_in_python_and_in_rust(raw):
    table = pa.Table.from_pandas(raw, preserve_index=False)
    dict_table = table.set_column(
        table.schema.get_field_index("asset"), "asset", table.column("asset").dictionary_encode()
    )
    assert pa.types.is_dictionary(dict_table.schema.field("asset").type)
    reference = as_pandas(run_farm(table))
    batch = dict_table.combine_chunks().to_batches()[0]
    assert batch.num_rows == dict_table.num_rows
    # pyarrow Table / RecordBatch: decoded in Python; a bare stream: decoded
    # by the native module.
    for data in (dict_table, batch, _StreamOnly(dict_table)):
        got = as_pandas(run_farm(data))
        pd.testing.assert_frame_equal(got, reference, check_exact=True)
    # polars Categorical exported over the C stream (not cast in Python).
    cat = to_polars(raw).with_columns(pl.col("asset").cast(pl.Categorical()))
    got = as_pandas(run_farm(_StreamOnly(cat.to_arrow())))
    pd.testing.assert_frame_equal(got, as_pandas(run_farm(to_polars(raw))), check_exact=True)


def test_dictionary_keys_in_any_order_are_ranked_by_their_strings(raw):
    """A dictionary key is resampled by the rank of its words and gets its
    words back: categories in order of appearance (not sorted), an Enum in
    reverse order, and a stream whose chunks have dictionaries of their own
    (8-bit indices, a word twice, a null entry, null indices) give exactly the
    statistics of the plain strings, in string order."""
    # Categories appear in reverse order (and, of duplicate timestamps,
    # another row is the last: the reference is the same rows as strings).
    backwards = to_polars(raw).reverse()
    reference = as_pandas(run_farm(backwards))
    assert reference["asset"].is_monotonic_increasing
    kinds = (pl.Categorical(), pl.Enum(sorted(raw["asset"].unique(), reverse=True)))
    for kind in kinds:
        data = backwards.with_columns(pl.col("asset").cast(kind))
        for frame in (data, _StreamOnly(data.to_arrow())):
            got = as_pandas(run_farm(frame))
            assert got["asset"].map(type).eq(str).all()
            pd.testing.assert_frame_equal(got, reference, check_exact=True)

    # pyarrow: two chunks, each with its own dictionary.
    table = pa.Table.from_pandas(raw, preserve_index=False)
    names = table.column("asset").to_pylist()
    words = sorted(set(names))
    half = len(names) // 2
    chunks = []
    expect = []
    for part, start in ((names[:half], 0), (names[half:], half)):
        # Reverse order, the first word twice, a null entry in the middle.
        dictionary = [words[0], *reversed(words), None]
        index = {w: i for i, w in enumerate(dictionary) if w is not None}
        idx = []
        for j, w in enumerate(part):
            row = start + j
            if row % 53 == 0:
                idx.append(None)  # a null key
                expect.append(None)
            elif row % 61 == 0:
                idx.append(len(dictionary) - 1)  # the null entry
                expect.append(None)
            else:
                # The first copy of words[0] for even rows, the second for odd.
                idx.append(0 if w == words[0] and row % 2 == 0 else index[w])
                expect.append(w)
        chunks.append(
            pa.DictionaryArray.from_arrays(pa.array(idx, pa.int8()), pa.array(dictionary, pa.string()))
        )
    assert any(e is None for e in expect)
    dict_table = table.set_column(
        table.schema.get_field_index("asset"), "asset", pa.chunked_array(chunks)
    )
    plain = table.set_column(
        table.schema.get_field_index("asset"), "asset", pa.array(expect, pa.string())
    )
    want = as_pandas(run_farm(plain))
    got = as_pandas(run_farm(_StreamOnly(dict_table)))
    assert got["asset"].isna().any()
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # An index past the dictionary, or a negative one, is an error naming the
    # column, not a null: 8-bit indices (ranked) and 32-bit indices into
    # sorted words (read in place).
    for index_type, wrong in ((pa.int8(), 5), (pa.int32(), 5), (pa.int32(), -1)):
        bad = pa.DictionaryArray.from_arrays(
            pa.array([0, wrong] + [0] * (len(names) - 2), index_type), pa.array(["a", "b"]), safe=False
        )
        with pytest.raises(windcore.ColumnError, match="asset.*out of range"):
            run_farm(_StreamOnly(table.set_column(table.schema.get_field_index("asset"), "asset", bad)))


@pytest.mark.parametrize("string_type", [pa.string(), pa.large_string()])
def test_arrow_string_keys_are_ranked_as_their_strings(string_type):
    """Arrow string keys (pandas' ``str``, pyarrow strings) are grouped by the
    rank of their words, numbered in blocks of 2**20 rows: over two million
    rows in three chunks, keys interleaved and in runs, short and long words,
    a word with a trailing space, nulls. Same statistics, same order, as the
    same rows in a polars frame (whose string keys take another path)."""
    n = (1 << 21) + 12_345
    words = ["T01", "T02", "Windpark Nordsee-Ost T03 (nacelle)", "a", None, "Zz", "T01 "]
    i = np.arange(n)
    # Interleaved row by row for a while, then in runs of 1000 rows.
    pick = np.where(i < n // 2, i % len(words), (i // 1000) % len(words))
    keys = [words[k] for k in pick]
    rng = np.random.default_rng(7)
    ws = rng.gamma(2.0, 4.0, n)
    ws[rng.random(n) < 0.01] = np.nan
    direction = rng.uniform(0.0, 360.0, n)
    times = pa.array(i.astype("int64") * 1_000_000, pa.timestamp("us", tz="UTC"))
    cuts = [0, 700_001, 1_900_000, n]
    key_chunks = [pa.array(keys[a:b], string_type) for a, b in zip(cuts, cuts[1:])]
    table = pa.table(
        {
            "asset": pa.chunked_array(key_chunks),
            "timestamp": times,
            "wind_speed": ws,
            ANGLE: direction,
        }
    )
    assert table.column("asset").num_chunks == 3
    kw = dict(by="asset", angles=ANGLE, stats=ALL_STATS)
    got = windcore.resample(table, **kw).to_pandas()
    want = windcore.resample(pl.from_arrow(table).rechunk(), **kw).to_pandas()
    assert pl.from_arrow(table).schema["asset"] == pl.String
    assert got["asset"].isna().any() and (got["asset"] == "T01 ").any()
    assert list(got["asset"].dropna().unique()) == sorted(w for w in words if w is not None)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_two_keys(raw):
    farm_of = {a: ("north" if int(a[3:]) % 2 else "south") for a in raw["asset"].unique()}
    d = raw.assign(
        farm=raw["asset"].map(farm_of), turbine=raw["asset"].str.slice(3).astype("int32")
    ).drop(columns="asset")
    long = as_pandas(
        windcore.resample(d, by=["farm", "turbine"], angles=ANGLE, stats=ALL_STATS, long=True)
    )
    assert list(long.columns[:3]) == ["farm", "turbine", "timestamp"]
    keys = list(zip(long["farm"], long["turbine"], long["timestamp"]))
    assert keys == sorted(keys)
    back = {int(a[3:]): a for a in raw["asset"].unique()}
    long = long.assign(asset=long["turbine"].map(back))
    assert (long["farm"] == long["asset"].map(farm_of)).all()
    compare(long.drop(columns=["farm", "turbine"]), oracle(raw))
    # "a,b" spelling.
    again = windcore.resample(d, by="farm, turbine", angles=ANGLE, stats=ALL_STATS, long=True)
    pd.testing.assert_frame_equal(as_pandas(again), long.drop(columns="asset"), check_exact=True)


def test_polars_categorical_keys_cross_as_their_codes(raw):
    """A polars Categorical / Enum key crosses as its codes and the words
    they stand for: categories shared with other columns (words no row uses,
    out of string order), several chunks, nulls, an Enum of 16-bit codes and
    one of named categories give the statistics of the plain strings. A
    Categorical whose categories outnumber its rows goes through polars'
    Arrow export instead, with the same result."""
    from windcore._frames import _decode_polars_keys

    base = to_polars(raw).with_columns(
        pl.when(pl.int_range(pl.len()) % 89 == 0).then(None).otherwise(pl.col("asset")).alias("asset")
    )
    reference = as_pandas(run_farm(base))
    assert reference["asset"].isna().any()
    words = sorted(raw["asset"].unique())
    # Words before the turbines' in the process' categories, out of order.
    # (A Categories keeps its words while a column uses them: these are kept.)
    backwards = pl.Categories("windcore-test-backwards")
    in_order = pl.Categories("windcore-test-in-order")  # codes are ranks: read in place
    _kept = [
        pl.Series(["zz unused", "WT999 unused", "aa unused"], dtype=pl.Categorical()),
        pl.Series(words[::-1], dtype=pl.Categorical(backwards)),
        pl.Series(words, dtype=pl.Categorical(in_order)),
    ]
    kinds = [
        pl.Categorical(),
        pl.Categorical(backwards),
        pl.Categorical(in_order),
        pl.Enum([f"unused {i:04d}" for i in range(300)] + words[::-1]),  # 16-bit codes
    ]
    half = base.height // 2
    for kind in kinds:
        data = base.with_columns(pl.col("asset").cast(kind))
        chunked = pl.concat([data[:half], data[half:]], rechunk=False)
        assert chunked["asset"].n_chunks() == 2
        for frame in (data, chunked):
            decoded, key_words = _decode_polars_keys(frame, ["asset"], ["asset"])
            assert decoded.schema["asset"].is_unsigned_integer()
            assert set(words) <= set(key_words["asset"])
            assert (key_words["asset"] == words) == (kind == pl.Categorical(in_order))
            got = as_pandas(run_farm(frame))
            pd.testing.assert_frame_equal(got, reference, check_exact=True)
    # More categories than rows: polars' own export.
    big = pl.Categories("windcore-test-big")
    _kept.append(pl.Series([f"word {i}" for i in range(70_000)], dtype=pl.Categorical(big)))
    small = base.head(5_000).with_columns(pl.col("asset").cast(pl.Categorical(big)))
    decoded, key_words = _decode_polars_keys(small, ["asset"], ["asset"])
    assert key_words == {} and decoded.schema["asset"] == pl.Categorical(big)
    pd.testing.assert_frame_equal(
        as_pandas(run_farm(small)), as_pandas(run_farm(base.head(5_000))), check_exact=True
    )


def test_category_codes_of_another_type_or_past_the_words_are_errors(raw):
    """The native call checks what it is told: codes must be unsigned
    integers of up to 32 bits and stand for one of the words given."""
    from windcore import _windcore

    data = to_polars(raw).with_columns(pl.col("asset").str.slice(3).cast(pl.Int64))
    args = ("10m", ["mean"], ["wind_speed"], ["asset"], [], 1, False)
    with pytest.raises(windcore.ColumnError, match="asset.*Int64"):
        _windcore.resample(data, *args, key_words={"asset": ["a", "b"]})
    codes = data.with_columns(pl.col("asset").cast(pl.UInt32))
    with pytest.raises(windcore.ColumnError, match="asset.*out of range"):
        _windcore.resample(codes, *args, key_words={"asset": ["a", "b"]})
    ok = _windcore.resample(codes, *args, key_words={"asset": [f"w{i}" for i in range(100)]})
    assert pl.DataFrame(windcore._ArrowStream(ok))["asset"].dtype == pl.String
