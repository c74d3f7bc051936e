#![deny(clippy::all)]
//! `@keel/native`: the only code in keel that makes system calls.
//!
//! Layout: `error` (one `map_error`, JS error objects), `io` (compute functions over a
//! file descriptor), `open`, `fs` (path-level calls), `map` (mmap), `task` (the async
//! twin of every blocking call). This file is the N-API surface only.

mod error;
mod frames;
mod fs;
mod io;
mod map;
mod open;
mod task;

use std::cell::RefCell;
use std::sync::Arc;

use napi::bindgen_prelude::{
  AsyncTask, BufferSlice, Env, Uint32ArraySlice, Uint8Array, Uint8ArraySlice,
};
use napi_derive::napi;

use crate::error::{closed, Failure, Outcome};
use crate::io::{to_u64, Handle};
use crate::task::Blocking;

/// Throws the failure as a JS error object (code, errno, syscall, path).
fn throw<T>(env: &Env, outcome: Outcome<T>) -> napi::Result<T> {
  outcome.map_err(|failure: Failure| failure.into_napi(env))
}

#[napi(object)]
#[derive(Default)]
pub struct OpenOptions {
  pub read: Option<bool>,
  pub write: Option<bool>,
  /// Implies `write`.
  pub create: Option<bool>,
  /// O_TRUNC. Implies `write`.
  pub truncate: Option<bool>,
  /// O_CREAT|O_EXCL: fail with EEXIST if present. Implies `create`.
  pub create_new: Option<bool>,
  /// flock(LOCK_EX|LOCK_NB); a conflict throws code EBUSY.
  pub lock: Option<bool>,
  /// O_DIRECT, falling back to buffered IO where the filesystem refuses it.
  pub direct: Option<bool>,
}

impl OpenOptions {
  fn flags(&self) -> open::Flags {
    let create_new = self.create_new.unwrap_or(false);
    let create = create_new || self.create.unwrap_or(false);
    let truncate = self.truncate.unwrap_or(false);
    let write = create || truncate || self.write.unwrap_or(false);
    open::Flags {
      // Reading stays on unless explicitly turned off: recovery reads what it writes.
      read: self.read.unwrap_or(true),
      write,
      create,
      truncate,
      create_new,
      lock: self.lock.unwrap_or(false),
      direct: self.direct.unwrap_or(false),
    }
  }
}

#[napi]
pub struct NativeFile {
  path: String,
  // Interior mutability so that every method takes `&self`: napi-rs keeps the borrow
  // of a method that returns an AsyncTask until the task settles, and a `&mut self`
  // close() would then conflict with in-flight IO instead of letting it finish.
  handle: RefCell<Option<Arc<Handle>>>,
  is_direct: bool,
  direct_fallback: Option<String>,
}

#[napi(object)]
pub struct StatResult {
  pub size: f64,
  pub is_file: bool,
  pub is_directory: bool,
}

#[napi]
impl NativeFile {
  #[napi(factory)]
  pub fn open(env: Env, path: String, options: Option<OpenOptions>) -> napi::Result<Self> {
    let flags = options.unwrap_or_default().flags();
    let opened = throw(&env, open::open(&path, flags))?;
    Ok(NativeFile {
      path,
      handle: RefCell::new(Some(Arc::new(opened.handle))),
      is_direct: opened.is_direct,
      direct_fallback: opened.direct_fallback,
    })
  }

  fn handle(&self, syscall: &'static str) -> Outcome<Arc<Handle>> {
    let handle = self.handle.borrow();
    handle.clone().ok_or_else(|| closed(syscall, &self.path))
  }

  fn position(&self, value: f64, syscall: &'static str) -> Outcome<u64> {
    to_u64(value, syscall, Some(&self.path))
  }

  #[napi(getter)]
  pub fn path(&self) -> String {
    self.path.clone()
  }

  #[napi(getter)]
  pub fn is_direct(&self) -> bool {
    self.is_direct
  }

  #[napi(getter)]
  pub fn direct_fallback(&self) -> Option<String> {
    self.direct_fallback.clone()
  }

