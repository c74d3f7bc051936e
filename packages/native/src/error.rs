//! The one place where failures become JavaScript errors.
//!
//! Every fallible compute function returns `Outcome<T>`; the JS-facing layer turns a
//! `Failure` into a real `Error` object (built here, in Rust) that carries `code`,
//! `errno`, `syscall`, `path` and a Node-style message, e.g.
//! `ENOENT: no such file or directory, open '/x/y'`.

use napi::bindgen_prelude::{Env, JsObjectValue, Object, Unknown};
use napi::JsValue;
use std::ffi::{c_char, c_int, CStr};

/// Code for every operation attempted on a `NativeFile` after `close()`.
pub const CODE_CLOSED: &str = "ECLOSED";

#[derive(Debug, Clone)]
pub struct Failure {
  pub code: &'static str,
  /// The positive OS error number (`libc::ENOENT` = 2), not libuv's negated form.
  pub errno: i32,
  pub description: &'static str,
  pub syscall: &'static str,
  pub path: Option<String>,
  /// Destination of a two-path call (`rename`), as Node reports it.
  pub dest: Option<String>,
}

pub type Outcome<T> = std::result::Result<T, Failure>;

impl Failure {
  pub fn message(&self) -> String {
    let head = format!("{}: {}, {}", self.code, self.description, self.syscall);
    match (&self.path, &self.dest) {
      (Some(path), Some(dest)) => format!("{head} '{path}' -> '{dest}'"),
      (Some(path), None) => format!("{head} '{path}'"),
      _ => head,
    }
  }

  /// Builds the JS `Error` object and wraps it so napi-rs throws (sync) or rejects
  /// with (async) exactly this object.
  pub fn into_napi(self, env: &Env) -> napi::Error {
    match self.build(env) {
      Ok(error) => error,
      Err(fallback) => fallback,
    }
  }

  fn build(self, env: &Env) -> napi::Result<napi::Error> {
    let object = self.into_object(env)?;
    let unknown: Unknown = object.to_unknown();
    Ok(napi::Error::from(unknown))
  }

  /// The JS `Error` object itself, for a promise settled by hand (`SyncThread`).
  pub fn into_object(self, env: &Env) -> napi::Result<Object<'_>> {
    let base = napi::Error::new(napi::Status::GenericFailure, self.message());
    let mut object: Object = env.create_error(base)?;
    object.set_named_property("code", self.code)?;
    object.set_named_property("errno", self.errno)?;
    object.set_named_property("syscall", self.syscall)?;
    if let Some(path) = self.path {
      object.set_named_property("path", path)?;
    }
    if let Some(dest) = self.dest {
      object.set_named_property("dest", dest)?;
    }
    Ok(object)
  }
}

/// The one `map_error`: an OS error number plus the call that produced it.
pub fn map_error(errno: i32, syscall: &'static str, path: Option<&str>) -> Failure {
  let (code, description) = describe_errno(errno);
  Failure {
    code,
    errno,
    description,
    syscall,
    path: path.map(str::to_owned),
    dest: None,
  }
}

/// `map_error` for the `errno` left behind by the last failed libc call.
pub fn last_os_error(syscall: &'static str, path: Option<&str>) -> Failure {
  let errno = std::io::Error::last_os_error()
    .raw_os_error()
    .unwrap_or(libc::EIO);
  map_error(errno, syscall, path)
}

/// `map_error` for a `std::io::Error` (std file-system helpers).
pub fn from_io(error: &std::io::Error, syscall: &'static str, path: Option<&str>) -> Failure {
  let errno = match (error.raw_os_error(), error.kind()) {
    (Some(errno), _) => errno,
    // std refuses some arguments itself, e.g. a path with an interior NUL byte.
    (None, std::io::ErrorKind::InvalidInput) => libc::EINVAL,
    (None, _) => libc::EIO,
  };
  map_error(errno, syscall, path)
}

/// A keel-defined failure that is not an OS error number verbatim.
pub fn custom(
  code: &'static str,
  errno: i32,
  description: &'static str,
  syscall: &'static str,
  path: Option<&str>,
) -> Failure {
  Failure {
    code,
    errno,
    description,
    syscall,
    path: path.map(str::to_owned),
    dest: None,
  }
}

pub fn closed(syscall: &'static str, path: &str) -> Failure {
  custom(
    CODE_CLOSED,
    libc::EBADF,
    "file is closed",
    syscall,
    Some(path),
  )
}

pub fn invalid(description: &'static str, syscall: &'static str, path: Option<&str>) -> Failure {
  custom("EINVAL", libc::EINVAL, description, syscall, path)
}

// libuv, which every Node.js binary exports for its addons: Node's own table of errno
// names and messages, the one behind `util.getSystemErrorName` and Node's system errors.
// libuv's codes are the negated errnos on Unix.
extern "C" {
  fn uv_err_name(error: c_int) -> *const c_char;
  fn uv_strerror(error: c_int) -> *const c_char;
}

/// A string libuv returned: its table entries are literals that live as long as the
/// process (an errno it does not know gets a fresh, never freed "Unknown system error").
fn from_libuv(text: *const c_char) -> Option<&'static str> {
  if text.is_null() {
    return None;
  }
  // SAFETY: libuv returns NUL-terminated strings that are never freed.
  unsafe { CStr::from_ptr(text) }.to_str().ok()
}

/// Node's code name and message for an OS error number, e.g. `("ENOENT", "no such file
/// or directory")`; `EUNKNOWN` for a number libuv has no name for.
fn describe_errno(errno: i32) -> (&'static str, &'static str) {
  // SAFETY: both functions accept any integer.
  let name = from_libuv(unsafe { uv_err_name(-errno) });
  let text = from_libuv(unsafe { uv_strerror(-errno) }).unwrap_or("unknown error");
  match name {
    Some(name) if name.starts_with('E') => (name, text),
    _ => ("EUNKNOWN", text),
  }
}
