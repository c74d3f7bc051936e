//! Aligned buffers for O_DIRECT.

use napi::bindgen_prelude::{BufferSlice, Env};
use napi_derive::napi;

use super::throw;
use crate::error;
use crate::io::to_u64;

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

/// How many bytes past a multiple of `alignment` (a power of two) the first byte of `data`
/// sits: what a reader needs to place a view of plain memory where a read of a given file
/// position copies page to page. 0 for an alignment of 0.
#[napi]
pub fn address_offset(data: &[u8], alignment: u32) -> u32 {
  if alignment == 0 {
    return 0;
  }
  ((data.as_ptr() as usize) & (alignment as usize - 1)) as u32
}
