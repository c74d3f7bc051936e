//! Transparent huge pages for the table's two large arrays (buckets and entries). A get
//! lands on a random bucket and a random entry: with 4 KiB pages each is also a TLB miss
//! and a page walk, which 2 MiB pages all but remove. A checkpoint load asks for them
//! under its other large arrays too (the ordered view, and the hash tags it sorts while
//! placing entries): what a load of fresh memory costs the kernel is mostly one fault
//! per page first touched, 512 times fewer faults with 2 MiB pages. Where the kernel gives huge pages
//! only on request (`madvise` mode, the common default), this is the request; elsewhere
//! it does nothing. The memory stays the table's own: nothing here touches a file.

/// The huge page size on x86-64 and (with 4 KiB base pages) arm64.
const HUGE_PAGE_BYTES: usize = 2 << 20;

/// Asks for huge pages under the whole 2 MiB pages inside the capacity of `items`.
/// Arrays smaller than two huge pages are left alone: at most one whole page would fit.
pub fn advise<T>(items: &Vec<T>) {
  let bytes = items.capacity() * std::mem::size_of::<T>();
  if bytes < 2 * HUGE_PAGE_BYTES {
    return;
  }
  let start = items.as_ptr() as usize;
  let first = (start + HUGE_PAGE_BYTES - 1) & !(HUGE_PAGE_BYTES - 1);
  let end = (start + bytes) & !(HUGE_PAGE_BYTES - 1);
  if end <= first {
    return;
  }
  #[cfg(target_os = "linux")]
  // SAFETY: the range lies inside the Vec's own allocation; MADV_HUGEPAGE changes only
  // how its pages are backed, never their contents. A refusal (no THP) is harmless.
  unsafe {
    libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
  }
}

/// A vector of `capacity` items, empty, with huge pages asked for under it before any
/// of its memory is touched.
pub fn with_capacity<T>(capacity: usize) -> Vec<T> {
  let items = Vec::with_capacity(capacity);
  advise(&items);
  items
}

/// A vector of `length` zeros, with huge pages asked for under it before any of its
/// memory is touched (the zeroed allocation of a large size is fresh memory the kernel
/// zeroes on first touch, so it is not written here).
pub fn zeroed_u64(length: usize) -> Vec<u64> {
  let items = vec![0u64; length];
  advise(&items);
  items
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_allocating_helpers_give_what_the_vec_constructors_give() {
    let length = 3 * HUGE_PAGE_BYTES / 8;
    let empty: Vec<u32> = with_capacity(length);
    assert!(empty.is_empty() && empty.capacity() >= length);
    let zeros = zeroed_u64(length);
    assert_eq!(zeros.len(), length);
    assert!(zeros.iter().all(|&item| item == 0));
  }
}
