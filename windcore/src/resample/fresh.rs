//! Fresh output columns. A result is written into new memory, and on Linux
//! the first write to each 4 KiB page of it costs a page fault (the kernel
//! finds, charges and zeroes the page): for a year of windows that is most of
//! what the resampler spends beyond reading its input. Like numpy (which does
//! the same for arrays of 4 MiB and more), large columns ask for transparent
//! huge pages: one fault per 2 MiB instead of 512.
//!
//! Not on a virtual machine that hands its free memory back to the host
//! (virtio-balloon free page reporting, e.g. Firecracker): there a free
//! 2 MiB block is soon given back, a huge page is nearly always one the host
//! must supply again, and a call after a pause took 2-3 times longer with the
//! advice than without (0.45-0.68 s against 0.20-0.24 s for a year of
//! windows; 0.135 s against 0.18 s back to back).
//!
//! `WINDCORE_MADVISE_HUGEPAGE=0` in the environment turns the advice off (as
//! `NUMPY_MADVISE_HUGEPAGE=0` does numpy's), `=1` on even there.
//!
//! A column is taken [`unwritten`] (its writer fills it in full) rather
//! than zeroed: an allocator that keeps freed blocks (the Python module's
//! jemalloc) then hands back pages already mapped, so a call after another
//! writes its result without page faults. Zeroed memory would not gain: an
//! allocator zeroes a large kept block by handing its pages back to the
//! kernel, which faults them in again.

use std::mem::MaybeUninit;
use std::sync::OnceLock;

/// Columns from this size on are advised (numpy's threshold).
const HUGE_FROM_BYTES: usize = 4 << 20;

/// A column of `n` values not yet written, for a writer that writes every
/// one (then [`written`]). The memory may be a block an allocator kept from
/// a column freed earlier (see the module's notes); a large column is
/// advised to be backed by huge pages before it is written.
pub(super) fn unwritten<T>(n: usize) -> Vec<MaybeUninit<T>> {
    unwritten_with(n, advice_on())
}

fn unwritten_with<T>(n: usize, advise: bool) -> Vec<MaybeUninit<T>> {
    let mut v = Vec::with_capacity(n);
    // SAFETY: `MaybeUninit` values need no initialisation.
    unsafe { v.set_len(n) };
    if advise && std::mem::size_of_val(v.as_slice()) >= HUGE_FROM_BYTES {
        advise_huge_pages(&v);
    }
    v
}

/// The column of [`unwritten`] once its writer has written every value.
///
/// # Safety
/// Every element of `v` has been written.
pub(super) unsafe fn written<T>(v: Vec<MaybeUninit<T>>) -> Vec<T> {
    let mut v = std::mem::ManuallyDrop::new(v);
    // SAFETY: `MaybeUninit<T>` has the layout of `T`, so the allocation's
    // layout is unchanged; the caller vouches that every value is written.
    unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<T>(), v.len(), v.capacity()) }
}

/// Whether large columns are advised (decided once): as the environment
/// says, else unless free pages are reported to a host.
fn advice_on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        match std::env::var("WINDCORE_MADVISE_HUGEPAGE")
            .as_deref()
            .map(str::trim)
        {
            Ok("0") => false,
            Ok("1") => true,
            _ => !free_pages_reported(),
        }
    })
}

/// Whether this Linux guest reports its free pages to the hypervisor: a
/// virtio balloon device with feature bit 5 (`VIRTIO_BALLOON_F_REPORTING`)
/// in the features its driver accepted (sysfs lists them as 0/1 by bit).
fn free_pages_reported() -> bool {
    let Ok(devices) = std::fs::read_dir("/sys/bus/virtio/drivers/virtio_balloon") else {
        return false;
    };
    devices
        .flatten()
        .any(|d| std::fs::read(d.path().join("features")).is_ok_and(|bits| reporting(&bits)))
}

/// Whether a virtio features list (one `0`/`1` per bit, bit 0 first) has
/// `VIRTIO_BALLOON_F_REPORTING` (bit 5).
fn reporting(bits: &[u8]) -> bool {
    bits.get(5) == Some(&b'1')
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
    fn columns_written_in_full_hold_what_was_written() {
        for n in [
            0,
            1,
            1000,
            (HUGE_FROM_BYTES / 8) + 12_345,
            (HUGE_FROM_BYTES / 2) + 7,
        ] {
            let mut v = unwritten::<f64>(n);
            assert_eq!(v.len(), n);
            v.iter_mut()
                .enumerate()
                .for_each(|(i, x)| _ = x.write(i as f64));
            // SAFETY: every value was written just above.
            let v = unsafe { written(v) };
            assert_eq!(v.len(), n);
            assert!(v.iter().enumerate().all(|(i, x)| *x == i as f64));
        }
    }

    #[test]
    fn the_reporting_bit_is_bit_5() {
        assert!(reporting(b"0110010100000000"));
        assert!(!reporting(b"0110000100000000"));
        assert!(!reporting(b"01100"));
        assert!(!reporting(b""));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_column_is_advised_huge_pages_when_asked() {
        // The advice shows in the mapping's flags ("hg" in /proc/self/smaps).
        // (Its absence when not asked is not checked: a column may land in
        // memory the allocator kept from one advised before, whose mapping
        // keeps the flag. A CI run failed that way once, the unadvised
        // column in the block just freed by the advised one.)
        let v = unwritten_with::<f64>(3 * (HUGE_FROM_BYTES / 8), true);
        let flags = vm_flags((v.as_ptr() as usize).next_multiple_of(2 << 20));
        assert!(flags.split_whitespace().any(|f| f == "hg"), "{flags}");
    }

    /// The VmFlags of the mapping that holds `at`.
    #[cfg(target_os = "linux")]
    fn vm_flags(at: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_once(' ').and_then(|(r, _)| r.split_once('-'));
            if let Some((a, b)) = range {
                if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    inside = a <= at && at < b;
                    continue;
                }
            }
            if let Some(f) = line.strip_prefix("VmFlags:").filter(|_| inside) {
                return f.to_string();
            }
        }
        panic!("no mapping holds {at:#x}");
    }
}
