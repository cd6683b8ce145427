//! Key columns of words that the core groups by their ranks: dictionary-
//! encoded columns (a pandas `category`, a polars `Categorical` or `Enum`, a
//! pyarrow dictionary), which this polars build does not carry, and Arrow
//! strings (pandas' `str`, pyarrow strings).
//!
//! Each row of a key column (`by`) gets the place of its word among all the
//! column's distinct words in string order (an integer, so keys sort as their
//! words do: 4 bytes a row where string views take 16), and the result's key
//! column gets the words back ([`RankedKeys::restore`]). Other columns (text
//! states) that are dictionaries are decoded to their words.

use std::collections::BTreeMap;

use polars::prelude::*;
use polars_arrow::array::{
    Array, DictionaryArray, DictionaryKey, MutableBinaryViewArray, PrimitiveArray, Utf8Array,
    Utf8ViewArray, View,
};
use polars_arrow::bitmap::{Bitmap, MutableBitmap};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_arrow::match_integer_type;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::arrow::array_as;
use crate::errors::{polars_to_py, ColumnError};

/// The words of the key columns resampled by rank, to put back into the result.
#[derive(Default)]
pub struct RankedKeys {
    /// Per column: its name and its distinct words in string order (rank = place).
    columns: Vec<(PlSmallStr, Vec<String>)>,
}

impl RankedKeys {
    /// The ranks of a dictionary-encoded key column `name` (its chunks) as a
    /// UInt32 column; its words are kept for [`restore`](Self::restore).
    pub fn rank(
        &mut self,
        name: &PlSmallStr,
        chunks: &[Box<dyn Array>],
        index: &IntegerType,
        values: &ArrowDataType,
    ) -> PyResult<(ArrowDataType, Vec<Box<dyn Array>>)> {
        match_integer_type!(index, |$K| {
            let dicts = chunks
                .iter()
                .map(|a| as_dictionary::<$K>(a.as_ref()))
                .collect::<PyResult<Vec<_>>>()?;
            let words = dicts
                .iter()
                .map(|d| dictionary_words(d.values().as_ref()).ok_or_else(|| not_strings(name, values)))
                .collect::<PyResult<Vec<_>>>()?;
            // Each chunk with its own dictionary.
            let keys: Vec<(&PrimitiveArray<$K>, usize)> =
                dicts.iter().enumerate().map(|(i, d)| (d.keys(), i)).collect();
            let words: Vec<&[Option<&str>]> = words.iter().map(Vec::as_slice).collect();
            self.rank_keys(name, index, &keys, &words)
        })
    }

    /// The ranks of a key column of category codes as a UInt32 column: a
    /// polars `Categorical` or `Enum` handed over as its physical integers
    /// (`chunks`, 8 to 32 bits unsigned), code `c` standing for `words[c]`;
    /// as [`rank`](Self::rank) of the dictionary they make. (polars' own
    /// Arrow export of a `Categorical` takes ~0.4 s for 50 M rows; its codes
    /// cross for nothing.)
    pub fn rank_codes(
        &mut self,
        name: &PlSmallStr,
        chunks: &[Box<dyn Array>],
        dtype: &ArrowDataType,
        words: &[Option<String>],
    ) -> PyResult<(ArrowDataType, Vec<Box<dyn Array>>)> {
        let index = match dtype {
            ArrowDataType::UInt8 => IntegerType::UInt8,
            ArrowDataType::UInt16 => IntegerType::UInt16,
            ArrowDataType::UInt32 => IntegerType::UInt32,
            other => {
                return Err(ColumnError::new_err(format!(
                    "key column `{name}`: category codes of Arrow type {other:?}, \
                     expected 8- to 32-bit unsigned integers"
                )))
            }
        };
        let words: Vec<Option<&str>> = words.iter().map(Option::as_deref).collect();
        match_integer_type!(index, |$K| {
            // Every chunk with the one list of words.
            let keys = chunks
                .iter()
                .map(|a| Ok((array_as::<PrimitiveArray<$K>>(a.as_ref())?, 0)))
                .collect::<PyResult<Vec<_>>>()?;
            self.rank_keys(name, &index, &keys, &[words.as_slice()])
        })
    }

