//! Transparent huge pages for the table's two large arrays (buckets and entries). A get
//! lands on a random bucket and a random entry: with 4 KiB pages each is also a TLB miss
//! and a page walk, which 2 MiB pages all but remove. Where the kernel gives huge pages
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
