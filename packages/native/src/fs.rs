//! Path-level operations: directory fsync, durable rename, create, list, stat, remove.

use std::ffi::CString;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::{from_io, invalid, last_os_error, map_error, Outcome};

fn c_path(path: &str, syscall: &'static str) -> Outcome<CString> {
  CString::new(path).map_err(|_| invalid("path contains a NUL byte", syscall, Some(path)))
}

/// open(O_RDONLY|O_DIRECTORY) + fsync: makes creates, renames and unlinks inside the
/// directory durable.
pub fn sync_dir(path: &str) -> Outcome<()> {
  let c_path = c_path(path, "open")?;
  let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
  // SAFETY: `c_path` is NUL-terminated; the fd is closed below on every path.
  let fd = unsafe { libc::open(c_path.as_ptr(), flags) };
  if fd < 0 {
    return Err(last_os_error("open", Some(path)));
  }
  let status = unsafe { libc::fsync(fd) };
  let failure = (status != 0).then(|| last_os_error("fsync", Some(path)));
  unsafe { libc::close(fd) };
  match failure {
    Some(failure) => Err(failure),
    None => Ok(()),
  }
}

pub fn rename(from: &str, to: &str) -> Outcome<()> {
  fs::rename(from, to).map_err(|error| {
    let mut failure = from_io(&error, "rename", Some(from));
    failure.dest = Some(to.to_owned());
    failure
  })
}

fn parent_of(path: &str) -> &str {
  match Path::new(path).parent().and_then(Path::to_str) {
    Some("") | None => ".",
    Some(parent) => parent,
  }
}

fn same_directory(first: &str, second: &str) -> bool {
  match (fs::metadata(first), fs::metadata(second)) {
    (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
    _ => first == second,
  }
}

/// rename + fsync of the destination's directory, and of the source's directory when
/// it is a different one (otherwise the old name can reappear after a crash).
pub fn rename_durable(from: &str, to: &str) -> Outcome<()> {
  rename(from, to)?;
  let to_parent = parent_of(to);
  let from_parent = parent_of(from);
  sync_dir(to_parent)?;
  if !same_directory(from_parent, to_parent) {
    sync_dir(from_parent)?;
  }
  Ok(())
}

pub fn remove_file(path: &str) -> Outcome<()> {
  fs::remove_file(path).map_err(|error| from_io(&error, "unlink", Some(path)))
}

pub fn create_dir(path: &str, recursive: bool) -> Outcome<()> {
  fs::DirBuilder::new()
    .recursive(recursive)
    .create(path)
    .map_err(|error| from_io(&error, "mkdir", Some(path)))
}

/// Entry names sorted by their bytes, without `.` and `..`.
pub fn list_dir(path: &str) -> Outcome<Vec<String>> {
  let entries = fs::read_dir(path).map_err(|error| from_io(&error, "scandir", Some(path)))?;
  let mut names = Vec::new();
  for entry in entries {
    let entry = entry.map_err(|error| from_io(&error, "scandir", Some(path)))?;
    match entry.file_name().into_string() {
      Ok(name) => names.push(name),
      // A name JS cannot hold losslessly would be unusable as a path later.
      Err(_) => return Err(map_error(libc::EILSEQ, "scandir", Some(path))),
    }
  }
  names.sort_unstable();
  Ok(names)
}

pub struct Stat {
  pub size: u64,
  pub is_file: bool,
  pub is_directory: bool,
}

/// stat(2) following symlinks; `None` when the path does not exist.
pub fn stat(path: &str) -> Outcome<Option<Stat>> {
  match fs::metadata(path) {
    Ok(metadata) => Ok(Some(Stat {
      size: metadata.len(),
      is_file: metadata.is_file(),
      is_directory: metadata.is_dir(),
    })),
    Err(error) if error.raw_os_error() == Some(libc::ENOENT) => Ok(None),
    Err(error) => Err(from_io(&error, "stat", Some(path))),
  }
}
