//! How a function's memory sets its times. Lambda gives a function CPU in proportion to
//! its memory: 1,769 MB buys one vCPU. A handler's time is a wait part (I/O: `duration`,
//! which memory does not speed up) and a CPU part (`cpu_time`, as measured at 1,769 MB)
//! that takes 1769 / memory times as long below one vCPU. Above it the function gets more
//! vCPUs, which a single-threaded handler cannot use: its CPU part stays as at 1,769 MB.
//! Init is split the same way (`cold_start` and `init_cpu_time`). Pure.

use std::time::Duration;

/// The memory that buys one full vCPU, in MB.
pub const ONE_VCPU_MB: u64 = 1769;

/// The CPU part at `memory_mb` of work that takes `at_one_vcpu` at 1,769 MB.
pub fn cpu_part(at_one_vcpu: Duration, memory_mb: u64) -> Duration {
    if memory_mb >= ONE_VCPU_MB || at_one_vcpu.is_zero() {
        return at_one_vcpu;
    }
    at_one_vcpu.mul_f64(ONE_VCPU_MB as f64 / memory_mb.max(1) as f64)
}

/// A phase's time at `memory_mb`: its wait part as it is, its CPU part scaled.
pub fn phase_time(wait: Duration, cpu_at_one_vcpu: Duration, memory_mb: u64) -> Duration {
    wait + cpu_part(cpu_at_one_vcpu, memory_mb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: f64) -> Duration {
        Duration::from_secs_f64(n / 1000.0)
    }

    fn close(a: Duration, b: Duration) -> bool {
        a.abs_diff(b) < Duration::from_micros(1)
    }

    #[test]
    fn the_cpu_part_scales_below_one_vcpu_only() {
        let (wait, cpu) = (ms(20.0), ms(80.0));
        assert_eq!(phase_time(wait, cpu, 1769), ms(100.0));
        let at_512 = ms(20.0 + 80.0 * 1769.0 / 512.0);
        assert!(close(phase_time(wait, cpu, 512), at_512), "{at_512:?}");
        assert!(close(
            phase_time(wait, cpu, 1024),
            ms(20.0 + 80.0 * 1769.0 / 1024.0)
        ));
        assert!(close(
            phase_time(wait, cpu, 128),
            ms(20.0 + 80.0 * 1769.0 / 128.0)
        ));
        // More vCPUs do not speed one thread.
        assert_eq!(phase_time(wait, cpu, 3008), ms(100.0));
        assert_eq!(phase_time(wait, cpu, 10240), ms(100.0));
        // No CPU part: memory changes nothing (every scenario before the model).
        assert_eq!(phase_time(wait, Duration::ZERO, 128), wait);
    }
}
