//! `verifiedValueRun`: the values of a run of index entries (one batch of a range walk)
//! checked and copied out of the log's mappings in one crossing, instead of one call
//! and one allocation per value.

use napi::bindgen_prelude::Uint8ArraySlice;
use napi_derive::napi;

use super::key_table::{invalid, FIELDS_PER_ENTRY};
use super::mapped_log::MappedLog;
use super::raw_value::RawValue;

/// For the first `count` entries of `fields` (as `KeyTable.range` writes them, six per
/// entry), places their values back to back in entry order in `into` (entry i at the sum
/// of the value lengths before it) and, for each one read here, verified against its
/// CRC-32C, sets `done[i]` to 1; else 0 (the value is in the previous log, the write
/// buffer, an unmapped segment, past the end of `into`, or fails its CRC: the caller
/// reads it the general way, which reports a failure with its file and offset). Returns
/// how many were read.
#[napi(js_name = "verifiedValueRun")]
pub fn verified_value_run(
  segments: RawValue,
  segment_bytes: u32,
  fields: &[f64],
  count: u32,
  mut into: Uint8ArraySlice,
  mut done: Uint8ArraySlice,
) -> napi::Result<u32> {
  let count = count as usize;
  // SAFETY: the views are alive for this call and nothing else runs on the JS thread meanwhile.
  let (into, done) = unsafe { (into.as_mut(), done.as_mut()) };
  if fields.len() < count * FIELDS_PER_ENTRY || done.len() < count {
    return Err(invalid("fields or done hold fewer than count entries"));
  }
  let log = MappedLog::new(&segments, segment_bytes);
  let (mut at, mut read) = (0usize, 0u32);
  for (entry, flag) in fields
    .chunks_exact(FIELDS_PER_ENTRY)
    .take(count)
    .zip(done.iter_mut())
  {
    let length = entry[1] as usize;
    let copied = entry[5] == 0.0
      && into
        .get_mut(at..)
        .and_then(|room| log.verified_copy(entry[0] as u64, length, entry[3] as u32, room))
        .is_some();
    *flag = copied as u8;
    read += copied as u32;
    at = at.saturating_add(length);
  }
  Ok(read)
}