  #[napi(getter)]
  pub fn closed(&self) -> bool {
    self.handle.borrow().is_none()
  }

  #[napi]
  pub fn write_sync(&self, env: Env, data: &[u8], position: f64) -> napi::Result<f64> {
    let outcome = self.handle("pwrite").and_then(|handle| {
      let position = self.position(position, "pwrite")?;
      io::write_all(&handle, data, position)
    });
    throw(&env, outcome).map(|count| count as f64)
  }

  #[napi(ts_return_type = "Promise<number>")]
  pub fn write(
    &self,
    env: Env,
    data: Uint8Array,
    position: f64,
  ) -> napi::Result<AsyncTask<Blocking<f64>>> {
    let (handle, position) = throw(&env, self.prepare("pwrite", position))?;
    Ok(AsyncTask::new(Blocking::new(move || {
      io::write_all(&handle, &data, position).map(|count| count as f64)
    })))
  }

  #[napi]
  pub fn writev_sync(&self, env: Env, buffers: Vec<&[u8]>, position: f64) -> napi::Result<f64> {
    let outcome = self.handle("pwritev").and_then(|handle| {
      let position = self.position(position, "pwritev")?;
      io::writev_all(&handle, &buffers, position)
    });
    throw(&env, outcome).map(|count| count as f64)
  }

  #[napi(ts_return_type = "Promise<number>")]
  pub fn writev(
    &self,
    env: Env,
    buffers: Vec<Uint8Array>,
    position: f64,
  ) -> napi::Result<AsyncTask<Blocking<f64>>> {
    let (handle, position) = throw(&env, self.prepare("pwritev", position))?;
    Ok(AsyncTask::new(Blocking::new(move || {
      let slices: Vec<&[u8]> = buffers.iter().map(|buffer| buffer.as_ref()).collect();
      io::writev_all(&handle, &slices, position).map(|count| count as f64)
    })))
  }

  #[napi]
  pub fn read_sync(&self, env: Env, mut into: Uint8ArraySlice, position: f64) -> napi::Result<f64> {
    let outcome = self.handle("pread").and_then(|handle| {
      let position = self.position(position, "pread")?;
      // SAFETY: the view is alive for this call and nothing else runs on the JS
      // thread meanwhile.
      io::read_full(&handle, unsafe { into.as_mut() }, position)
    });
    throw(&env, outcome).map(|count| count as f64)
  }

  /// The caller must not touch `into` until the promise settles.
  #[napi(ts_return_type = "Promise<number>")]
  pub fn read(
    &self,
    env: Env,
    into: Uint8Array,
    position: f64,
  ) -> napi::Result<AsyncTask<Blocking<f64>>> {
    let (handle, position) = throw(&env, self.prepare("pread", position))?;
    let mut into = into;
    Ok(AsyncTask::new(Blocking::new(move || {
      // SAFETY: the Uint8Array holds a reference that keeps the JS memory alive until
      // this closure is dropped; by contract JS does not use it meanwhile.
      let slice = unsafe { into.as_mut() };
      io::read_full(&handle, slice, position).map(|count| count as f64)
    })))
  }

  fn prepare(&self, syscall: &'static str, position: f64) -> Outcome<(Arc<Handle>, u64)> {
    let handle = self.handle(syscall)?;
    let position = self.position(position, syscall)?;
    Ok((handle, position))
  }

  #[napi]
  pub fn size_sync(&self, env: Env) -> napi::Result<f64> {
    let outcome = self.handle("fstat").and_then(|handle| io::size(&handle));
    throw(&env, outcome).map(|size| size as f64)
  }

  #[napi]
  pub fn set_length_sync(&self, env: Env, length: f64) -> napi::Result<()> {
    let outcome = self
      .handle("ftruncate")
      .and_then(|handle| io::set_length(&handle, self.position(length, "ftruncate")?));
    throw(&env, outcome)
  }

