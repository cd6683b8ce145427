//! Fresh output columns. A result is written into new memory, and on Linux
//! the first write to each 4 KiB page of it costs a page fault (the kernel
//! finds, charges and zeroes the page): for a year of windows that is most of
//! what the resampler spends beyond reading its input. Like numpy (which does
//! the same for arrays of 4 MiB and more), large columns ask for transparent
//! huge pages: one fault per 2 MiB instead of 512.
//!
//! `WINDCORE_MADVISE_HUGEPAGE=0` in the environment turns the advice off (as
//! `NUMPY_MADVISE_HUGEPAGE=0` does numpy's), for a system where huge pages
//! are slow to come by.

use std::sync::OnceLock;

/// Columns from this size on are advised (numpy's threshold).
const HUGE_FROM_BYTES: usize = 4 << 20;

/// A column of `n` zeros, to be overwritten. The zeros cost no pass over the
/// memory (a large zeroed allocation is mapped lazily by the OS); a large
/// column is advised to be backed by huge pages before it is written.
pub(super) fn zeroed<T: Copy + Default>(n: usize) -> Vec<T> {
    let v = vec![T::default(); n];
    if std::mem::size_of_val(v.as_slice()) >= HUGE_FROM_BYTES && advice_on() {
        advise_huge_pages(&v);
    }
    v
}

/// Whether the environment leaves the advice on (read once).
fn advice_on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("WINDCORE_MADVISE_HUGEPAGE").map_or(true, |v| v.trim() != "0"))
}

/// Asks Linux to back the whole 2 MiB pages inside `v` with huge pages. A
/// hint: where the system has none to give, or transparent huge pages are
/// off, the pages stay 4 KiB, and nothing else changes. Call it before the
/// memory is first written: pages already there stay as they are.
#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(v: &[T]) {
    const HUGE: usize = 2 << 20;
    let start = v.as_ptr() as usize;
    let end = start + std::mem::size_of_val(v);
    let (lo, hi) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
    if hi > lo {
        // SAFETY: `lo..hi` lies inside the allocation of `v`, and the advice
        // changes only how its pages are backed, never their contents. A
        // failure (an old kernel, THP compiled out) leaves the default pages.
        unsafe {
            libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_v: &[T]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_zeros_of_the_asked_length() {
        for n in [
            0,
            1,
            1000,
            (HUGE_FROM_BYTES / 8) + 12_345,
            (HUGE_FROM_BYTES / 2) + 7,
        ] {
            let v: Vec<f64> = zeroed(n);
            assert_eq!(v.len(), n);
            assert!(v.iter().all(|x| x.to_bits() == 0));
            let w: Vec<u32> = zeroed(n);
            assert_eq!(w.len(), n);
            assert!(w.iter().all(|x| *x == 0));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_column_is_advised_huge_pages() {
        // The advice shows in the mapping's flags ("hg" in /proc/self/smaps).
        let v: Vec<f64> = zeroed(3 * (HUGE_FROM_BYTES / 8));
        let at = (v.as_ptr() as usize).next_multiple_of(2 << 20);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        let mut flags = None;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((a, b)) = range.split_once('-') {
                    if let (Ok(a), Ok(b)) =
                        (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                    {
                        inside = a <= at && at < b;
                        continue;
                    }
                }
            }
            if inside {
                if let Some(f) = line.strip_prefix("VmFlags:") {
                    flags = Some(f.to_string());
                }
            }
        }
        let flags = flags.expect("the column's mapping is in smaps");
        assert_eq!(
            flags.split_whitespace().any(|f| f == "hg"),
            advice_on(),
            "{flags}"
        );
        drop(v);
    }
}
