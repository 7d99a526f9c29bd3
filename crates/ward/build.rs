//! Compiles the default rule pack (`rules/`, without its `examples/`) and the demo events
//! (`testdata/demo/`) into the binary, so `ward serve` and `ward demo` work from any directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..").canonicalize().expect("the workspace root exists");
    let rules_dir = root.join("rules");
    let demo_dir = root.join("testdata/demo");
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    println!("cargo:rerun-if-changed={}", demo_dir.display());

    let mut rules = Vec::new();
    collect_rules(&rules_dir, &mut rules);
    rules.sort();
    let mut out = String::from(
        "/// The default rule pack: (path under `rules/`, YAML text), sorted by path.\n\
         pub const RULES: &[(&str, &str)] = &[\n",
    );
    for path in &rules {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path.strip_prefix(&rules_dir).expect("under rules/").to_string_lossy().replace('\\', "/");
        writeln!(out, "    ({rel:?}, include_str!({:?})),", path.display().to_string())
            .expect("string write");
    }
    out.push_str("];\n\n");

    // (decoder, file name): real recorded events, replayed by `ward demo` through signed ingest.
    let demo =
        [("cowrie", "honeypot-cowrie.json"), ("suricata", "ids-suricata-eve.json"), ("syslog", "auth.log")];
    out.push_str(
        "/// Demo inputs: (decoder, file name, text) from `testdata/demo/`.\n\
         pub const DEMO: &[(&str, &str, &str)] = &[\n",
    );
    for (source, name) in demo {
        let path = demo_dir.join(name).canonicalize().expect("demo file exists");
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(out, "    ({source:?}, {name:?}, include_str!({:?})),", path.display().to_string())
            .expect("string write");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin.rs");
    fs::write(dest, out).expect("writing builtin.rs");
}

fn collect_rules(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "examples") {
                collect_rules(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}
