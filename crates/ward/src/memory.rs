//! Peak resident memory of this process, for benchmark and ingest reports.

/// Peak resident set size in bytes (`VmHWM` from `/proc/self/status`), when the OS tells.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
