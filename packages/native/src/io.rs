//! Compute functions: plain Rust over file descriptors, shared by the `…Sync` methods
//! (run on the JS thread) and the async tasks (run on the libuv threadpool).

use std::fs::File;
use std::os::fd::AsRawFd;

use crate::error::{last_os_error, map_error, Outcome};

/// Linux caps one pwritev at IOV_MAX iovecs; more are split across calls.
pub const IOVECS_PER_CALL_MAX: usize = 1024;

/// Largest integer a JS number represents exactly (2^53 - 1).
pub const JS_SAFE_INTEGER_MAX: f64 = 9_007_199_254_740_991.0;

/// An open file and the path it was opened with (for error messages).
pub struct Handle {
  pub file: File,
  pub path: String,
}

/// Validates a JS number used as a position or length: a non-negative safe integer.
pub fn to_u64(value: f64, syscall: &'static str, path: Option<&str>) -> Outcome<u64> {
  let valid =
    value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= JS_SAFE_INTEGER_MAX;
  if !valid {
    return Err(crate::error::invalid(
      "position and length must be non-negative integers",
      syscall,
      path,
    ));
  }
  Ok(value as u64)
}

fn offset(position: u64, syscall: &'static str, path: &str) -> Outcome<libc::off_t> {
  libc::off_t::try_from(position)
    .map_err(|_| crate::error::invalid("position out of range", syscall, Some(path)))
}

/// pwrite until every byte is written. Returns `data.len()`.
pub fn write_all(handle: &Handle, data: &[u8], position: u64) -> Outcome<usize> {
  let fd = handle.file.as_raw_fd();
  let mut written = 0usize;
  while written < data.len() {
    let at = offset(position + written as u64, "pwrite", &handle.path)?;
    let rest = &data[written..];
    // SAFETY: `rest` is a live slice; the kernel reads at most `rest.len()` bytes.
    let count = unsafe { libc::pwrite(fd, rest.as_ptr().cast(), rest.len(), at) };
    if count < 0 {
      let failure = last_os_error("pwrite", Some(&handle.path));
      if failure.errno == libc::EINTR {
        continue;
      }
      return Err(failure);
    }
    if count == 0 {
      return Err(map_error(libc::EIO, "pwrite", Some(&handle.path)));
    }
    written += count as usize;
  }
  Ok(written)
}

/// pwritev until every byte of every buffer is written, advancing across iovecs after
/// a partial write and splitting into calls of at most `IOVECS_PER_CALL_MAX` iovecs.
pub fn writev_all(handle: &Handle, buffers: &[&[u8]], position: u64) -> Outcome<usize> {
  let fd = handle.file.as_raw_fd();
  let mut iovecs: Vec<libc::iovec> = buffers
    .iter()
    .filter(|buffer| !buffer.is_empty())
    .map(|buffer| libc::iovec {
      iov_base: buffer.as_ptr() as *mut libc::c_void,
      iov_len: buffer.len(),
    })
    .collect();
  let total: usize = iovecs.iter().map(|iovec| iovec.iov_len).sum();
  let mut written = 0usize;
  let mut first = 0usize;
  while first < iovecs.len() {
    let at = offset(position + written as u64, "pwritev", &handle.path)?;
    let window = &iovecs[first..iovecs.len().min(first + IOVECS_PER_CALL_MAX)];
    // SAFETY: every iovec points into a slice borrowed for this whole call.
    let count = unsafe { libc::pwritev(fd, window.as_ptr(), window.len() as libc::c_int, at) };
    if count < 0 {
      let failure = last_os_error("pwritev", Some(&handle.path));
      if failure.errno == libc::EINTR {
        continue;
      }
      return Err(failure);
    }
    if count == 0 {
      return Err(map_error(libc::EIO, "pwritev", Some(&handle.path)));
    }
    written += count as usize;
    let mut consumed = count as usize;
    while consumed > 0 {
      let iovec = &mut iovecs[first];
      if consumed >= iovec.iov_len {
        consumed -= iovec.iov_len;
        first += 1;
      } else {
        // SAFETY: advancing within the same buffer, `consumed < iov_len`.
        iovec.iov_base = unsafe { iovec.iov_base.cast::<u8>().add(consumed).cast() };
        iovec.iov_len -= consumed;
        consumed = 0;
      }
    }
  }
  debug_assert_eq!(written, total);
  Ok(written)
}

