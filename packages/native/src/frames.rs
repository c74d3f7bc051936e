//! Bulk frame validation: one N-API crossing checks every frame in a chunk, instead of
//! one crossing (and one CRC call) per record from JavaScript. The layout is keel's
//! frame (fsys 0.9): magic u32 BE, length u32 LE, payload, CRC-32C u32 LE over the rest.

const HEADER_BYTES: usize = 8;
const OVERHEAD_BYTES: usize = 12;

use crate::crc_lanes;

/// Why a chunk scan stopped. The codes are part of the JS contract (see index.ts).
#[derive(Clone, Copy)]
pub enum Stop {
  /// Every byte of the chunk was consumed by whole frames.
  End = 0,
  /// The output array is full; call again from the last end.
  Full = 1,
  BadMagic = 2,
  LengthOverflow = 3,
  ChecksumMismatch = 4,
  /// The chunk ends inside a frame header.
  PartialHeader = 5,
  /// The chunk ends inside a frame whose header is valid.
  PartialPayload = 6,
}

fn u32_le(bytes: &[u8], at: usize) -> u32 {
  u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Writes the end offset of each valid frame (relative to the chunk) into `ends` and
/// returns how many there were and why scanning stopped. A partial magic at the end of
/// the chunk that does not match is reported as BadMagic, as the JS checker does.
///
/// Frames are bounded one by one but their CRCs are computed three at a time (see
/// `crc_lanes`), then compared in order: the result is the same as checking each frame
/// in turn, since a frame is counted only once every frame before it has passed, and a
/// damaged frame is reported before anything found after it.
pub fn scan(chunk: &[u8], magic: u32, payload_max: u32, ends: &mut [u32]) -> (usize, Stop) {
  let magic_bytes = magic.to_be_bytes();
  // (start, CRC offset) of frames whose bounds are checked and whose CRC is not yet compared.
  let mut waiting = [(0usize, 0usize); LANES];
  let mut waiting_count = 0usize;
  let mut position = 0usize;
  let mut count = 0usize;
  loop {
    // A chunk that ends where `ends` fills up ended cleanly: End before Full.
    let bounded = if count + waiting_count == ends.len() && position < chunk.len() {
      Err(Stop::Full)
    } else {
      bound_frame(chunk, position, &magic_bytes, payload_max)
    };
    match bounded {
      Ok(crc_at) => {
        waiting[waiting_count] = (position, crc_at);
        waiting_count += 1;
        position = crc_at + 4;
        if waiting_count == LANES {
          let [(a, a_end), (b, b_end), (c, c_end)] = waiting;
          let crcs = crc_lanes::crc32c_3(&chunk[a..a_end], &chunk[b..b_end], &chunk[c..c_end]);
          if !accept(chunk, &waiting, crcs, ends, &mut count) {
            return (count, Stop::ChecksumMismatch);
          }
          waiting_count = 0;
        }
      }
      Err(stop) => {
        let mut crcs = [0u32; LANES];
        for (crc, &(start, crc_at)) in crcs.iter_mut().zip(&waiting[..waiting_count]) {
          *crc = crc32c::crc32c(&chunk[start..crc_at]);
        }
        if !accept(chunk, &waiting[..waiting_count], crcs, ends, &mut count) {
          return (count, Stop::ChecksumMismatch);
        }
        return (count, stop);
      }
    }
  }
}

/// Checks the magic and the bounded length of the frame at `position` and returns where
/// its CRC lies, or why there is no whole frame there.
fn bound_frame(
  chunk: &[u8],
  position: usize,
  magic_bytes: &[u8; 4],
  payload_max: u32,
) -> Result<usize, Stop> {
  let available = chunk.len() - position;
  if available == 0 {
    return Err(Stop::End);
  }
  // A whole magic is compared as one word: a slice comparison is a memcmp call per frame.
  let magic_matches = if available >= 4 {
    u32::from_be_bytes([
      chunk[position],
      chunk[position + 1],
      chunk[position + 2],
      chunk[position + 3],
    ]) == u32::from_be_bytes(*magic_bytes)
  } else {
    chunk[position..] == magic_bytes[..available]
  };
  if !magic_matches {
    return Err(Stop::BadMagic);
  }
  if available < HEADER_BYTES {
    return Err(Stop::PartialHeader);
  }
  let length = u32_le(chunk, position + 4);
  if length > payload_max {
    return Err(Stop::LengthOverflow);
  }
  if available < length as usize + OVERHEAD_BYTES {
    return Err(Stop::PartialPayload);
  }
  Ok(position + HEADER_BYTES + length as usize)
}

/// Compares the `frames`' computed CRCs with their stored ones in order, writing the end
/// of each one that matches; false at the first that does not.
fn accept(
  chunk: &[u8],
  frames: &[(usize, usize)],
  crcs: [u32; LANES],
  ends: &mut [u32],
  count: &mut usize,
) -> bool {
  for (&(_, crc_at), crc) in frames.iter().zip(crcs) {
    if crc != u32_le(chunk, crc_at) {
      return false;
    }
    ends[*count] = (crc_at + 4) as u32;
    *count += 1;
  }
  true
}

/// Writes the CRC of every frame in `region`, whose headers and payloads are already in
/// place: one crossing for a whole batch instead of one CRC call per record, and the
/// frames' CRCs computed three at a time (see `crc_lanes`). Returns the number of frames,
/// or None when a length runs past the region or the last frame does not end exactly at
/// its end (the caller built the region, so this is a bug).
pub fn seal(region: &mut [u8]) -> Option<usize> {
  // (start, CRC offset) of frames whose bounds are checked and whose CRC is not yet written.
  let mut waiting = [(0usize, 0usize); LANES];
  let mut waiting_count = 0usize;
  let mut position = 0usize;
  let mut count = 0usize;
  while position < region.len() {
    if region.len() - position < OVERHEAD_BYTES {
      return None;
    }
    let crc_at = position + HEADER_BYTES + u32_le(region, position + 4) as usize;
    if crc_at + 4 > region.len() {
      return None;
    }
    waiting[waiting_count] = (position, crc_at);
    waiting_count += 1;
    if waiting_count == LANES {
      let [(a, a_end), (b, b_end), (c, c_end)] = waiting;
      let crcs = crc_lanes::crc32c_3(&region[a..a_end], &region[b..b_end], &region[c..c_end]);
      for (&(_, crc_at), crc) in waiting.iter().zip(crcs) {
        put_crc(region, crc_at, crc);
      }
      waiting_count = 0;
    }
    position = crc_at + 4;
    count += 1;
  }
  for &(start, crc_at) in &waiting[..waiting_count] {
    let crc = crc32c::crc32c(&region[start..crc_at]);
    put_crc(region, crc_at, crc);
  }
  Some(count)
}

/// Frames whose CRCs `scan` and `seal` compute together.
const LANES: usize = 3;

fn put_crc(region: &mut [u8], at: usize, crc: u32) {
  region[at..at + 4].copy_from_slice(&crc.to_le_bytes());
}
