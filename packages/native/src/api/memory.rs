//! Aligned buffers: for O_DIRECT, and for reads that copy page to page.

use memmap2::MmapOptions;
use napi::bindgen_prelude::{BufferSlice, Env};
use napi_derive::napi;

use super::throw;
use crate::error;
use crate::io::to_u64;

/// From this size on, page-aligned memory is mapped anonymously: zero pages the kernel
/// hands out on first touch, where an aligned heap allocation would be zeroed by a
/// memset that touches every page up front (3.9 ms for 1 MiB of fresh memory, measured).
const ANONYMOUS_MAP_BYTES_MIN: usize = 64 * 1024;
const PAGE_BYTES: usize = 4096;

/// A zero-filled Buffer whose first byte sits at a multiple of `alignment` (a power
/// of two, default 4096): what O_DIRECT reads and writes need.
#[napi(ts_return_type = "Buffer")]
pub fn alloc_aligned<'env>(
  env: &'env Env,
  length: f64,
  alignment: Option<u32>,
) -> napi::Result<BufferSlice<'env>> {
  let alignment = alignment.unwrap_or(4096) as usize;
  let length = throw(env, to_u64(length, "alloc", None))?;
  let layout = usize::try_from(length)
    .ok()
    .and_then(|length| std::alloc::Layout::from_size_align(length.max(1), alignment).ok())
    .ok_or_else(|| error::invalid("alignment must be a power of two", "alloc", None));
  let layout = throw(env, layout)?;
  if alignment <= PAGE_BYTES && layout.size() >= ANONYMOUS_MAP_BYTES_MIN {
    let map = MmapOptions::new().len(layout.size()).map_anon();
    let mut map = throw(
      env,
      map.map_err(|failure| error::from_io(&failure, "mmap", None)),
    )?;
    let pointer = map.as_mut_ptr();
    // SAFETY: the mapping lives until the finalizer drops it (munmap), and nothing
    // else refers to it.
    return unsafe {
      BufferSlice::from_external(env, pointer, layout.size(), map, |_, map| drop(map))
    };
  }
  // SAFETY: `layout` has a non-zero size.
  let pointer = unsafe { std::alloc::alloc_zeroed(layout) };
  if pointer.is_null() {
    return throw(env, Err(error::map_error(libc::ENOMEM, "alloc", None)));
  }
  // SAFETY: the allocation lives until the finalizer frees it with the same layout.
  unsafe {
    BufferSlice::from_external(env, pointer, length as usize, layout, move |_, layout| {
      std::alloc::dealloc(pointer, layout)
    })
  }
}

/// Whether the first byte of `data` sits at a multiple of `alignment`.
#[napi]
pub fn is_aligned(data: &[u8], alignment: u32) -> bool {
  alignment != 0 && (data.as_ptr() as usize).is_multiple_of(alignment as usize)
}