    /// The ranks of the rows of a column of dictionary indices as a UInt32
    /// column: `keys`, per chunk, its indices and which of the `dicts` they
    /// index (chunks may share one); the words are kept for
    /// [`restore`](Self::restore).
    fn rank_keys<K: DictionaryKey>(
        &mut self,
        name: &PlSmallStr,
        index: &IntegerType,
        keys: &[(&PrimitiveArray<K>, usize)],
        dicts: &[&[Option<&str>]],
    ) -> PyResult<(ArrowDataType, Vec<Box<dyn Array>>)> {
        // Every word of every dictionary, ranked.
        let rank = self.ranks(name, dicts.iter().copied().flatten().flatten().copied());
        // Each entry's rank (None: a null entry), per dictionary.
        let tables: Vec<Vec<Option<u32>>> = dicts
            .iter()
            .map(|words| words.iter().map(|w| w.map(|w| rank[w])).collect())
            .collect();
        // Words already distinct and in order (categories made from sorted
        // values, an Enum of sorted words, pandas' default): the 32-bit
        // indices are the ranks, and are read in place.
        let identity = tables
            .iter()
            .all(|t| t.iter().enumerate().all(|(i, r)| *r == Some(i as u32)));
        let dtype = match index {
            IntegerType::Int32 => ArrowDataType::Int32,
            _ => ArrowDataType::UInt32,
        };
        if identity && matches!(index, IntegerType::UInt32 | IntegerType::Int32) {
            let keys = keys
                .iter()
                .map(|(k, d)| {
                    check_indices(name, k, tables[*d].len())?;
                    Ok((*k).clone().to(dtype.clone()).boxed())
                })
                .collect::<PyResult<Vec<_>>>()?;
            return Ok((dtype, keys));
        }
        let out = keys
            .iter()
            .map(|(k, d)| ranks_of(name, k, &tables[*d]))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((ArrowDataType::UInt32, out))
    }

    /// The ranks of an Arrow string key column `name` (its chunks, 32- or
    /// 64-bit offsets) as a UInt32 column; its words are kept for
    /// [`restore`](Self::restore). Blocks of rows are numbered on every core
    /// (a row equal to the one before, or a short word seen lately, is not
    /// looked up), then the numbers of all blocks become ranks.
    pub fn rank_strings(
        &mut self,
        name: &PlSmallStr,
        chunks: &[Box<dyn Array>],
    ) -> PyResult<(ArrowDataType, Vec<Box<dyn Array>>)> {
        let texts: Vec<Texts<'_>> = chunks
            .iter()
            .map(|a| {
                Texts::of(a.as_ref()).ok_or_else(|| {
                    PyTypeError::new_err(format!(
                        "key column `{name}`: Arrow array of type {:?} has an unexpected layout",
                        a.dtype()
                    ))
                })
            })
            .collect::<PyResult<_>>()?;
        const BLOCK: usize = 1 << 20;
        let mut ids: Vec<Vec<u32>> = texts.iter().map(|t| vec![0u32; t.len()]).collect();
        // (chunk, first row, its numbers) of every block.
        let mut blocks: Vec<(usize, usize, &mut [u32])> = Vec::new();
        for (c, chunk_ids) in ids.iter_mut().enumerate() {
            for (b, part) in chunk_ids.chunks_mut(BLOCK).enumerate() {
                blocks.push((c, b * BLOCK, part));
            }
        }
        let words: Vec<Vec<&str>> = blocks
            .par_iter_mut()
            .map(|(c, lo, part)| number_words(&texts[*c], *lo, part))
            .collect();
        let rank = self.ranks(name, words.iter().flatten().copied());
        blocks
            .par_iter_mut()
            .zip(&words)
            .for_each(|((_, _, part), block_words)| {
                let table: Vec<u32> = block_words.iter().map(|w| rank[w]).collect();
                for id in part.iter_mut() {
                    *id = table.get(*id as usize).copied().unwrap_or(0);
                }
            });
        drop(blocks);
        let out = ids
            .into_iter()
            .zip(chunks)
            .map(|(values, a)| {
                PrimitiveArray::<u32>::new(
                    ArrowDataType::UInt32,
                    values.into(),
                    a.validity().cloned(),
                )
                .boxed()
            })
            .collect();
        Ok((ArrowDataType::UInt32, out))
    }

    /// The rank of each distinct word of `words` (its place in string
    /// order), the words kept as key column `name`'s for [`restore`](Self::restore).
    fn ranks<'w>(
        &mut self,
        name: &PlSmallStr,
        words: impl Iterator<Item = &'w str>,
    ) -> BTreeMap<&'w str, u32> {
        let mut rank: BTreeMap<&str, u32> = words.map(|w| (w, 0)).collect();
        for (r, slot) in rank.values_mut().enumerate() {
            *slot = r as u32;
        }
        self.columns
            .push((name.clone(), rank.keys().map(|w| w.to_string()).collect()));
        rank
    }

    /// `df` with each ranked key column turned back into its words.
    pub fn restore(&self, mut df: DataFrame) -> PyResult<DataFrame> {
        for (name, words) in &self.columns {
            let Ok(col) = df.column(name) else {
                continue;
            };
            let ranks = col
                .as_materialized_series()
                .cast(&DataType::UInt32)
                .map_err(polars_to_py)?;
            let ranks = ranks.u32().map_err(polars_to_py)?.rechunk();
            let entries = entries_of(words.iter().map(|w| Some(w.as_str())));
            let arr = ranks.downcast_as_array();
            let idx = arr.values().iter().map(|&r| r as usize);
            let strings = gather_words(&entries, idx, arr.validity().cloned(), || {
                ColumnError::new_err(format!("key column `{name}`: a rank out of range"))
            })?;
            let series = Series::from_arrow(name.clone(), strings).map_err(polars_to_py)?;
            df.with_column(series.into()).map_err(polars_to_py)?;
        }
        Ok(df)
    }
}

