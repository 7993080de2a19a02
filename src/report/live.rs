//! The live view: one status line on stderr while the run goes, when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::summary::ms;
use crate::engine::Snapshot;

pub struct LiveView {
    bar: ProgressBar,
    stage_names: Vec<String>,
}

impl LiveView {
    /// `None` when stderr is not a terminal (CI logs stay clean) or the user asked for quiet.
    pub fn start(stage_names: Vec<String>, quiet: bool) -> Option<LiveView> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}").expect("static template is valid"),
        );
        Some(LiveView { bar, stage_names })
    }

    pub fn update(&self, s: &Snapshot) {
        let stage = self.stage_names.get(s.stage).map_or("", String::as_str);
        let (sent, p99) = s
            .last_second
            .map_or((0, String::from("-")), |p| (p.sent, ms(p.p99_ms)));
        self.bar.set_message(format!(
            "{}{stage} · {:.0}s · {sent} sent/s · {} in flight · ok {} · throttled {} · errors {} · p99 {p99}",
            if s.stopping { "stopping: " } else { "" },
            s.elapsed.as_secs_f64(),
            s.in_flight,
            s.ok,
            s.throttled,
            s.errors,
        ));
        self.bar.tick();
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
