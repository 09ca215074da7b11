//! What the crate logs, captured for a test to count: every event of target `tower_jwt_auth`
//! at `info` or above, with its message and fields as text.
//!
//! `src/keys/remote/tests.rs` includes this file too, so it uses only tracing and
//! tracing-subscriber.

use std::fmt::Write;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// One event: its level, its message, its other fields (`name=value`, space-separated), and
/// when it was recorded.
#[derive(Clone, Debug)]
pub struct Line {
    pub level: Level,
    pub message: String,
    pub fields: String,
    pub at: std::time::Instant,
}

/// The lines logged so far; a [`Layer`] to install with [`Lines::subscriber`].
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<Line>>>);

impl Lines {
    /// A subscriber that records into these lines.
    pub fn subscriber(&self) -> impl Subscriber + Send + Sync + use<> {
        tracing_subscriber::registry().with(self.clone())
    }

    /// The lines at `level` whose message starts with `prefix`.
    pub fn matching(&self, level: Level, prefix: &str) -> Vec<Line> {
        self.matching_since(0, level, prefix)
    }

    /// How many lines are recorded so far: a mark for [`Lines::matching_since`].
    pub fn mark(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The lines at `level` whose message starts with `prefix`, recorded after `mark`.
    pub fn matching_since(&self, mark: usize, level: Level, prefix: &str) -> Vec<Line> {
        let lines = self.0.lock().unwrap();
        lines[mark..]
            .iter()
            .filter(|l| l.level == level && l.message.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// How many lines at `level` have a message starting with `prefix`.
    pub fn count(&self, level: Level, prefix: &str) -> usize {
        self.matching(level, prefix).len()
    }
}

struct Record<'a>(&'a mut Line);

impl Visit for Record<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.message = format!("{value:?}");
        } else {
            let _ = write!(self.0.fields, "{}={value:?} ", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target().starts_with("tower_jwt_auth") && *meta.level() <= Level::INFO {
            let mut line = Line {
                level: *meta.level(),
                message: String::new(),
                fields: String::new(),
                at: std::time::Instant::now(),
            };
            event.record(&mut Record(&mut line));
            self.0.lock().unwrap().push(line);
        }
    }
}
