//! The time the clock scheduler sees. Production runs on the system clock. A test deployment
//! (`deployment = "test"`) may name `clocks.test_time_file`: a file holding an offset in
//! milliseconds that is added to the system clock, so whole-system tests move every service's
//! scheduler days ahead at once — warnings, breaches and silence-as-acceptance fire in the real
//! processes without waiting. The offset only moves the scheduler's "now"; recorded instants
//! (events, rows) stay on the system clock. Any other deployment refuses to start with the key.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a read offset is trusted before the file is read again.
const OFFSET_TTL: Duration = Duration::from_millis(100);

/// Where the scheduler's "now" comes from.
#[derive(Clone, Debug, Default)]
pub struct TimeSource {
    offset: Option<Arc<OffsetFile>>,
}

#[derive(Debug)]
struct OffsetFile {
    path: PathBuf,
    cached: Mutex<Option<(Instant, i64)>>,
}

impl TimeSource {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system clock plus the offset in `path` (test deployments only).
    pub fn shifted_by_file(path: PathBuf) -> Self {
        Self { offset: Some(Arc::new(OffsetFile { path, cached: Mutex::new(None) })) }
    }

    /// Whether this source is shifted by a test offset.
    pub fn is_shifted(&self) -> bool {
        self.offset.is_some()
    }

    /// Milliseconds since the Unix epoch as the scheduler sees them.
    pub fn now_ms(&self) -> i64 {
        crate::now_ms() + self.offset_ms()
    }

    fn offset_ms(&self) -> i64 {
        let Some(file) = &self.offset else { return 0 };
        let mut cached = file.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((read_at, offset)) = *cached {
            if read_at.elapsed() < OFFSET_TTL {
                return offset;
            }
        }
        // A missing or empty file is no offset; garbage is no offset too, and said so.
        let offset = match std::fs::read_to_string(&file.path) {
            Ok(text) if text.trim().is_empty() => 0,
            Ok(text) => text.trim().parse().unwrap_or_else(|_| {
                tracing::warn!(path = %file.path.display(), "test time file does not hold milliseconds; no offset");
                0
            }),
            Err(_) => 0,
        };
        *cached = Some((Instant::now(), offset));
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_file_shifts_now_and_is_reread() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("offset");
        let time = TimeSource::shifted_by_file(path.clone());
        let before = crate::now_ms();
        assert!(time.now_ms() - before < 1_000, "no file, no offset");
        std::fs::write(&path, "86400000").expect("write");
        std::thread::sleep(OFFSET_TTL + Duration::from_millis(20));
        let shifted = time.now_ms() - crate::now_ms();
        assert!((86_399_000..=86_400_000).contains(&shifted), "shifted by a day, got {shifted}");
        assert!(!TimeSource::system().is_shifted());
    }
}