/// A chunk of Arrow strings with 32- or 64-bit offsets.
enum Texts<'a> {
    Small(&'a Utf8Array<i32>),
    Large(&'a Utf8Array<i64>),
}

impl<'a> Texts<'a> {
    fn of(a: &'a dyn Array) -> Option<Self> {
        let any = a.as_any();
        match any.downcast_ref::<Utf8Array<i64>>() {
            Some(a) => Some(Texts::Large(a)),
            None => any.downcast_ref::<Utf8Array<i32>>().map(Texts::Small),
        }
    }

    fn len(&self) -> usize {
        match self {
            Texts::Small(a) => a.len(),
            Texts::Large(a) => a.len(),
        }
    }

    /// Row `i`'s word; `None` if null.
    #[inline]
    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Texts::Small(a) => a.get(i),
            Texts::Large(a) => a.get(i),
        }
    }
}

/// Numbers the words of rows `lo..lo + ids.len()` of `texts` in order of
/// first appearance (a null row gets any number), writing them to `ids`;
/// returns the words by number.
fn number_words<'a>(texts: &Texts<'a>, lo: usize, ids: &mut [u32]) -> Vec<&'a str> {
    let mut words: Vec<&'a str> = Vec::new();
    let mut seen: PlHashMap<&'a str, u32> = PlHashMap::default();
    // Keys interleaved row by row (a farm export in time order) defeat the
    // comparison with the row before: a small direct-mapped cache of short
    // words (their string view: length and bytes) answers most rows.
    const SLOTS: usize = 1024;
    let mut cache: Vec<(u128, u32)> = vec![(u128::MAX, 0); SLOTS];
    let mut last: Option<(&'a str, u32)> = None;
    for (j, id) in ids.iter_mut().enumerate() {
        let Some(w) = texts.get(lo + j) else {
            continue;
        };
        let mut lookup = |w: &'a str| {
            *seen.entry(w).or_insert_with(|| {
                words.push(w);
                (words.len() - 1) as u32
            })
        };
        *id = match last {
            Some((lw, lid)) if lw == w => lid,
            _ if w.len() <= 12 => {
                let bits = View::new_from_bytes(w.as_bytes(), 0, 0).as_u128();
                let x = (bits as u64) ^ ((bits >> 64) as u64).rotate_left(29);
                let slot = (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
                if cache[slot].0 == bits {
                    cache[slot].1
                } else {
                    let n = lookup(w);
                    cache[slot] = (bits, n);
                    n
                }
            }
            _ => lookup(w),
        };
        last = Some((w, *id));
    }
    words
}

fn not_strings(name: &str, values: &ArrowDataType) -> PyErr {
    ColumnError::new_err(format!(
        "column `{name}` is dictionary-encoded with {values:?} values; \
         a key or a state must be a string or an integer (cast it to one)"
    ))
}

fn as_dictionary<K: DictionaryKey>(array: &dyn Array) -> PyResult<&DictionaryArray<K>> {
    array_as::<DictionaryArray<K>>(array)
}

/// A dictionary key as an index (a negative one: past any dictionary).
fn index<K: DictionaryKey>(k: K) -> usize {
    k.try_into().unwrap_or(usize::MAX)
}

/// An error naming the column if a valid row of `keys` has an index outside
/// its `entries` (negative or past the end), checked on every core.
fn check_indices<K: DictionaryKey>(
    name: &str,
    keys: &PrimitiveArray<K>,
    entries: usize,
) -> PyResult<()> {
    let bad = keys
        .values()
        .as_slice()
        .par_iter()
        .with_min_len(1 << 14)
        .enumerate()
        .find_any(|(i, k)| keys.is_valid(*i) && index(**k) >= entries);
    match bad {
        Some((_, k)) => Err(ColumnError::new_err(format!(
            "key column `{name}`: dictionary index {k:?} is out of range ({entries} entries)"
        ))),
        None => Ok(()),
    }
}

