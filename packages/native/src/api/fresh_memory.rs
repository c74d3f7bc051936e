//! What first touching new memory costs: the floor under loading a table of that size,
//! for benchmarks that report it beside an open.

use napi::bindgen_prelude::Env;
use napi_derive::napi;

use super::key_table::invalid;
use super::throw;
use crate::io::to_u64;

/// Writes one byte in every 4 KiB page of `length` bytes of fresh anonymous memory, with
/// transparent huge pages asked for as `KeyTable` asks for them (`hugePages`) or not,
/// then frees it: what first touching that much new memory costs, the floor under
/// loading a table of that size (for benchmarks).
#[napi]
pub fn fault_in_fresh_memory(env: &Env, length: f64, huge_pages: bool) -> napi::Result<()> {
  let length = throw(env, to_u64(length, "alloc", None))?;
  let length = usize::try_from(length).map_err(|_| invalid("length is too large"))?;
  let mut memory: Vec<u8> = Vec::with_capacity(length);
  if huge_pages {
    crate::key_table::huge_pages::advise(&memory);
  }
  let start = memory.as_mut_ptr();
  for offset in (0..length).step_by(PAGE_BYTES) {
    // SAFETY: `offset` lies inside the allocation's capacity; the byte is never read.
    unsafe { std::ptr::write_volatile(start.add(offset), 1) };
  }
  Ok(())
}

const PAGE_BYTES: usize = 4096;
