//! A process's CPU time and memory, read from `/proc` (Linux).

use std::time::{Duration, Instant};

/// CPU time used so far, and when it was read.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    cpu: Duration,
    at: Instant,
}

/// User plus system CPU time of `pid` ("self" for this process).
pub fn cpu(pid: &str) -> anyhow::Result<CpuMark> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces; the fields after it are fixed.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(CpuMark { cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second()), at: Instant::now() })
}

/// Percent of one core used between two marks.
pub fn percent(from: CpuMark, to: CpuMark) -> f64 {
    let wall = to.at.duration_since(from.at).as_secs_f64().max(1e-9);
    to.cpu.saturating_sub(from.cpu).as_secs_f64() / wall * 100.0
}

/// CPU seconds between two marks.
pub fn seconds(from: CpuMark, to: CpuMark) -> f64 {
    to.cpu.saturating_sub(from.cpu).as_secs_f64()
}

/// Resident memory now and at its peak, in MiB.
pub fn memory(pid: &str) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = |key: &str| -> f64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key)?.trim().strip_suffix("kB")?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    Ok((kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0))
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}
