//! Captures every log line of this test binary, at every level, so tests
//! can assert what must never be logged.

use std::io::Write;
use std::sync::{Mutex, Once, OnceLock, PoisonError};

static LINES: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // A test that panicked holding the lock must not make every later log line panic.
        LINES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber (once per test binary).
pub fn capture() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| Capture)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
}

/// Panics if `needle` appears in any captured line; also checks something was captured.
pub fn assert_absent(needle: &str) {
    let lines = LINES.get_or_init(Default::default).lock().expect("lock");
    let text = String::from_utf8_lossy(&lines);
    assert!(text.lines().count() > 10, "the capture saw almost nothing: {text}");
    let hits: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
    assert!(hits.is_empty(), "{needle:?} appears in {} log lines, e.g. {:?}", hits.len(), hits.first());
}

/// Panics if `needle` appears in any captured line, or if `witness` (a line
/// the test itself caused) does not: the capture saw the test's own lines.
pub fn assert_absent_where(needle: &str, witness: &str) {
    let lines = LINES.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
    let text = String::from_utf8_lossy(&lines);
    assert!(text.contains(witness), "the capture has no line with {witness:?}");
    let hits: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
    assert!(hits.is_empty(), "{needle:?} appears in {} log lines, e.g. {:?}", hits.len(), hits.first());
}
