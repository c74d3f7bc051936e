//! CRC-32C, CRC-32, MD5, SHA-256 and the one-crossing frame scan and seal.

use ::md5::Md5;
use napi::bindgen_prelude::{AsyncTask, Env, Uint32ArraySlice, Uint8Array, Uint8ArraySlice};
use napi_derive::napi;
use sha2::{Digest, Sha256};

use super::throw;
use crate::task::Blocking;
use crate::{error, frames};

/// CRC-32C (Castagnoli); SSE4.2 / ARMv8 CRC instructions where the CPU has them.
/// `seed` is a previous result: `crc32c(b, crc32c(a)) === crc32c(a ++ b)`.
#[napi(js_name = "crc32c")]
pub fn crc32c(data: &[u8], seed: Option<u32>) -> u32 {
  ::crc32c::crc32c_append(seed.unwrap_or(0), data)
}

/// A value read back and checked in one call: when the CRC-32C stored (u32 LE) at
/// `data[offset..offset + 4]` matches the `length` bytes after it, seeded with `seed`,
/// copies those bytes into `into[0..length]` and returns true; false (nothing copied)
/// when it does not. Out-of-range bounds are an error. The caller allocates `into`:
/// a buffer made here would be an external one, which costs more than the copy.
#[napi(js_name = "verifiedCopy")]
pub fn verified_copy(
  data: &[u8],
  offset: u32,
  length: u32,
  seed: u32,
  mut into: Uint8ArraySlice,
) -> napi::Result<bool> {
  let start = offset as usize;
  let end = start
    .checked_add(4)
    .and_then(|value| value.checked_add(length as usize))
    .filter(|&end| end <= data.len())
    .ok_or_else(|| {
      napi::Error::new(
        napi::Status::InvalidArg,
        "offset + 4 + length is past the end of data",
      )
    })?;
  // SAFETY: the view is alive for this call and nothing else runs on the JS thread meanwhile.
  let into = unsafe { into.as_mut() };
  let into = into
    .get_mut(..length as usize)
    .ok_or_else(|| napi::Error::new(napi::Status::InvalidArg, "into is shorter than length"))?;
  let stored = u32::from_le_bytes([
    data[start],
    data[start + 1],
    data[start + 2],
    data[start + 3],
  ]);
  let value = &data[start + 4..end];
  if ::crc32c::crc32c_append(seed, value) != stored {
    return Ok(false);
  }
  into.copy_from_slice(value);
  Ok(true)
}

/// Validates every whole frame in `chunk` (at most 4 GiB) and writes each frame's end
/// offset, relative to the chunk, into `ends`. Returns `stop * 2^32 + count`, where
/// `stop` says why scanning ended (codes in `frames::Stop`).
#[napi(js_name = "scanFrames")]
pub fn scan_frames(
  env: Env,
  chunk: &[u8],
  magic: u32,
  payload_max: u32,
  mut ends: Uint32ArraySlice,
) -> napi::Result<f64> {
  if chunk.len() > u32::MAX as usize {
    return throw(
      &env,
      Err(error::invalid(
        "chunk must be under 4 GiB",
        "scanFrames",
        None,
      )),
    );
  }
  // SAFETY: the view is alive for this call and nothing else runs on the JS thread meanwhile.
  let (count, stop) = frames::scan(chunk, magic, payload_max, unsafe { ends.as_mut() });
  Ok((stop as u64 as f64) * 4_294_967_296.0 + count as f64)
}

/// Fills in the CRC-32C of every frame in `region` (headers and payloads already written,
/// CRC slots left for this call) and returns how many frames there were. Throws EINVAL
/// when the lengths in the headers do not tile the region exactly.
#[napi(js_name = "sealFrames")]
pub fn seal_frames(env: Env, mut region: Uint8ArraySlice) -> napi::Result<u32> {
  // SAFETY: the view is alive for this call and nothing else runs on the JS thread meanwhile.
  match frames::seal(unsafe { region.as_mut() }) {
    Some(count) => Ok(count as u32),
    None => throw(
      &env,
      Err(error::invalid(
        "frame lengths do not tile the region",
        "sealFrames",
        None,
      )),
    ),
  }
}

/// CRC-32 (IEEE 802.3, zlib), with the same running-seed semantics as `crc32c`.
#[napi]
pub fn crc32(data: &[u8], seed: Option<u32>) -> u32 {
  let mut hasher = crc32fast::Hasher::new_with_initial(seed.unwrap_or(0));
  hasher.update(data);
  hasher.finalize()
}

/// MD5 of `data`, as 32 lowercase hex digits, computed on the libuv threadpool: S3's
/// Content-MD5 of a multi-megabyte upload would otherwise hold the JS thread for
/// milliseconds. The view keeps `data` alive until the task ends; the caller must not
/// change the bytes meanwhile.
#[napi(js_name = "md5", ts_return_type = "Promise<string>")]
pub fn md5(data: Uint8Array) -> AsyncTask<Blocking<String>> {
  AsyncTask::new(Blocking::new(move || Ok(hex::<Md5>(&data))))
}

/// SHA-256 of `data`, as 64 lowercase hex digits, on the libuv threadpool (SHA
/// instructions where the CPU has them): SigV4 signs every upload's body with it. Same
/// lifetime rule as `md5`.
#[napi(js_name = "sha256", ts_return_type = "Promise<string>")]
pub fn sha256(data: Uint8Array) -> AsyncTask<Blocking<String>> {
  AsyncTask::new(Blocking::new(move || Ok(hex::<Sha256>(&data))))
}

fn hex<D: Digest>(data: &[u8]) -> String {
  D::digest(data)
    .iter()
    .map(|byte| format!("{byte:02x}"))
    .collect()
}