  #[napi]
  pub fn datasync_sync(&self, env: Env) -> napi::Result<()> {
    throw(
      &env,
      self
        .handle("fdatasync")
        .and_then(|handle| io::datasync(&handle)),
    )
  }

  #[napi(ts_return_type = "Promise<void>")]
  pub fn datasync(&self, env: Env) -> napi::Result<AsyncTask<Blocking<()>>> {
    let handle = throw(&env, self.handle("fdatasync"))?;
    Ok(AsyncTask::new(Blocking::new(move || io::datasync(&handle))))
  }

  #[napi]
  pub fn fsync_sync(&self, env: Env) -> napi::Result<()> {
    throw(
      &env,
      self.handle("fsync").and_then(|handle| io::fsync(&handle)),
    )
  }

  #[napi(ts_return_type = "Promise<void>")]
  pub fn fsync(&self, env: Env) -> napi::Result<AsyncTask<Blocking<()>>> {
    let handle = throw(&env, self.handle("fsync"))?;
    Ok(AsyncTask::new(Blocking::new(move || io::fsync(&handle))))
  }

  #[napi]
  pub fn preallocate_sync(&self, env: Env, offset: f64, length: f64) -> napi::Result<bool> {
    let outcome = self.handle("fallocate").and_then(|handle| {
      let offset = self.position(offset, "fallocate")?;
      let length = self.position(length, "fallocate")?;
      io::preallocate(&handle, offset, length)
    });
    throw(&env, outcome)
  }

  #[napi(ts_args_type = "offset: number, length: number, advice: Advice")]
  pub fn advise_sync(
    &self,
    env: Env,
    offset: f64,
    length: f64,
    advice: String,
  ) -> napi::Result<()> {
    let outcome = self.handle("fadvise").and_then(|handle| {
      let offset = self.position(offset, "fadvise")?;
      let length = self.position(length, "fadvise")?;
      io::advise(&handle, offset, length, &advice)
    });
    throw(&env, outcome)
  }

  /// Read-only, zero-copy view of `[offset, offset + length)`; the mapping lives as
  /// long as the returned Buffer, independent of this file's `close()`.
  #[napi(ts_return_type = "Buffer")]
  pub fn map_sync<'env>(
    &self,
    env: &'env Env,
    offset: f64,
    length: f64,
  ) -> napi::Result<BufferSlice<'env>> {
    let outcome = self.handle("mmap").and_then(|handle| {
      let offset = self.position(offset, "mmap")?;
      let length = self.position(length, "mmap")?;
      map::map_range(&handle, offset, length)
    });
    let mapping = throw(env, outcome)?;
    let pointer = mapping.as_ptr() as *mut u8;
    let length = mapping.len();
    // Tell V8 what the Buffer pins so it collects (and unmaps) under pressure.
    env.adjust_external_memory(length as i64)?;
    // SAFETY: `pointer..pointer + length` stays mapped until the finalizer drops
    // `mapping`, which V8 calls once the Buffer is unreachable. The pages are
    // PROT_READ: writing through the Buffer faults (documented in the README).
    unsafe {
      BufferSlice::from_external(env, pointer, length, mapping, move |env, mapping| {
        drop(mapping);
        let _ = env.adjust_external_memory(-(length as i64));
      })
    }
  }

  #[napi]
  pub fn close_sync(&self, env: Env) -> napi::Result<()> {
    let handle = throw(&env, self.take_handle())?;
    match Arc::try_unwrap(handle) {
      Ok(handle) => throw(&env, io::close(handle)),
      // An async operation is still running on this fd: the fd is closed when it
      // finishes and drops the last reference.
      Err(_) => Ok(()),
    }
  }

  #[napi(ts_return_type = "Promise<void>")]
  pub fn close(&self, env: Env) -> napi::Result<AsyncTask<Blocking<()>>> {
    let handle = throw(&env, self.take_handle())?;
    Ok(AsyncTask::new(Blocking::new(
      move || match Arc::try_unwrap(handle) {
        Ok(handle) => io::close(handle),
        Err(_) => Ok(()),
      },
    )))
  }

  fn take_handle(&self) -> Outcome<Arc<Handle>> {
    let handle = self.handle.borrow_mut().take();
    handle.ok_or_else(|| closed("close", &self.path))
  }
}

