//! The pipelines shipped with Ward, compiled into the binary so they need no file at run time.

/// `(name, YAML text)` of every shipped pipeline, in merge order.
pub const BUILTIN: [(&str, &str); 6] = [
    ("sysmon", include_str!("../../pipelines/sysmon.yml")),
    ("windows", include_str!("../../pipelines/windows.yml")),
    ("linux", include_str!("../../pipelines/linux.yml")),
    ("network", include_str!("../../pipelines/network.yml")),
    ("proxy", include_str!("../../pipelines/proxy.yml")),
    ("honeypot", include_str!("../../pipelines/honeypot.yml")),
];
