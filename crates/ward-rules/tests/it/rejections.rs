//! Every malformed document is rejected with file, line, rule id and a precise reason.

use ward_rules::{Engine, ErrorKind, Rejection, RuleSet};

use crate::common::pipeline;

fn reject(yaml: &str) -> Rejection {
    let (set, rejections) = RuleSet::from_sources([("bad.yml", yaml)]);
    assert!(set.is_empty(), "should not load: {yaml}");
    assert_eq!(rejections.len(), 1, "{rejections:#?}");
    let r = rejections.into_iter().next().expect("one rejection");
    assert_eq!(r.file.to_str(), Some("bad.yml"));
    r
}

const HEAD: &str = "title: Bad\nid: 11111111-1111-1111-1111-111111111111\nlogsource:\n    product: windows\n    category: process_creation\n";

#[test]
fn unknown_modifier_names_it_and_its_line() {
    let r = reject(&format!(
        "{HEAD}detection:\n    selection:\n        CommandLine|contians: x\n    condition: selection\n"
    ));
    assert_eq!(r.kind, ErrorKind::UnknownModifier("contians".into()));
    assert_eq!(r.line, 8);
    assert_eq!(r.rule_id.as_deref(), Some("11111111-1111-1111-1111-111111111111"));
    assert_eq!(r.title.as_deref(), Some("Bad"));
    assert_eq!(
        r.to_string(),
        "bad.yml:8: rule 11111111-1111-1111-1111-111111111111: unknown modifier `contians`"
    );
}

#[test]
fn condition_errors() {
    let r = reject(&format!(
        "{HEAD}detection:\n    selection:\n        Image: x\n    condition: selection and filter\n"
    ));
    assert_eq!((r.kind, r.line), (ErrorKind::UnknownIdentifier("filter".into()), 9));
    let r = reject(&format!(
        "{HEAD}detection:\n    selection:\n        Image: x\n    condition: selection | count() by Image > 5\n"
    ));
    assert!(matches!(r.kind, ErrorKind::Aggregation(_)), "{r}");
    let r = reject(&format!(
        "{HEAD}detection:\n    selection:\n        Image: x\n    condition: 1 of filter_*\n"
    ));
    assert_eq!(r.kind, ErrorKind::EmptySelector("filter_*".into()));
    let r = reject(&format!("{HEAD}detection:\n    selection:\n        Image: x\n"));
    assert_eq!(r.kind, ErrorKind::Missing("condition"));
}

#[test]
fn yaml_errors_and_duplicate_keys() {
    let r = reject("title: x\ndetection: [unclosed\n");
    assert!(matches!(r.kind, ErrorKind::Yaml(_)), "{r}");
    assert!(r.line >= 2);
    let r = reject(&format!(
        "{HEAD}detection:\n    selection:\n        Image: x\n        Image: y\n    condition: selection\n"
    ));
    assert_eq!((r.kind, r.line), (ErrorKind::DuplicateKey { key: "Image".into(), first_line: 8 }, 9));
}

#[test]
fn invalid_values_and_modifier_combinations() {
    let cases = [
        ("CommandLine|re: '(unclosed'", "invalid regular expression"),
        ("DestinationIp|cidr: '10.0.0.0/33'", "modifier `cidr`"),
        ("DestinationPort|gt: abc", "not a number"),
        ("CommandLine|re|contains: x", "cannot be used with `re`"),
        ("CommandLine|base64: 'a*b'", "cannot encode a value with wildcards"),
        ("CommandLine|wide: 'abc'", "must be followed by `base64`"),
        ("CommandLine|i: 'abc'", "must follow it"),
        ("CommandLine|exists: maybe", "expects true or false"),
        ("CommandLine|contains|startswith: x", "only one of them"),
        ("CommandLine|cidr|re: x", "cannot be combined"),
        ("CommandLine: []", "empty list of values"),
        ("CommandLine:\n            a: b", "found a mapping"),
    ];
    for (item, reason) in cases {
        let r =
            reject(&format!("{HEAD}detection:\n    selection:\n        {item}\n    condition: selection\n"));
        assert!(r.kind.to_string().contains(reason), "{item}: {r}");
        assert_eq!(r.line, 8, "{item}");
    }
}

#[test]
fn metadata_errors() {
    let r = reject(
        "id: x\nlogsource:\n    product: windows\ndetection:\n    s:\n        a: b\n    condition: s\n",
    );
    assert_eq!(r.kind, ErrorKind::Missing("title"));
    let r = reject(
        "title: t\nlevel: severe\nlogsource:\n    product: windows\ndetection:\n    s:\n        a: b\n    condition: s\n",
    );
    assert!(r.to_string().contains("`severe` is not one of"), "{r}");
    assert_eq!(r.line, 2);
    let r = reject("title: t\ndetection:\n    s:\n        a: b\n    condition: s\n");
    assert_eq!(r.kind, ErrorKind::Missing("logsource"));
    let r = reject("- just\n- a list\n");
    assert!(r.to_string().contains("expected a mapping"), "{r}");
    let r = reject("title: t\nlogsource:\n    product: x\n");
    assert_eq!(r.kind, ErrorKind::Missing("detection"));
}

#[test]
fn duplicate_ids_keep_the_first() {
    let rule = |t: &str| {
        format!(
            "title: {t}\nid: dup\nlogsource:\n    product: windows\ndetection:\n    s:\n        a: b\n    condition: s\n"
        )
    };
    let (set, rejections) =
        RuleSet::from_sources([("a.yml", rule("A").as_str()), ("b.yml", rule("B").as_str())]);
    assert_eq!(set.rules()[0].meta.title, "A");
    assert_eq!(rejections[0].kind, ErrorKind::DuplicateId { id: "dup".into(), first: "a.yml:1".into() });
}

#[test]
fn compile_rejects_unroutable_rules() {
    let yaml = "title: t\nid: r1\nlogsource:\n    product: windows\n    category: file_access\ndetection:\n    s:\n        a: b\n    condition: s\n";
    let (set, rejections) = RuleSet::from_sources([("r.yml", yaml)]);
    assert!(rejections.is_empty());
    let (engine, rejections) = Engine::compile(&set, &pipeline());
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].kind, ErrorKind::NoRoute("product=windows category=file_access".into()));
    assert_eq!(rejections[0].rule_id.as_deref(), Some("r1"));
    assert_eq!(engine.stats().rules, 0);
}

#[test]
fn load_reports_missing_paths() {
    let (_, rejections) = RuleSet::load(&["/nonexistent/ward-rules"]);
    assert!(matches!(rejections[0].kind, ErrorKind::Io(_)));
}
