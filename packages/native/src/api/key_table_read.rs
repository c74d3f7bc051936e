//! `KeyTable.readString` / `readBytes`: a get in one crossing. The key is looked up,
//! and when its value lies wholly inside one of the log's mapped segments (memory the
//! caller mapped through its `Io` and hands in), the value's CRC-32C is checked and the
//! value copied into the caller's reused buffer. Anything else (a value still in the
//! write buffer, in an unmapped segment or in the log before a compaction's switch, one
//! larger than the buffer, or one that fails its CRC) is left to the caller's general
//! path, with the entry's fields written out as `find` writes them: the caller's path
//! reads it again and reports a failure with the file and offset. Nothing here touches
//! a file.

use std::ffi::c_char;
use std::ptr;

use napi::bindgen_prelude::{Float64ArraySlice, FromNapiValue, Uint8ArraySlice};
use napi::sys;
use napi_derive::napi;

use super::key_table::{fields, invalid, KeyTable, FIELDS_PER_ENTRY};

/// `read*` results below zero.
const ABSENT: i32 = -1;
const KEY_INVALID: i32 = -2;
const NOT_READ_HERE: i32 = -3;

/// Bytes of a string key converted on the stack; longer keys take a heap buffer.
const STACK_KEY_BYTES: usize = 256;
/// UTF-8 never splits a character: a conversion that stops this close to the end of the
/// buffer may have been cut short, so the full length is asked for.
const UTF8_CHAR_BYTES_MAX: usize = 4;

/// A JS value taken as it is, for the conversions done by hand below (each one call
/// into N-API, none of napi-rs's intermediate allocations).
pub struct RawValue {
  env: sys::napi_env,
  value: sys::napi_value,
}

impl FromNapiValue for RawValue {
  unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
    Ok(RawValue { env, value })
  }
}

impl RawValue {
  /// The UTF-8 bytes of a string into `stack`, or into `heap` when longer; None when
  /// it is not a string.
  fn utf8<'a>(
    &self,
    stack: &'a mut [u8; STACK_KEY_BYTES],
    heap: &'a mut Vec<u8>,
  ) -> Option<&'a [u8]> {
    let mut copied = 0usize;
    // SAFETY: `stack` is writable for its length; N-API writes at most length - 1 bytes and a NUL.
    let status = unsafe {
      sys::napi_get_value_string_utf8(
        self.env,
        self.value,
        stack.as_mut_ptr() as *mut c_char,
        STACK_KEY_BYTES,
        &mut copied,
      )
    };
    if status != sys::Status::napi_ok {
      return None;
    }
    if copied + UTF8_CHAR_BYTES_MAX < STACK_KEY_BYTES {
      return Some(&stack[..copied]);
    }
    let mut length = 0usize;
    // SAFETY: a null buffer asks only for the length.
    unsafe {
      sys::napi_get_value_string_utf8(self.env, self.value, ptr::null_mut(), 0, &mut length)
    };
    heap.resize(length + 1, 0);
    // SAFETY: `heap` is writable for length + 1 bytes.
    unsafe {
      sys::napi_get_value_string_utf8(
        self.env,
        self.value,
        heap.as_mut_ptr() as *mut c_char,
        length + 1,
        &mut copied,
      )
    };
    Some(&heap[..copied])
  }

  /// The bytes of element `index` when it is a Uint8Array (or Buffer), else None (a
  /// hole: that segment is not mapped).
  fn uint8_element(&self, index: u32) -> Option<&[u8]> {
    let mut element = ptr::null_mut();
    // SAFETY: plain N-API calls on live handles; a failure leaves no exception pending.
    unsafe {
      if sys::napi_get_element(self.env, self.value, index, &mut element) != sys::Status::napi_ok {
        return None;
      }
      let (mut kind, mut length, mut data, mut buffer, mut offset) =
        (0, 0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
      if sys::napi_get_typedarray_info(
        self.env,
        element,
        &mut kind,
        &mut length,
        &mut data,
        &mut buffer,
        &mut offset,
      ) != sys::Status::napi_ok
        || kind != sys::TypedarrayType::uint8_array
        || data.is_null()
      {
        return None;
      }
      // SAFETY: the array (and so the mapping behind it) is held by the caller's array for this call.
      Some(std::slice::from_raw_parts(data as *const u8, length))
    }
  }
}

