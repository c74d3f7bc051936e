//! Bulk frame validation: one N-API crossing checks every frame in a chunk, instead of
//! one crossing (and one CRC call) per record from JavaScript. The layout is keel's
//! frame (fsys 0.9): magic u32 BE, length u32 LE, payload, CRC-32C u32 LE over the rest.

const HEADER_BYTES: usize = 8;
const OVERHEAD_BYTES: usize = 12;

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
/// place: one crossing for a whole batch instead of one CRC call per record. Returns the
/// number of frames, or None when a length runs past the region or the last frame does
/// not end exactly at its end (the caller built the region, so this is a bug).
///
/// Frames are taken `LANES` at a time and their CRCs computed side by side (see
/// `lanes::crc32c`): a frame of a small record is too short for the CRC instruction's
/// own pipelining, so one frame at a time waits out its latency on every 8 bytes.
pub fn seal(region: &mut [u8]) -> Option<usize> {
  let mut position = 0usize;
  let mut count = 0usize;
  while position < region.len() {
    // The next frames' covered ranges, [start, crc slot); at most LANES of them.
    let mut ranges = [(0usize, 0usize); lanes::LANES];
    let mut taken = 0usize;
    while taken < lanes::LANES && position < region.len() {
      if region.len() - position < OVERHEAD_BYTES {
        return None;
      }
      let crc_at = position + HEADER_BYTES + u32_le(region, position + 4) as usize;
      if crc_at + 4 > region.len() {
        return None;
      }
      ranges[taken] = (position, crc_at);
      taken += 1;
      position = crc_at + 4;
    }
    let crcs = lanes::crc32c(region, &ranges[..taken]);
    for (&(_, crc_at), crc) in ranges[..taken].iter().zip(crcs) {
      region[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
    }
    count += taken;
  }
  Some(count)
}

/// CRC-32C of several byte ranges at once. The CRC instruction takes three cycles to
/// answer but accepts a new input every cycle, so three independent ranges go through
/// it about as fast as one: the x86-64 path interleaves them where SSE 4.2 is there,
/// and every other path computes them one by one with the `crc32c` crate (which does
/// the same within one long buffer). Both give the crate's values.
mod lanes {
  pub const LANES: usize = 3;
  /// Above this a range goes to the crate, whose own interleaving within one long buffer
  /// is as fast, rather than hold up the lanes of two short ones.
  const LANE_BYTES_MAX: usize = 4096;

  pub fn crc32c(region: &[u8], ranges: &[(usize, usize)]) -> [u32; LANES] {
    #[cfg(target_arch = "x86_64")]
    {
      let short = ranges
        .iter()
        .all(|&(start, end)| end - start <= LANE_BYTES_MAX);
      if ranges.len() == LANES && short && std::arch::is_x86_feature_detected!("sse4.2") {
        let [a, b, c] = [ranges[0], ranges[1], ranges[2]];
        // SAFETY: SSE 4.2 was just detected.
        return unsafe {
          x86::crc32c_three([&region[a.0..a.1], &region[b.0..b.1], &region[c.0..c.1]])
        };
      }
    }
    let mut crcs = [0u32; LANES];
    for (crc, &(start, end)) in crcs.iter_mut().zip(ranges) {
      *crc = crc32c::crc32c(&region[start..end]);
    }
    crcs
  }

  #[cfg(target_arch = "x86_64")]
  mod x86 {
    use std::arch::x86_64::{_mm_crc32_u16, _mm_crc32_u32, _mm_crc32_u64, _mm_crc32_u8};

    fn word(bytes: &[u8], at: usize) -> u64 {
      let mut word = [0u8; 8];
      word.copy_from_slice(&bytes[at..at + 8]);
      u64::from_le_bytes(word)
    }

    /// The three CRCs over the words all three have, in lockstep, then each one's rest.
    #[target_feature(enable = "sse4.2")]
    pub unsafe fn crc32c_three(parts: [&[u8]; 3]) -> [u32; 3] {
      let common = parts.iter().map(|part| part.len()).min().unwrap_or(0) & !7;
      let mut state = [u64::from(u32::MAX); 3];
      let mut at = 0usize;
      while at < common {
        state[0] = _mm_crc32_u64(state[0], word(parts[0], at));
        state[1] = _mm_crc32_u64(state[1], word(parts[1], at));
        state[2] = _mm_crc32_u64(state[2], word(parts[2], at));
        at += 8;
      }
      [
        finish(state[0], &parts[0][common..]),
        finish(state[1], &parts[1][common..]),
        finish(state[2], &parts[2][common..]),
      ]
    }

    #[target_feature(enable = "sse4.2")]
    unsafe fn finish(state: u64, rest: &[u8]) -> u32 {
      let mut state = state;
      let mut at = 0usize;
      while at + 8 <= rest.len() {
        state = _mm_crc32_u64(state, word(rest, at));
        at += 8;
      }
      // The instruction keeps the CRC in the low 32 bits. The last 0-7 bytes in at most
      // three steps rather than one a byte: each step waits for the one before it.
      let mut crc = state as u32;
      if at + 4 <= rest.len() {
        crc = _mm_crc32_u32(
          crc,
          u32::from_le_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]),
        );
        at += 4;
      }
      if at + 2 <= rest.len() {
        crc = _mm_crc32_u16(crc, u16::from_le_bytes([rest[at], rest[at + 1]]));
        at += 2;
      }
      if at < rest.len() {
        crc = _mm_crc32_u8(crc, rest[at]);
      }
      !crc
    }
  }
}