/// The ranks of the rows of `keys` (on every core), given each entry's rank
/// in `table`: a null key or a null entry is null.
fn ranks_of<K: DictionaryKey>(
    name: &str,
    keys: &PrimitiveArray<K>,
    table: &[Option<u32>],
) -> PyResult<Box<dyn Array>> {
    check_indices(name, keys, table.len())?;
    // The keys' values, nulls included (their value may be anything).
    let raw: &[K] = keys.values().as_slice();
    let values: Vec<u32> = raw
        .par_iter()
        .with_min_len(1 << 14)
        .map(|k| table.get(index(*k)).copied().flatten().unwrap_or(0))
        .collect();
    let null_entries = table.iter().any(Option::is_none);
    let validity: Option<Bitmap> = if null_entries {
        let mut valid = MutableBitmap::with_capacity(raw.len());
        for (i, k) in raw.iter().enumerate() {
            valid.push(keys.is_valid(i) && table.get(index(*k)).copied().flatten().is_some());
        }
        Some(valid.into())
    } else {
        keys.validity().cloned()
    };
    Ok(PrimitiveArray::<u32>::new(ArrowDataType::UInt32, values.into(), validity).boxed())
}

/// One chunk of a dictionary-encoded column as plain strings (a copy): each
/// row gets its dictionary entry; a null key or a null entry is null.
pub fn decode_dictionary(
    name: &str,
    array: &dyn Array,
    index: &IntegerType,
    values: &ArrowDataType,
) -> PyResult<Box<dyn Array>> {
    match_integer_type!(index, |$K| {
        let dict = as_dictionary::<$K>(array)?;
        let words = dictionary_words(dict.values().as_ref()).ok_or_else(|| not_strings(name, values))?;
        let entries = entries_of(words.iter().copied());
        // A row is null where its key is, or its entry (an index out of
        // range stays valid, and is reported below).
        let validity = if dict.keys().null_count() == 0 && entries.null_count() == 0 {
            None
        } else {
            let mut valid = MutableBitmap::with_capacity(dict.len());
            for k in dict.keys_iter() {
                valid.push(k.is_some_and(|k| k >= words.len() || entries.is_valid(k)));
            }
            Some(valid.into())
        };
        let out_of_range = || {
            ColumnError::new_err(format!(
                "column `{name}`: a dictionary index is out of range ({} entries)",
                words.len()
            ))
        };
        // (A null key's index may be anything: its row is null.)
        let idx = dict.keys_iter().map(|k| k.unwrap_or(usize::MAX));
        gather_words(&entries, idx, validity, out_of_range)
    })
}

/// The entries of a dictionary of strings; `None` if they are not strings.
fn dictionary_words(values: &dyn Array) -> Option<Vec<Option<&str>>> {
    let any = values.as_any();
    if let Some(a) = any.downcast_ref::<Utf8ViewArray>() {
        Some(a.iter().collect())
    } else if let Some(a) = any.downcast_ref::<Utf8Array<i32>>() {
        Some(a.iter().collect())
    } else {
        any.downcast_ref::<Utf8Array<i64>>()
            .map(|a| a.iter().collect())
    }
}

/// Words as string views, once, for every row to share.
fn entries_of<'a>(words: impl Iterator<Item = Option<&'a str>>) -> Utf8ViewArray {
    let mut entries = MutableBinaryViewArray::<str>::new();
    for word in words {
        entries.push(word);
    }
    entries.freeze()
}

/// A string column whose row `i` is entry `idx[i]` of `entries` (its
/// 16-byte view, sharing the entries' bytes), null where `validity` says;
/// `out_of_range` for an index past the entries on a valid row (an invalid
/// row gets the empty view).
fn gather_words(
    entries: &Utf8ViewArray,
    idx: impl Iterator<Item = usize>,
    validity: Option<Bitmap>,
    out_of_range: impl Fn() -> PyErr,
) -> PyResult<Box<dyn Array>> {
    let entry_views = entries.views().as_slice();
    let mut views = Vec::with_capacity(idx.size_hint().0);
    for (i, k) in idx.enumerate() {
        match entry_views.get(k) {
            Some(v) => views.push(*v),
            None if validity.as_ref().is_some_and(|b| !b.get_bit(i)) => views.push(View::default()),
            None => return Err(out_of_range()),
        }
    }
    // SAFETY: every view is one of `entries`' (valid UTF-8 views into its
    // buffers, which the result shares) or the empty view of a null row.
    let strings = unsafe {
        Utf8ViewArray::new_unchecked_unknown_md(
            ArrowDataType::Utf8View,
            views.into(),
            entries.data_buffers().clone(),
            validity,
            Some(entries.total_buffer_len()),
        )
    };
    Ok(strings.boxed())
}
