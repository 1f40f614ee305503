//! `crate::Error` -> a JavaScript `Error` with `code` = `ErrorCode::as_str()`.
//!
//! napi-rs rejects the Promise of an `async fn` with an `Error<Status>`, whose `code` can only
//! be a napi `Status` name (`GenericFailure`, ...): a custom code string (`Error<String>`) is
//! honoured by synchronous functions only. So async methods here return `JsResult<T>`, a value
//! whose conversion to JavaScript runs on the JS thread: on `Err` it builds the JS error there
//! (`napi_create_error(code, message)`, which sets `error.code`) and hands it back as the
//! rejection reason (napi-rs rejects with a referenced JS value verbatim).

use napi::bindgen_prelude::{JsError, ToNapiValue, TypeName, Unknown};
use napi::{sys, Status};

use crate::error::{Error, ErrorCode};

/// The outcome of an async method: resolves with `T` or rejects with a coded `Error`.
pub struct JsResult<T>(pub Result<T, Error>);

impl<T> From<Result<T, Error>> for JsResult<T> {
    fn from(r: Result<T, Error>) -> Self {
        JsResult(r)
    }
}

/// A napi `Error` whose `code` is the core's error code (for synchronous functions).
pub fn to_napi(e: Error) -> napi::Error<String> {
    napi::Error::new(e.code.as_str().to_string(), e.message)
}

pub fn config_error(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidConfig, message)
}

impl<T: ToNapiValue> ToNapiValue for JsResult<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val.0 {
            Ok(v) => unsafe { T::to_napi_value(env, v) },
            Err(e) => {
                let js = unsafe { JsError::from(to_napi(e)).into_value(env) };
                if js.is_null() {
                    return Err(napi::Error::new(Status::GenericFailure, "failed to create a JavaScript error"));
                }
                // A referenced JS value: the promise is rejected with exactly this object.
                Err(napi::Error::from(unsafe { Unknown::from_raw_unchecked(env, js) }))
            }
        }
    }
}

impl<T: TypeName> TypeName for JsResult<T> {
    fn type_name() -> &'static str {
        T::type_name()
    }
    fn value_type() -> napi::ValueType {
        T::value_type()
    }
}
