//! A lock that survives a panic elsewhere: the interrupt handler and the scratch-file list must
//! work even after a thread panicked while holding them. A leaf module.

use std::sync::{Mutex, MutexGuard, PoisonError};

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
