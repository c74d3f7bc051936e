//! A JS value taken as it is, for conversions done by hand: each one call into N-API,
//! none of napi-rs's intermediate allocations (hot paths: one get, one batch of values).

use std::ffi::c_char;
use std::ptr;

use napi::bindgen_prelude::FromNapiValue;
use napi::sys;

/// Bytes of a string converted on the stack; longer strings take a heap buffer.
pub const STACK_KEY_BYTES: usize = 256;
/// UTF-8 never splits a character: a conversion that stops this close to the end of the
/// buffer may have been cut short, so the full length is asked for.
const UTF8_CHAR_BYTES_MAX: usize = 4;

/// A JS value and its env, as napi-rs hands them to a function.
pub struct RawValue {
  env: sys::napi_env,
  value: sys::napi_value,
}

impl FromNapiValue for RawValue {
  unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
    Ok(RawValue { env, value })
  }
}

impl RawValue {
  /// The UTF-8 bytes of a string into `stack`, or into `heap` when longer; None when
  /// it is not a string.
  pub fn utf8<'a>(
    &self,
    stack: &'a mut [u8; STACK_KEY_BYTES],
    heap: &'a mut Vec<u8>,
  ) -> Option<&'a [u8]> {
    let mut copied = 0usize;
    // SAFETY: `stack` is writable for its length; N-API writes at most length - 1 bytes and a NUL.
    let status = unsafe {
      sys::napi_get_value_string_utf8(
        self.env,
        self.value,
        stack.as_mut_ptr() as *mut c_char,
        STACK_KEY_BYTES,
        &mut copied,
      )
    };
    if status != sys::Status::napi_ok {
      return None;
    }
    if copied + UTF8_CHAR_BYTES_MAX < STACK_KEY_BYTES {
      return Some(&stack[..copied]);
    }
    let mut length = 0usize;
    // SAFETY: a null buffer asks only for the length.
    unsafe {
      sys::napi_get_value_string_utf8(self.env, self.value, ptr::null_mut(), 0, &mut length)
    };
    heap.resize(length + 1, 0);
    // SAFETY: `heap` is writable for length + 1 bytes.
    unsafe {
      sys::napi_get_value_string_utf8(
        self.env,
        self.value,
        heap.as_mut_ptr() as *mut c_char,
        length + 1,
        &mut copied,
      )
    };
    Some(&heap[..copied])
  }

  /// The value converted as napi-rs converts an argument of type `T`: for a conversion
  /// that only some paths need, or that should wait until other work has started.
  pub fn convert<T: FromNapiValue>(&self) -> napi::Result<T> {
    // SAFETY: the env and value are the live ones this call was handed.
    unsafe { T::from_napi_value(self.env, self.value) }
  }

  /// The bytes of element `index` when it is a Uint8Array (or Buffer), else None (a
  /// hole: that segment is not mapped).
  pub fn uint8_element(&self, index: u32) -> Option<&[u8]> {
    let mut element = ptr::null_mut();
    // SAFETY: plain N-API calls on live handles; a failure leaves no exception pending.
    unsafe {
      if sys::napi_get_element(self.env, self.value, index, &mut element) != sys::Status::napi_ok {
        return None;
      }
      let (mut kind, mut length, mut data, mut buffer, mut offset) =
        (0, 0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
      if sys::napi_get_typedarray_info(
        self.env,
        element,
        &mut kind,
        &mut length,
        &mut data,
        &mut buffer,
        &mut offset,
      ) != sys::Status::napi_ok
        || kind != sys::TypedarrayType::uint8_array
        || data.is_null()
      {
        return None;
      }
      // SAFETY: the array (and so the mapping behind it) is held by the caller's array for this call.
      Some(std::slice::from_raw_parts(data as *const u8, length))
    }
  }
}
