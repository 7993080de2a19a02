//! The stop signals — SIGINT (Ctrl-C), SIGTERM (what Kubernetes, Docker and CI send) and
//! SIGHUP (a closed terminal) — heard by one listener for the whole process, so every
//! place a command waits (the engine's run and drain, the CloudWatch wait, the emulator)
//! reads the same source. Each one is an interrupt: the run stops within `--grace` and
//! writes what it gathered (exit 130).
//!
//! Once listening, these signals no longer end the process by themselves: a command that
//! listens must watch [`Signals::next`] wherever it waits. A signal heard before a waiter
//! began counts for it too (a stop asked during the setup stops the run at its start).

use std::sync::OnceLock;

use tokio::sync::watch;

use crate::error::{Error, Result};

/// Which signal was heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    Hangup,
}

impl Signal {
    /// As a message says it.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }
}

/// How many stop signals the process has heard, and the last one.
type Heard = (u32, Option<Signal>);

/// The listener's channel, started once per process (or why it could not start).
static LISTENER: OnceLock<std::result::Result<watch::Receiver<Heard>, String>> = OnceLock::new();

/// One waiter's view of the stop signals: each call to [`Signals::next`] returns the next
/// signal this waiter has not seen, counting from the process's first.
pub struct Signals {
    heard: watch::Receiver<Heard>,
    seen: u32,
}

impl Signals {
    /// Starts the process's listener if not yet started (the handlers are in place when
    /// this returns), and a waiter that has seen none of the signals so far.
    pub fn listen() -> Result<Signals> {
        let listener = LISTENER.get_or_init(start_listener);
        match listener {
            Ok(rx) => Ok(Signals {
                heard: rx.clone(),
                seen: 0,
            }),
            Err(why) => Err(Error::internal(format!("cannot listen for signals: {why}"))),
        }
    }

    /// Resolves with the next signal this waiter has not seen (at once when one was heard
    /// before). Cancel-safe: a signal is seen only when this returns it.
    pub async fn next(&mut self) -> Signal {
        loop {
            let (count, last) = *self.heard.borrow_and_update();
            if count > self.seen {
                self.seen += 1;
                return last.unwrap_or(Signal::Interrupt);
            }
            if self.heard.changed().await.is_err() {
                // The listener is gone (it never ends on its own): no signal will come.
                std::future::pending::<()>().await;
            }
        }
    }

    /// How many stop signals the process has heard so far.
    pub fn heard(&self) -> u32 {
        self.heard.borrow().0
    }
}

/// A thread of its own with a runtime of its own: it outlives every command's runtime, so
/// no signal falls between two of them.
fn start_listener() -> std::result::Result<watch::Receiver<Heard>, String> {
    let (tx, rx) = watch::channel::<Heard>((0, None));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::result::Result<(), String>>();
    std::thread::Builder::new()
        .name("stampede-signals".into())
        .spawn(move || {
            use tokio::signal::unix::{signal, SignalKind};
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                let streams = (|| {
                    Ok::<_, std::io::Error>((
                        signal(SignalKind::interrupt())?,
                        signal(SignalKind::terminate())?,
                        signal(SignalKind::hangup())?,
                    ))
                })();
                let (mut int, mut term, mut hup) = match streams {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                loop {
                    let which = tokio::select! {
                        _ = int.recv() => Signal::Interrupt,
                        _ = term.recv() => Signal::Terminate,
                        _ = hup.recv() => Signal::Hangup,
                    };
                    tx.send_modify(|(count, last)| {
                        *count += 1;
                        *last = Some(which);
                    });
                }
            });
        })
        .map_err(|e| e.to_string())?;
    ready_rx
        .recv()
        .map_err(|_| "the listener did not start".to_string())??;
    Ok(rx)
}
