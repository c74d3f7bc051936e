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
pub fn scan(chunk: &[u8], magic: u32, payload_max: u32, ends: &mut [u32]) -> (usize, Stop) {
  let magic_bytes = magic.to_be_bytes();
  let mut position = 0usize;
  let mut count = 0usize;
  loop {
    let available = chunk.len() - position;
    if available == 0 {
      return (count, Stop::End);
    }
    if count == ends.len() {
      return (count, Stop::Full);
    }
    let present = available.min(4);
    if chunk[position..position + present] != magic_bytes[..present] {
      return (count, Stop::BadMagic);
    }
    if available < HEADER_BYTES {
      return (count, Stop::PartialHeader);
    }
    let length = u32_le(chunk, position + 4);
    if length > payload_max {
      return (count, Stop::LengthOverflow);
    }
    let total = length as usize + OVERHEAD_BYTES;
    if available < total {
      return (count, Stop::PartialPayload);
    }
    let crc_at = position + HEADER_BYTES + length as usize;
    if crc32c::crc32c(&chunk[position..crc_at]) != u32_le(chunk, crc_at) {
      return (count, Stop::ChecksumMismatch);
    }
    position += total;
    ends[count] = position as u32;
    count += 1;
  }
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

/// Frames whose CRCs `seal` computes together.
const LANES: usize = 3;

fn put_crc(region: &mut [u8], at: usize, crc: u32) {
  region[at..at + 4].copy_from_slice(&crc.to_le_bytes());
}
