//! Escapes, wildcards and value normalisation: the points of SIGMA-NOTES where peer engines fail.

use crate::common::{fires, proc_fires, win};

#[test]
fn contains_value_ending_in_an_escaped_backslash() {
    // proc_creation_win_certutil_ntlm_coercion: `' \\\\'` is the UNC prefix `\\`
    let d = "    selection:\n        CommandLine|contains|all:\n            - ' -syncwithWU '\n            - ' \\\\\\\\'\n    condition: selection";
    assert!(proc_fires(d, &[("CommandLine", "certutil.exe -syncwithWU  \\\\10.0.0.1\\share")]));
    assert!(
        !proc_fires(d, &[("CommandLine", "certutil.exe -syncwithWU  \\10.0.0.1")]),
        "one backslash is not two"
    );
    let d = "    selection:\n        FileName|startswith: '\\\\'\n    condition: selection";
    assert!(proc_fires(d, &[("FileName", "\\x")]), "`\\\\` alone is one backslash");
}

#[test]
fn wildcards_inside_contains_values() {
    let d = "    selection:\n        CommandLine|contains: 'ipconfig*|*find'\n    condition: selection";
    assert!(proc_fires(d, &[("CommandLine", "cmd /c ipconfig /all | find \"IPv4\"")]));
    assert!(!proc_fires(d, &[("CommandLine", "cmd /c find x | ipconfig")]));
    let d = "    selection:\n        Image: 'C:\\Windows\\System32\\rundll3?.exe'\n    condition: selection";
    assert!(proc_fires(d, &[("Image", "C:\\Windows\\System32\\rundll32.exe")]));
    assert!(!proc_fires(d, &[("Image", "C:\\Windows\\System32\\rundll3.exe")]));
}

#[test]
fn escaped_backslashes_in_the_middle_and_literal_wildcards() {
    let d = "    selection:\n        CommandLine|contains: '\\\\\\\\127.0.0.1\\\\'\n    condition: selection";
    assert!(proc_fires(d, &[("CommandLine", "cmd /c dir \\\\127.0.0.1\\c$")]));
    let d = "    selection:\n        CommandLine|contains: ' -Filter \\*'\n    condition: selection";
    assert!(proc_fires(d, &[("CommandLine", "Get-ADUser -Filter * -Properties x")]));
    assert!(!proc_fires(d, &[("CommandLine", "Get-ADUser -Filter x")]), "`\\*` is a literal star");
    let d = "    selection:\n        CommandLine|contains: 'a\\\\*b'\n    condition: selection";
    assert!(proc_fires(d, &[("CommandLine", "a\\XYZb")]), "`\\\\*` is a backslash then a wildcard");
    let d = "    selection:\n        CommandLine|contains: 'C:\\Users\\Public\\'\n    condition: selection";
    assert!(
        proc_fires(d, &[("CommandLine", "copy x c:\\users\\public\\y")]),
        "a single backslash before a letter stays"
    );
}

#[test]
fn values_are_matched_as_logged_without_trimming() {
    let rule = "title: t\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID: 4624\n        LogonProcessName: 'NtLmSsp '\n    condition: selection\n";
    assert!(fires(rule, &win("Security", 4624, &[("LogonProcessName", "NtLmSsp ")])));
    assert!(!fires(rule, &win("Security", 4624, &[("LogonProcessName", "NtLmSsp")])), "no trimming");
}

#[test]
fn unicode_values_fold_case() {
    let d = "    selection:\n        CommandLine|contains: 'ÄRGER'\n    condition: selection";
    assert!(proc_fires(d, &[("CommandLine", "x ärger y")]));
}
