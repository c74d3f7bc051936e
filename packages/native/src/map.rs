//! Read-only mappings of existing file bytes.
//!
//! Only `[offset, offset + length)` within the file's current size is mapped. Callers
//! map sealed bytes (never truncated while mapped); a mapping over bytes a truncate
//! later removes would turn a read into SIGBUS, which no JS code can catch.

use memmap2::{Mmap, MmapOptions};

use crate::error::{custom, from_io, Outcome};
use crate::io::{size, Handle};

fn out_of_range(path: &str, description: &'static str) -> crate::error::Failure {
  custom("ERANGE", libc::ERANGE, description, "mmap", Some(path))
}

pub fn map_range(handle: &Handle, offset: u64, length: u64) -> Outcome<Mmap> {
  if length == 0 {
    return Err(out_of_range(&handle.path, "cannot map an empty range"));
  }
  let file_size = size(handle)?;
  let end = offset.checked_add(length);
  if end.is_none_or(|end| end > file_size) {
    return Err(out_of_range(
      &handle.path,
      "range extends past the end of the file",
    ));
  }
  let length = usize::try_from(length)
    .map_err(|_| out_of_range(&handle.path, "range is larger than the address space"))?;
  // memmap2 maps from the page boundary below `offset` and points `as_ptr()` at the
  // requested byte.
  // SAFETY: the bytes exist now; keel maps only sealed ranges that are never
  // truncated or rewritten while a mapping is alive (see the module comment).
  unsafe {
    MmapOptions::new()
      .offset(offset)
      .len(length)
      .map(&handle.file)
  }
  .map_err(|error| from_io(&error, "mmap", Some(&handle.path)))
}
