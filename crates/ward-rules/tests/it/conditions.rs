//! The condition grammar end to end: precedence, quantifiers, `them`, lists of conditions.

use crate::common::proc_fires;

const SEARCHES: &str = "    sel_a:\n        CommandLine|contains: 'aaa'\n    sel_b:\n        CommandLine|contains: 'bbb'\n    filter_c:\n        CommandLine|contains: 'ccc'\n    _hidden:\n        CommandLine|contains: 'zzz'\n";

fn check(condition: &str, cmd: &str) -> bool {
    proc_fires(&format!("{SEARCHES}    condition: {condition}"), &[("CommandLine", cmd)])
}

#[test]
fn boolean_operators_and_precedence() {
    assert!(check("sel_a and not filter_c", "aaa"));
    assert!(!check("sel_a and not filter_c", "aaa ccc"));
    assert!(check("sel_a or sel_b and filter_c", "aaa"), "and binds tighter than or");
    assert!(!check("(sel_a or sel_b) and filter_c", "aaa"));
    assert!(check("not not sel_a", "aaa"));
}

#[test]
fn quantifiers_over_patterns_and_them() {
    assert!(check("1 of sel_*", "bbb"));
    assert!(!check("all of sel_*", "bbb"));
    assert!(check("all of sel_*", "aaa bbb"));
    assert!(check("1 of them", "ccc"));
    assert!(!check("1 of them", "zzz"), "`them` skips identifiers starting with _");
    assert!(check("all of sel_* and not 1 of filter_*", "aaa bbb"));
    assert!(check("2 of them", "aaa ccc"));
    assert!(!check("2 of them", "aaa"));
    assert!(check("any of sel_*", "aaa"));
    assert!(check("_hidden", "zzz"), "hidden identifiers can still be named");
}

#[test]
fn a_list_of_conditions_is_an_or() {
    let d = format!("{SEARCHES}    condition:\n        - sel_a\n        - sel_b");
    assert!(proc_fires(&d, &[("CommandLine", "bbb")]));
    assert!(!proc_fires(&d, &[("CommandLine", "ccc")]));
}

#[test]
fn lists_of_maps_are_alternatives_and_maps_conjunctions() {
    let d = "    selection:\n        - Image|endswith: '\\certutil.exe'\n        - OriginalFileName: 'CertUtil.exe'\n    cli:\n        CommandLine|contains: 'urlcache'\n        CommandLine|contains|all:\n            - 'http'\n            - 'split'\n    condition: selection and cli";
    assert!(proc_fires(
        d,
        &[("OriginalFileName", "certutil.exe"), ("CommandLine", "-urlcache -split -f http://x")]
    ));
    assert!(!proc_fires(
        d,
        &[("OriginalFileName", "certutil.exe"), ("CommandLine", "-urlcache -f http://x")]
    ));
}
