//! A precise sleep for the pacer: a timerfd (nanosecond hrtimer) registered with the lane's
//! reactor. tokio's own timer ticks each millisecond and may fire a tick late, which would
//! make sends late; spinning instead would burn a core at moderate rates.
//!
//! timerfd is Linux's (and Android's). Elsewhere `PreciseTimer::new` says `Unsupported` and
//! the lane paces with tokio's timer, as it does when a timerfd cannot be made.

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub use elsewhere::PreciseTimer;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use linux::PreciseTimer;

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod elsewhere {
    use std::io;
    use std::time::Instant;

    /// Never made: there is no timerfd here.
    pub enum PreciseTimer {}

    impl PreciseTimer {
        pub fn new() -> io::Result<PreciseTimer> {
            Err(io::ErrorKind::Unsupported.into())
        }

        pub async fn sleep_until(&self, _due: Instant) -> io::Result<()> {
            match *self {}
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod linux {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::{Duration, Instant};

    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    pub struct PreciseTimer {
        fd: AsyncFd<OwnedFd>,
    }

    impl PreciseTimer {
        pub fn new() -> io::Result<PreciseTimer> {
            // SAFETY: timerfd_create returns a new descriptor we own, or -1.
            let raw = unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            };
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `raw` is a valid descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: the AsyncFd owns the descriptor, so it stays open until deregistered.
            let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? };
            Ok(PreciseTimer { fd })
        }

        /// Waits until `due`. One sleeper at a time (the lane's pacer).
        pub async fn sleep_until(&self, due: Instant) -> io::Result<()> {
            let wait = due.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return Ok(());
            }
            self.arm(wait)?;
            loop {
                let mut ready = self.fd.readable().await?;
                let mut expirations = [0u8; 8];
                // SAFETY: reading 8 bytes into an 8-byte buffer from our own descriptor.
                let n = unsafe {
                    libc::read(
                        self.fd.as_raw_fd(),
                        expirations.as_mut_ptr().cast(),
                        expirations.len(),
                    )
                };
                if n == 8 {
                    return Ok(());
                }
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::WouldBlock {
                    return Err(err);
                }
                ready.clear_ready();
            }
        }

        fn arm(&self, after: Duration) -> io::Result<()> {
            let spec = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: after.as_secs() as libc::time_t,
                    tv_nsec: after.subsec_nanos() as libc::c_long,
                },
            };
            // SAFETY: a valid timerfd and a fully initialised itimerspec.
            let rc = unsafe {
                libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut())
            };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
    }
}

#[cfg(test)]
#[cfg(any(target_os = "linux", target_os = "android"))]
mod tests {
    use std::time::{Duration, Instant};

    use super::PreciseTimer;

    #[test]
    fn wakes_at_the_instant_not_before() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let timer = PreciseTimer::new().unwrap();
            for micros in [0u64, 300, 2_500, 10_000] {
                let due = Instant::now() + Duration::from_micros(micros);
                timer.sleep_until(due).await.unwrap();
                assert!(Instant::now() >= due);
            }
        });
    }
}
