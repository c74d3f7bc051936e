//! Path-level calls: directory sync, renames, removal, listing, stat.

use napi::bindgen_prelude::{AsyncTask, Env};
use napi_derive::napi;

use super::throw;
use crate::fs;
use crate::task::Blocking;

#[napi(object)]
pub struct StatResult {
  pub size: f64,
  pub is_file: bool,
  pub is_directory: bool,
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

/// Unlinks on the threadpool: removing a large file frees its cached pages and blocks,
/// which can take tens of milliseconds.
#[napi(js_name = "removeFile", ts_return_type = "Promise<void>")]
pub fn remove_file_async(path: String) -> AsyncTask<Blocking<()>> {
  AsyncTask::new(Blocking::new(move || fs::remove_file(&path)))
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
