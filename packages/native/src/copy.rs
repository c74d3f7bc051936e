//! Copying a byte range from one open file into another inside the kernel, the cheapest
//! way the file systems allow: a reflink (`FICLONERANGE`: the target shares the source's
//! blocks, copy-on-write, nothing is read or written), else `copy_file_range(2)` (the
//! kernel copies page cache to page cache, and may itself reflink or ask a server to
//! copy), else `pread`/`pwrite` through a buffer. Each step hands the rest of the range to
//! the next when the file systems say "not here" (`EOPNOTSUPP`, `EXDEV`, `EINVAL`,
//! `ENOSYS`, …); any other error is a real one and is returned.
//!
//! Either way the copied bytes are like written ones: durable only after a sync of the
//! target.

use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

use crate::error::{last_os_error, map_error, Outcome};
use crate::io::{read_full, write_all, Handle};

/// The buffer of the last-resort `pread`/`pwrite` copy.
const COPY_BUFFER_BYTES: usize = 1024 * 1024;

/// One `copy_file_range` call asks for at most this much, so that a huge range still
/// returns to the loop (and to EINTR handling) regularly.
const COPY_FILE_RANGE_BYTES_MAX: u64 = 1 << 30;

/// How many bytes each method moved; they add up to the bytes copied.
#[derive(Debug, Clone, Copy)]
pub struct Copied {
  pub reflink: u64,
  pub copy_file_range: u64,
  pub read_write: u64,
}

/// The part of a copy still to do.
struct Range {
  source_position: u64,
  target_position: u64,
  length: u64,
}

impl Range {
  fn advance(&mut self, count: u64) {
    self.source_position += count;
    self.target_position += count;
    self.length -= count;
  }
}

/// Errors that mean "this file system (pair) cannot do it this way", not "the copy failed".
fn not_here(errno: i32) -> bool {
  matches!(
    errno,
    libc::EOPNOTSUPP | libc::ENOTTY | libc::EXDEV | libc::EINVAL | libc::ENOSYS
  )
}

/// Copies `length` bytes at `source_position` of `source` to `target_position` of
/// `target`. Stops early only where the source ends: the caller compares the total with
/// what it asked for. `source` and `target` must be different files.
pub fn copy_range(
  source: &Handle,
  source_position: u64,
  target: &Handle,
  target_position: u64,
  length: u64,
) -> Outcome<Copied> {
  let mut range = Range {
    source_position,
    target_position,
    length,
  };
  let reflink = reflink(source, target, &mut range)?;
  let copy_file_range = copy_in_kernel(source, target, &mut range)?;
  let read_write = copy_through_buffer(source, target, &mut range)?;
  Ok(Copied {
    reflink,
    copy_file_range,
    read_write,
  })
}

/// `FICLONERANGE` of the block-aligned part of the range, or of all of it when it ends at
/// the source's end of file (the one place an unaligned length is allowed). Returns the
/// bytes cloned: 0 where the file systems cannot share blocks.
fn reflink(source: &Handle, target: &Handle, range: &mut Range) -> Outcome<u64> {
  let metadata = source
    .file
    .metadata()
    .map_err(|error| crate::error::from_io(&error, "fstat", Some(&source.path)))?;
  let block = metadata.blksize().max(1);
  let aligned =
    range.source_position.is_multiple_of(block) && range.target_position.is_multiple_of(block);
  let to_end = range.source_position + range.length == metadata.len();
  let length = if to_end {
    range.length
  } else {
    range.length - range.length % block
  };
  if !aligned || length == 0 {
    return Ok(0);
  }
  let request = libc::file_clone_range {
    src_fd: i64::from(source.file.as_raw_fd()),
    src_offset: range.source_position,
    src_length: length,
    dest_offset: range.target_position,
  };
  loop {
    // SAFETY: `request` is a valid file_clone_range for the duration of the call and
    // both descriptors are open (the handles are borrowed).
    let status = unsafe {
      libc::ioctl(
        target.file.as_raw_fd(),
        libc::FICLONERANGE,
        &request as *const libc::file_clone_range,
      )
    };
    if status == 0 {
      range.advance(length);
      return Ok(length);
    }
    let failure = last_os_error("ioctl(FICLONERANGE)", Some(&target.path));
    match failure.errno {
      libc::EINTR => continue,
      errno if not_here(errno) => return Ok(0),
      _ => return Err(failure),
    }
  }
}

/// `copy_file_range(2)` until the range is done, the source ends, or the kernel says it
/// cannot copy between these files (then the rest is left for the next method).
fn copy_in_kernel(source: &Handle, target: &Handle, range: &mut Range) -> Outcome<u64> {
  let mut done = 0u64;
  while range.length > 0 {
    let mut source_offset = offset(range.source_position, &source.path)?;
    let mut target_offset = offset(range.target_position, &target.path)?;
    let ask = range.length.min(COPY_FILE_RANGE_BYTES_MAX) as usize;
    // The raw system call, not glibc's wrapper: that one exists only from glibc 2.27, and
    // the release binaries link against 2.17 so that they load on older distributions. A
    // kernel without the call (before 4.5) answers ENOSYS and the buffer copy takes over.
    // SAFETY: plain syscall on descriptors we hold; the offsets are local variables the
    // kernel updates (the descriptors' own file positions are left alone).
    let count = unsafe {
      libc::syscall(
        libc::SYS_copy_file_range,
        source.file.as_raw_fd(),
        &mut source_offset as *mut libc::loff_t,
        target.file.as_raw_fd(),
        &mut target_offset as *mut libc::loff_t,
        ask,
        0u32,
      )
    };
    if count < 0 {
      let failure = last_os_error("copy_file_range", Some(&target.path));
      match failure.errno {
        libc::EINTR => continue,
        // Only before the first byte: after that the kernel has shown it can copy here.
        errno if done == 0 && not_here(errno) => return Ok(0),
        _ => return Err(failure),
      }
    }
    if count == 0 {
      // End of the source file: the caller sees a short copy.
      break;
    }
    done += count as u64;
    range.advance(count as u64);
  }
  Ok(done)
}

/// The last resort: `pread` into a buffer, `pwrite` out of it.
fn copy_through_buffer(source: &Handle, target: &Handle, range: &mut Range) -> Outcome<u64> {
  let mut buffer = vec![0u8; (range.length as usize).min(COPY_BUFFER_BYTES)];
  let mut done = 0u64;
  while range.length > 0 {
    let want = (range.length as usize).min(buffer.len());
    let read = read_full(source, &mut buffer[..want], range.source_position)?;
    if read == 0 {
      break;
    }
    write_all(target, &buffer[..read], range.target_position)?;
    done += read as u64;
    range.advance(read as u64);
  }
  Ok(done)
}

fn offset(position: u64, path: &str) -> Outcome<libc::loff_t> {
  libc::loff_t::try_from(position)
    .map_err(|_| map_error(libc::EINVAL, "copy_file_range", Some(path)))
}
