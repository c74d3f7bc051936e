//! `KeyTable.readString` / `readBytes`: a get in one crossing. The key is looked up,
//! and when its value lies wholly inside one of the log's mapped segments (memory the
//! caller mapped through its `Io` and hands in), the value's CRC-32C is checked and the
//! value copied into the caller's reused buffer. Anything else (a value still in the
//! write buffer, in an unmapped segment or in the log before a compaction's switch, one
//! larger than the buffer, or one that fails its CRC) is left to the caller's general
//! path, with the entry's fields written out as `find` writes them: the caller's path
//! reads it again and reports a failure with the file and offset. Nothing here touches
//! a file.
//!
//! The key's bucket is asked for from memory as soon as the key is hashed, before `into`
//! is converted, so that its cache miss overlaps that work; `out` is converted only on
//! the path that writes it.

use napi::bindgen_prelude::{Float64Array, Float64ArraySlice, Uint8Array, Uint8ArraySlice};
use napi_derive::napi;

use super::key_table::{fields, invalid, KeyTable, FIELDS_PER_ENTRY};
use super::mapped_log::{MappedLog, Segments};
use super::raw_value::{RawValue, STACK_KEY_BYTES};
use crate::key_table;

/// `read*` results below zero.
const ABSENT: i32 = -1;
const KEY_INVALID: i32 = -2;
const NOT_READ_HERE: i32 = -3;

#[napi]
impl KeyTable {
  /// A get of a string key by its UTF-8 bytes in one call: the value's length (the
  /// verified value is in `into[at..at + length]`), -1 when absent, -2 when the key is empty
  /// or longer than the table's key bound, or -3 when present but not read here (its
  /// fields, as `find` writes them, are in `out`). `segments[i]`, when set, must be the
  /// mapping of the current log's bytes from `i * segmentBytes` on (at most
  /// `segmentBytes` of them: a segment's mapping may stop short of its end).
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn read_string(
    &self,
    key: RawValue,
    segments: RawValue,
    segment_bytes: u32,
    into: RawValue,
    at: u32,
    out: RawValue,
  ) -> napi::Result<i32> {
    let (mut stack, mut heap) = ([0u8; STACK_KEY_BYTES], Vec::new());
    let Some(key) = key.utf8(&mut stack, &mut heap) else {
      return Err(invalid("key must be a string"));
    };
    if key.is_empty() || key.len() > self.limits.key_bytes_max {
      return Ok(KEY_INVALID);
    }
    self.read_into(key, &segments, segment_bytes, &into, at, &out)
  }

  /// `readString` of the key `key[0..keyLength]`.
  #[napi]
  #[allow(clippy::too_many_arguments)]
  pub fn read_bytes(
    &self,
    key: &[u8],
    key_length: u32,
    segments: RawValue,
    segment_bytes: u32,
    into: RawValue,
    at: u32,
    out: RawValue,
  ) -> napi::Result<i32> {
    let key = key
      .get(..key_length as usize)
      .ok_or_else(|| invalid("keyLength is past the key buffer"))?;
    self.read_into(key, &segments, segment_bytes, &into, at, &out)
  }

  /// Binds the buffer `boundReader`'s function takes keys from and the array it writes fields to.
  #[napi]
  pub fn bind_read_key(&mut self, key: Uint8Array, fields: Float64Array) -> napi::Result<()> {
    self.reads.bind_key(key, fields)
  }

  /// Binds `into` as `boundReader`'s target number `target` (0 or 1).
  #[napi]
  pub fn bind_read_target(&mut self, target: u32, into: Uint8Array) -> napi::Result<()> {
    self.reads.bind_target(target, into)
  }

  /// Binds the log's mapped segments for `boundReader` (as `readString` takes them); bind
  /// them again whenever the array changes.
  #[napi]
  pub fn bind_read_segments(&mut self, segments: Vec<Option<Uint8Array>>, segment_bytes: u32) {
    self.reads.bind_segments(segments, segment_bytes);
  }

  /// The array-per-call reads once the key is bytes: `into` from `at` on, then the read.
  fn read_into(
    &self,
    key: &[u8],
    segments: &RawValue,
    segment_bytes: u32,
    into: &RawValue,
    at: u32,
    out: &RawValue,
  ) -> napi::Result<i32> {
    let hashed = self.table.hash_and_prefetch(key);
    let mut into: Uint8ArraySlice = into.convert()?;
    // SAFETY: the view is alive for this call and nothing else runs on the JS thread meanwhile.
    let into = unsafe { into.as_mut() };
    let into = into
      .get_mut(at as usize..)
      .ok_or_else(|| invalid("at is past the end of into"))?;
    let log = MappedLog::new(segments, segment_bytes);
    Ok(match read_value(&self.table, key, hashed, &log, into) {
      Read::Done(result) => result,
      Read::Elsewhere(slot) => {
        let mut out: Float64ArraySlice = out.convert()?;
        // SAFETY: as for `into`.
        write_fields(&self.table, slot, unsafe { out.as_mut() })?;
        NOT_READ_HERE
      }
    })
  }
}

impl KeyTable {
  /// `readString` with every array bound beforehand (see `bindReadKey`,
  /// `bindReadTarget`, `bindReadSegments`; called through `boundReader`): the key is `key[0..keyLength]` of the bound
  /// key buffer, the value goes to bound target `target` from `at` on, the fields of a
  /// key present but not read here to the bound fields array. -2 when the key is empty
  /// or longer than the table's key bound.
  pub(super) fn read_bound(&mut self, key_length: u32, target: u32, at: u32) -> napi::Result<i32> {
    let KeyTable {
      table,
      limits,
      reads,
    } = self;
    let parts = reads.parts(key_length, target, at)?;
    if parts.key.is_empty() || parts.key.len() > limits.key_bytes_max {
      return Ok(KEY_INVALID);
    }
    let hashed = table.hash_and_prefetch(parts.key);
    let log = MappedLog::new(parts.segments, parts.segments.segment_bytes);
    Ok(
      match read_value(table, parts.key, hashed, &log, parts.into) {
        Read::Done(result) => result,
        Read::Elsewhere(slot) => {
          write_fields(table, slot, parts.fields)?;
          NOT_READ_HERE
        }
      },
    )
  }
}

/// A read's outcome: a result for the caller as it is, or the slot of a key present
/// whose value is to be read through its log.
enum Read {
  Done(i32),
  Elsewhere(u32),
}

/// The lookup and the verified copy, for both kinds of read.
fn read_value<S: Segments>(
  table: &key_table::KeyTable,
  key: &[u8],
  hashed: u64,
  log: &MappedLog<S>,
  into: &mut [u8],
) -> Read {
  let Some(slot) = table.find_hashed(key, hashed) else {
    return Read::Done(ABSENT);
  };
  if !table.in_previous_log(slot) {
    let entry = table.entry(slot);
    if let Some(length) = log.verified_copy(
      entry.position,
      entry.value_length as usize,
      ::crc32c::crc32c(key),
      into,
    ) {
      return Read::Done(length as i32);
    }
  }
  Read::Elsewhere(slot)
}

fn write_fields(table: &key_table::KeyTable, slot: u32, out: &mut [f64]) -> napi::Result<()> {
  if out.len() < FIELDS_PER_ENTRY {
    return Err(invalid("out holds fewer than 6 fields"));
  }
  out[..FIELDS_PER_ENTRY].copy_from_slice(&fields(table, slot));
  Ok(())
}