/// pread until `into` is full or the file ends. Returns the bytes read.
pub fn read_full(handle: &Handle, into: &mut [u8], position: u64) -> Outcome<usize> {
  let fd = handle.file.as_raw_fd();
  let mut done = 0usize;
  while done < into.len() {
    let at = offset(position + done as u64, "pread", &handle.path)?;
    let rest = &mut into[done..];
    // SAFETY: `rest` is a live, writable slice of `rest.len()` bytes.
    let count = unsafe { libc::pread(fd, rest.as_mut_ptr().cast(), rest.len(), at) };
    if count < 0 {
      let failure = last_os_error("pread", Some(&handle.path));
      if failure.errno == libc::EINTR {
        continue;
      }
      return Err(failure);
    }
    if count == 0 {
      break;
    }
    done += count as usize;
  }
  Ok(done)
}

pub fn size(handle: &Handle) -> Outcome<u64> {
  handle
    .file
    .metadata()
    .map(|metadata| metadata.len())
    .map_err(|error| crate::error::from_io(&error, "fstat", Some(&handle.path)))
}

pub fn set_length(handle: &Handle, length: u64) -> Outcome<()> {
  let length = offset(length, "ftruncate", &handle.path)?;
  // SAFETY: plain syscall on an fd we own.
  if unsafe { libc::ftruncate(handle.file.as_raw_fd(), length) } != 0 {
    return Err(last_os_error("ftruncate", Some(&handle.path)));
  }
  Ok(())
}

pub fn datasync(handle: &Handle) -> Outcome<()> {
  // SAFETY: plain syscall on an fd we own. Never retried on failure: after a failed
  // fdatasync the kernel may have dropped the dirty pages (fsyncgate).
  if unsafe { libc::fdatasync(handle.file.as_raw_fd()) } != 0 {
    return Err(last_os_error("fdatasync", Some(&handle.path)));
  }
  Ok(())
}

pub fn fsync(handle: &Handle) -> Outcome<()> {
  // SAFETY: plain syscall on an fd we own.
  if unsafe { libc::fsync(handle.file.as_raw_fd()) } != 0 {
    return Err(last_os_error("fsync", Some(&handle.path)));
  }
  Ok(())
}

/// fallocate(FALLOC_FL_KEEP_SIZE). `Ok(false)` when the filesystem cannot do it.
pub fn preallocate(handle: &Handle, position: u64, length: u64) -> Outcome<bool> {
  if length == 0 {
    return Ok(true);
  }
  let at = offset(position, "fallocate", &handle.path)?;
  let length = offset(length, "fallocate", &handle.path)?;
  loop {
    // SAFETY: plain syscall on an fd we own.
    let status = unsafe {
      libc::fallocate(
        handle.file.as_raw_fd(),
        libc::FALLOC_FL_KEEP_SIZE,
        at,
        length,
      )
    };
    if status == 0 {
      return Ok(true);
    }
    let failure = last_os_error("fallocate", Some(&handle.path));
    match failure.errno {
      libc::EINTR => continue,
      libc::EOPNOTSUPP | libc::ENOSYS => return Ok(false),
      _ => return Err(failure),
    }
  }
}

pub fn advise(handle: &Handle, position: u64, length: u64, advice: &str) -> Outcome<()> {
  let advice = match advice {
    "normal" => libc::POSIX_FADV_NORMAL,
    "sequential" => libc::POSIX_FADV_SEQUENTIAL,
    "random" => libc::POSIX_FADV_RANDOM,
    "willneed" => libc::POSIX_FADV_WILLNEED,
    "dontneed" => libc::POSIX_FADV_DONTNEED,
    _ => {
      return Err(crate::error::invalid(
        "advice must be one of normal, sequential, random, willneed, dontneed",
        "fadvise",
        Some(&handle.path),
      ))
    }
  };
  let at = offset(position, "fadvise", &handle.path)?;
  let length = offset(length, "fadvise", &handle.path)?;
  // SAFETY: plain syscall on an fd we own; it returns the error number directly.
  let status = unsafe { libc::posix_fadvise(handle.file.as_raw_fd(), at, length, advice) };
  if status != 0 {
    return Err(map_error(status, "fadvise", Some(&handle.path)));
  }
  Ok(())
}

/// close(2) with its error reported (std's `Drop` for `File` swallows it).
pub fn close(handle: Handle) -> Outcome<()> {
  use std::os::fd::IntoRawFd;
  let path = handle.path;
  let fd = handle.file.into_raw_fd();
  // SAFETY: we own `fd` and never use it again; close is not retried on Linux (the fd
  // is released even when close reports EINTR or EIO).
  if unsafe { libc::close(fd) } != 0 {
    return Err(last_os_error("close", Some(&path)));
  }
  Ok(())
}
