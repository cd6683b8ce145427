//! The allocator of the library's unit tests: every new block is filled with
//! a pattern (each f64 of it reads as about -2.5e-127, a number no test's
//! statistic comes near, each integer as a large odd one) instead of whatever the system gives, which for a large
//! block is zeros. A column the resampler takes unwritten
//! (`resample/fresh.rs`) and then fails to write in full shows up in the
//! tests' numbers instead of passing as zeros.

use std::alloc::{GlobalAlloc, Layout, System};

pub(crate) struct Poison;

/// The byte every new block is filled with.
const BYTE: u8 = 0xA5;

// SAFETY: every call is forwarded to the system allocator, which upholds the
// contract; the fill writes only inside the block it returned.
unsafe impl GlobalAlloc for Poison {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            unsafe { p.write_bytes(BYTE, layout.size()) };
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && new_size > layout.size() {
            unsafe {
                p.add(layout.size())
                    .write_bytes(BYTE, new_size - layout.size())
            };
        }
        p
    }
}

#[global_allocator]
static ALLOC: Poison = Poison;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_blocks_hold_the_pattern() {
        let layout = Layout::array::<u64>(1 << 20).unwrap();
        // SAFETY: a block of the layout, read only where `alloc` wrote it,
        // and freed with the same layout.
        unsafe {
            let p = Poison.alloc(layout).cast::<u64>();
            assert!(!p.is_null());
            let v = std::slice::from_raw_parts(p, 1 << 20);
            assert!(v.iter().all(|x| *x == 0xA5A5_A5A5_A5A5_A5A5));
            let x = f64::from_bits(v[0]);
            assert!(x < 0.0 && x > -1e-100, "{x}");
            Poison.dealloc(p.cast(), layout);
        }
    }
}
