//! Opening a file: access flags, exclusive advisory lock, O_DIRECT with a reported fallback.

use std::fs::{File, OpenOptions as StdOpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use crate::error::{custom, from_io, last_os_error, Failure, Outcome};
use crate::io::Handle;

/// What the caller asked for, with implications already applied.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
  pub read: bool,
  pub write: bool,
  pub create: bool,
  pub truncate: bool,
  pub create_new: bool,
  pub lock: bool,
  pub direct: bool,
}

pub struct Opened {
  pub handle: Handle,
  pub is_direct: bool,
  pub direct_fallback: Option<String>,
}

pub fn open(path: &str, flags: Flags) -> Outcome<Opened> {
  let file = StdOpenOptions::new()
    .read(flags.read)
    .write(flags.write)
    .create(flags.create)
    .create_new(flags.create_new)
    .truncate(flags.truncate)
    .mode(0o666)
    .open(path)
    .map_err(|error| from_io(&error, "open", Some(path)))?;
  // Lock before O_DIRECT so a conflicting open fails without side effects; dropping
  // `file` on any error below closes the fd (and releases a lock it took).
  if flags.lock {
    lock_exclusive(&file, path)?;
  }
  let (is_direct, direct_fallback) = if flags.direct {
    enable_direct(&file, path)?
  } else {
    (false, None)
  };
  Ok(Opened {
    handle: Handle {
      file,
      path: path.to_owned(),
    },
    is_direct,
    direct_fallback,
  })
}

fn lock_exclusive(file: &File, path: &str) -> Outcome<()> {
  loop {
    // SAFETY: plain syscall on an fd we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
      return Ok(());
    }
    let failure = last_os_error("flock", Some(path));
    match failure.errno {
      libc::EINTR => continue,
      // Held by another open file description, in this process or another.
      libc::EWOULDBLOCK => {
        return Err(custom(
          "EBUSY",
          libc::EBUSY,
          "resource busy or locked",
          "flock",
          Some(path),
        ))
      }
      _ => return Err(failure),
    }
  }
}

/// Turns on O_DIRECT with fcntl(F_SETFL) after a normal open rather than retrying
/// open(2): a refused O_DIRECT open can already have created (O_CREAT|O_EXCL) the
/// file, and a retry would then fail with EEXIST or lose exclusivity. The kernel
/// applies the same "can this filesystem do direct IO" check in both places.
fn enable_direct(file: &File, path: &str) -> Outcome<(bool, Option<String>)> {
  let fd = file.as_raw_fd();
  // SAFETY: plain fcntl calls on an fd we own.
  let current = unsafe { libc::fcntl(fd, libc::F_GETFL) };
  if current < 0 {
    return Err(last_os_error("fcntl", Some(path)));
  }
  if unsafe { libc::fcntl(fd, libc::F_SETFL, current | libc::O_DIRECT) } == 0 {
    return Ok((true, None));
  }
  let failure: Failure = last_os_error("fcntl", Some(path));
  if failure.errno == libc::EINVAL {
    let reason = format!(
      "{}: the filesystem does not support O_DIRECT; using buffered IO",
      failure.message()
    );
    return Ok((false, Some(reason)));
  }
  Err(failure)
}
