//! The process's open-files limit: each connection holds a descriptor.

/// The limit after trying to raise it.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenFiles {
    pub soft: u64,
    pub hard: u64,
    /// Why raising the soft limit to the hard one failed, when it did.
    pub raise_failed: Option<String>,
}

/// Reads the limit without changing it.
pub fn current() -> OpenFiles {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return OpenFiles {
            soft: u64::MAX,
            hard: u64::MAX,
            raise_failed: Some(std::io::Error::last_os_error().to_string()),
        };
    }
    OpenFiles {
        soft: lim.rlim_cur,
        hard: lim.rlim_max,
        raise_failed: None,
    }
}

/// Lifts the soft limit to the hard one (bursts and high rates need a descriptor per
/// connection), and says what it is now.
pub fn raise_to_hard() -> OpenFiles {
    let mut now = current();
    if now.raise_failed.is_some() || now.soft >= now.hard {
        return now;
    }
    let lim = libc::rlimit {
        rlim_cur: now.hard as libc::rlim_t,
        rlim_max: now.hard as libc::rlim_t,
    };
    // SAFETY: setrlimit only reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
        now.soft = now.hard;
    } else {
        now.raise_failed = Some(std::io::Error::last_os_error().to_string());
    }
    now
}