#[napi]
pub fn sync_dir_sync(env: Env, path: String) -> napi::Result<()> {
  throw(&env, fs::sync_dir(&path))
}

#[napi(js_name = "syncDir", ts_return_type = "Promise<void>")]
pub fn sync_dir_async(path: String) -> AsyncTask<Blocking<()>> {
  AsyncTask::new(Blocking::new(move || fs::sync_dir(&path)))
}

#[napi]
pub fn rename_sync(env: Env, from: String, to: String) -> napi::Result<()> {
  throw(&env, fs::rename(&from, &to))
}

#[napi]
pub fn rename_durable_sync(env: Env, from: String, to: String) -> napi::Result<()> {
  throw(&env, fs::rename_durable(&from, &to))
}

#[napi(js_name = "renameDurable", ts_return_type = "Promise<void>")]
pub fn rename_durable_async(from: String, to: String) -> AsyncTask<Blocking<()>> {
  AsyncTask::new(Blocking::new(move || fs::rename_durable(&from, &to)))
}

#[napi]
pub fn remove_file_sync(env: Env, path: String) -> napi::Result<()> {
  throw(&env, fs::remove_file(&path))
}

#[napi]
pub fn create_dir_sync(env: Env, path: String, recursive: Option<bool>) -> napi::Result<()> {
  throw(&env, fs::create_dir(&path, recursive.unwrap_or(false)))
}

#[napi]
pub fn list_dir_sync(env: Env, path: String) -> napi::Result<Vec<String>> {
  throw(&env, fs::list_dir(&path))
}

#[napi]
pub fn stat_sync(env: Env, path: String) -> napi::Result<Option<StatResult>> {
  let stat = throw(&env, fs::stat(&path))?;
  Ok(stat.map(|stat| StatResult {
    size: stat.size as f64,
    is_file: stat.is_file,
    is_directory: stat.is_directory,
  }))
}

/// CRC-32C (Castagnoli); SSE4.2 / ARMv8 CRC instructions where the CPU has them.
/// `seed` is a previous result: `crc32c(b, crc32c(a)) === crc32c(a ++ b)`.
#[napi(js_name = "crc32c")]
pub fn crc32c(data: &[u8], seed: Option<u32>) -> u32 {
  ::crc32c::crc32c_append(seed.unwrap_or(0), data)
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

/// A zero-filled Buffer whose first byte sits at a multiple of `alignment` (a power
/// of two, default 4096): what O_DIRECT reads and writes need.
#[napi(ts_return_type = "Buffer")]
pub fn alloc_aligned<'env>(
  env: &'env Env,
  length: f64,
  alignment: Option<u32>,
) -> napi::Result<BufferSlice<'env>> {
  let alignment = alignment.unwrap_or(4096) as usize;
  let length = throw(env, to_u64(length, "alloc", None))?;
  let layout = usize::try_from(length)
    .ok()
    .and_then(|length| std::alloc::Layout::from_size_align(length.max(1), alignment).ok())
    .ok_or_else(|| error::invalid("alignment must be a power of two", "alloc", None));
  let layout = throw(env, layout)?;
  // SAFETY: `layout` has a non-zero size.
  let pointer = unsafe { std::alloc::alloc_zeroed(layout) };
  if pointer.is_null() {
    return throw(env, Err(error::map_error(libc::ENOMEM, "alloc", None)));
  }
  // SAFETY: the allocation lives until the finalizer frees it with the same layout.
  unsafe {
    BufferSlice::from_external(env, pointer, length as usize, layout, move |_, layout| {
      std::alloc::dealloc(pointer, layout)
    })
  }
}

/// Whether the first byte of `data` sits at a multiple of `alignment`.
#[napi]
pub fn is_aligned(data: &[u8], alignment: u32) -> bool {
  alignment != 0 && (data.as_ptr() as usize).is_multiple_of(alignment as usize)
}
