//! The arrays a get works with, handed to a `KeyTable` once instead of on every get:
//! the buffer the caller writes each key's bytes into, the array `find`'s fields go to,
//! the buffers values are copied into, and the log's mapped segments. A get then
//! crosses into native code with three numbers (key length, target, offset), the way
//! lmdb-js passes its keys, and none of its time goes to converting a string or looking
//! arrays up. Each array is held by a reference until it is bound again or the table is
//! collected, so the memory behind it (a mapping's included) stays valid meanwhile.

use napi::bindgen_prelude::{Float64Array, Uint8Array};

use super::key_table::{invalid, FIELDS_PER_ENTRY};
use super::mapped_log::Segments;

/// Buffers values may be copied into, chosen per get by their number.
pub const READ_TARGETS: usize = 2;

/// A log's mapped segments as bound: element `i`, when set, maps the log's bytes from
/// `i * segment_bytes` on.
#[derive(Default)]
pub struct BoundSegments {
  arrays: Vec<Option<Uint8Array>>,
  pub segment_bytes: u32,
}

impl Segments for BoundSegments {
  fn segment(&self, index: u32) -> Option<&[u8]> {
    self.arrays.get(index as usize)?.as_deref()
  }
}

#[derive(Default)]
pub struct BoundReads {
  key: Option<Uint8Array>,
  fields: Option<Float64Array>,
  targets: [Option<Uint8Array>; READ_TARGETS],
  pub segments: BoundSegments,
}

/// One get's share of the bound arrays.
pub struct ReadParts<'a> {
  pub key: &'a [u8],
  pub into: &'a mut [u8],
  pub fields: &'a mut [f64],
  pub segments: &'a BoundSegments,
}

impl BoundReads {
  pub fn bind_key(&mut self, key: Uint8Array, fields: Float64Array) -> napi::Result<()> {
    if fields.len() < FIELDS_PER_ENTRY {
      return Err(invalid("fields holds fewer than 6 fields"));
    }
    self.key = Some(key);
    self.fields = Some(fields);
    Ok(())
  }

  pub fn bind_target(&mut self, target: u32, into: Uint8Array) -> napi::Result<()> {
    *self.target_slot(target)? = Some(into);
    Ok(())
  }

  pub fn bind_segments(&mut self, arrays: Vec<Option<Uint8Array>>, segment_bytes: u32) {
    self.segments = BoundSegments {
      arrays,
      segment_bytes,
    };
  }

  /// The key `key[..key_length]`, target `target` from `at` on, the fields and segments.
  pub fn parts(&mut self, key_length: u32, target: u32, at: u32) -> napi::Result<ReadParts<'_>> {
    let (Some(key), Some(fields)) = (&self.key, &mut self.fields) else {
      return Err(invalid("no key buffer is bound (bindReadKey)"));
    };
    let key = key
      .get(..key_length as usize)
      .ok_or_else(|| invalid("keyLength is past the key buffer"))?;
    let Some(into) = self
      .targets
      .get_mut(target as usize)
      .and_then(Option::as_mut)
    else {
      return Err(invalid(
        "no buffer is bound as this target (bindReadTarget)",
      ));
    };
    // SAFETY: the arrays are alive (held by reference) and nothing else runs on the JS thread meanwhile.
    let (into, fields) = unsafe { (into.as_mut(), fields.as_mut()) };
    let into = into
      .get_mut(at as usize..)
      .ok_or_else(|| invalid("at is past the end of the target"))?;
    Ok(ReadParts {
      key,
      into,
      fields,
      segments: &self.segments,
    })
  }

  fn target_slot(&mut self, target: u32) -> napi::Result<&mut Option<Uint8Array>> {
    self
      .targets
      .get_mut(target as usize)
      .ok_or_else(|| invalid(format!("target must be below {READ_TARGETS}")))
  }
}
