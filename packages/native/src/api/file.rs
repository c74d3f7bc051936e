//! `NativeFile`: the JS class around an open descriptor, with a sync and an async twin
//! for every call that can block.

use std::cell::RefCell;
use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, BufferSlice, Env, Uint8Array, Uint8ArraySlice};
use napi_derive::napi;

use super::throw;
use crate::copy;
use crate::error::{closed, Outcome};
use crate::io::{self, to_u64, Handle};
use crate::map;
use crate::open;
use crate::task::Blocking;

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

/// How many bytes of a `copyRangeFrom` each method moved.
#[napi(object)]
pub struct CopiedBytes {
  /// Shared with the source by FICLONERANGE (copy-on-write; nothing read or written).
  pub reflink: f64,
  /// Copied by copy_file_range(2) inside the kernel.
  pub copy_file_range: f64,
  /// Copied through a buffer with pread/pwrite.
  pub read_write: f64,
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

  pub(crate) fn handle(&self, syscall: &'static str) -> Outcome<Arc<Handle>> {
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

  /// pwrite of all of `data`, then fdatasync, in one crossing: what a synchronous flush of
  /// one buffer does, for the price of one call instead of two. A failed write syncs
  /// nothing; a failed fdatasync is not retried (see `io::datasync`).
  #[napi]
  pub fn write_datasync_sync(&self, env: Env, data: &[u8], position: f64) -> napi::Result<f64> {
    let outcome = self.handle("pwrite").and_then(|handle| {
      let position = self.position(position, "pwrite")?;
      let count = io::write_all(&handle, data, position)?;
      io::datasync(&handle)?;
      Ok(count)
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

  /// Copies `length` bytes at `sourcePosition` of `source` to `position` of this file,
  /// in the kernel where it can (reflink, then copy_file_range, then pread/pwrite). The
  /// counts add up to less than `length` only where the source ends.
  #[napi(ts_return_type = "Promise<CopiedBytes>")]
  pub fn copy_range_from(
    &self,
    env: Env,
    source: &NativeFile,
    source_position: f64,
    length: f64,
    position: f64,
  ) -> napi::Result<AsyncTask<Blocking<CopiedBytes>>> {
    let prepared = self
      .prepare("copy_file_range", position)
      .and_then(|(target, position)| {
        let from = source.handle("copy_file_range")?;
        let source_position = source.position(source_position, "copy_file_range")?;
        let length = self.position(length, "copy_file_range")?;
        Ok((from, source_position, target, position, length))
      });
    let (from, source_position, target, position, length) = throw(&env, prepared)?;
    Ok(AsyncTask::new(Blocking::new(move || {
      let copied = copy::copy_range(&from, source_position, &target, position, length)?;
      Ok(CopiedBytes {
        reflink: copied.reflink as f64,
        copy_file_range: copied.copy_file_range as f64,
        read_write: copied.read_write as f64,
      })
    })))
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