/// Where the mapped segments are and where verified bytes go.
struct ReadTarget<'a> {
  segments: &'a RawValue,
  segment_bytes: u64,
  into: &'a mut [u8],
  out: &'a mut [f64],
}

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
    mut into: Uint8ArraySlice,
    at: u32,
    mut out: Float64ArraySlice,
  ) -> napi::Result<i32> {
    let (mut stack, mut heap) = ([0u8; STACK_KEY_BYTES], Vec::new());
    let Some(key) = key.utf8(&mut stack, &mut heap) else {
      return Err(invalid("key must be a string"));
    };
    if key.is_empty() || key.len() > self.limits.key_bytes_max {
      return Ok(KEY_INVALID);
    }
    // SAFETY: the views are alive for this call and nothing else runs on the JS thread meanwhile.
    let (into, out) = unsafe { (into.as_mut(), out.as_mut()) };
    let into = into
      .get_mut(at as usize..)
      .ok_or_else(|| invalid("at is past the end of into"))?;
    self.read_into(
      key,
      ReadTarget {
        segments: &segments,
        segment_bytes: segment_bytes as u64,
        into,
        out,
      },
    )
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
    mut into: Uint8ArraySlice,
    at: u32,
    mut out: Float64ArraySlice,
  ) -> napi::Result<i32> {
    let key = key
      .get(..key_length as usize)
      .ok_or_else(|| invalid("keyLength is past the key buffer"))?;
    // SAFETY: the views are alive for this call and nothing else runs on the JS thread meanwhile.
    let (into, out) = unsafe { (into.as_mut(), out.as_mut()) };
    let into = into
      .get_mut(at as usize..)
      .ok_or_else(|| invalid("at is past the end of into"))?;
    self.read_into(
      key,
      ReadTarget {
        segments: &segments,
        segment_bytes: segment_bytes as u64,
        into,
        out,
      },
    )
  }

  fn read_into(&self, key: &[u8], mut target: ReadTarget<'_>) -> napi::Result<i32> {
    if target.out.len() < FIELDS_PER_ENTRY {
      return Err(invalid("out holds fewer than 6 fields"));
    }
    let Some(slot) = self.table.find(key) else {
      return Ok(ABSENT);
    };
    if !self.table.in_previous_log(slot) && target.segment_bytes > 0 {
      let entry = self.table.entry(slot);
      if let Some(length) = verified_copy(
        &mut target,
        entry.position,
        entry.value_length as usize,
        ::crc32c::crc32c(key),
      ) {
        return Ok(length as i32);
      }
    }
    target.out[..FIELDS_PER_ENTRY].copy_from_slice(&fields(&self.table, slot));
    Ok(NOT_READ_HERE)
  }
}

/// Copies the value at log `position` (its CRC-32C, u32 LE, then `length` bytes) into
/// `target.into` when it lies in one mapped segment, fits, and matches its CRC seeded
/// with `key_crc`; returns its length, or None (nothing promised about `into`).
fn verified_copy(
  target: &mut ReadTarget<'_>,
  position: u64,
  length: usize,
  key_crc: u32,
) -> Option<usize> {
  if length > target.into.len() {
    return None;
  }
  let index = u32::try_from(position / target.segment_bytes).ok()?;
  let start = (position % target.segment_bytes) as usize;
  let segments = target.segments;
  let segment = segments.uint8_element(index)?;
  let field = segment.get(start..start.checked_add(4 + length)?)?;
  let stored = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
  let value = &field[4..];
  if ::crc32c::crc32c_append(key_crc, value) != stored {
    return None;
  }
  target.into[..length].copy_from_slice(value);
  Some(length)
}
