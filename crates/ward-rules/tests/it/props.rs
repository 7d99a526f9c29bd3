//! The compiled evaluator agrees with the reference evaluator on random rules and events: random
//! fields, values with wildcards, escapes and dashes, every modifier family, random conditions.

use proptest::prelude::*;
use ward_model::{Event, FieldValue};
use ward_rules::{Engine, ReferenceEngine, RuleSet, Scratch};

use crate::common::{pipeline, proc};

const FIELDS: [&str; 4] = ["CommandLine", "Image", "User", "Count"];

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![Just('a'), Just('B'), Just('-'), Just('/'), Just('\\'), Just(' '), Just('é'), Just('–')],
        0..6,
    )
    .prop_map(|c| c.into_iter().collect())
}

fn pattern() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("-"),
            Just("/"),
            Just("*"),
            Just("?"),
            Just("\\"),
            Just("\\*"),
            Just("ab"),
            Just(" "),
            Just("É")
        ],
        1..5,
    )
    .prop_map(|p| p.concat())
}

/// One `field|mods: values` line.
fn item() -> impl Strategy<Value = String> {
    let mods = prop_oneof![
        Just(""),
        Just("|contains"),
        Just("|startswith"),
        Just("|endswith"),
        Just("|contains|all"),
        Just("|windash|contains"),
        Just("|contains|cased"),
        Just("|neq"),
        Just("|endswith|windash"),
    ];
    let field = prop_oneof![Just("CommandLine"), Just("Image"), Just("User")];
    prop_oneof![
        6 => (field.clone(), mods, proptest::collection::vec(pattern(), 1..4)).prop_map(|(f, m, vs)| {
            let vals: Vec<String> = vs.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect();
            format!("{f}{m}: [{}]", vals.join(", "))
        }),
        1 => (field.clone(), any::<bool>()).prop_map(|(f, b)| format!("{f}|exists: {b}")),
        1 => field.clone().prop_map(|f| format!("{f}: null")),
        1 => (field.clone(), prop_oneof![Just("a.b"), Just("^a"), Just("b$"), Just("[-/]a")], any::<bool>())
            .prop_map(|(f, r, i)| format!("{f}|re{}: '{r}'", if i { "|i" } else { "" })),
        1 => (prop_oneof![Just("gt"), Just("gte"), Just("lt"), Just("lte")], 0..5i32).prop_map(|(op, n)| format!("Count|{op}: {n}")),
        1 => (field.clone(), field).prop_map(|(a, b)| format!("{a}|fieldref: {b}")),
        1 => pattern().prop_map(|p| format!("'|contains': '{p}'")),
    ]
}

fn search() -> impl Strategy<Value = String> {
    proptest::collection::vec(item(), 1..3).prop_map(|items| {
        let mut seen = std::collections::HashSet::new();
        let items: Vec<String> =
            items.into_iter().filter(|i| seen.insert(i.split(':').next().unwrap_or("").to_owned())).collect();
        items.iter().map(|i| format!("        {i}\n")).collect()
    })
}

fn condition(n: usize) -> impl Strategy<Value = String> {
    let leaf = (0..n).prop_map(|i| format!("s{i}"));
    let leaf = prop_oneof![4 => leaf, 1 => Just("1 of s*".to_owned()), 1 => Just("all of s*".to_owned())];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not {a}")),
        ]
    })
}

fn rule() -> impl Strategy<Value = String> {
    (1usize..4).prop_flat_map(|n| {
        (proptest::collection::vec(search(), n), condition(n)).prop_map(|(searches, cond)| {
            let body: String = searches.iter().enumerate().map(|(i, s)| format!("    s{i}:\n{s}")).collect();
            crate::common::proc_rule(&format!("{body}    condition: {cond}"))
        })
    })
}

fn event() -> impl Strategy<Value = Event> {
    (
        proptest::collection::vec(proptest::option::of(text()), 3),
        proptest::option::of(prop_oneof![
            (0i64..5).prop_map(FieldValue::Int),
            text().prop_map(FieldValue::from)
        ]),
        proptest::option::of(proptest::collection::vec(text(), 0..3)),
    )
        .prop_map(|(texts, count, list)| {
            let mut ev = proc(&[]);
            for (name, value) in FIELDS.iter().zip(texts) {
                if let Some(v) = value {
                    ev.set(&format!("winlog.event_data.{name}"), v);
                }
            }
            if let Some(c) = count {
                ev.set("winlog.event_data.Count", c);
            }
            if let Some(items) = list {
                ev.set(
                    "winlog.event_data.User",
                    FieldValue::List(items.into_iter().map(FieldValue::from).collect()),
                );
            }
            ev
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn compiled_agrees_with_reference(rules in proptest::collection::vec(rule(), 1..4), events in proptest::collection::vec(event(), 1..6)) {
        let sources: Vec<(String, String)> = rules.into_iter().enumerate().map(|(i, r)| (format!("r{i}.yml"), r.replace("id: 00000000-0000-0000-0000-000000000001", &format!("id: r{i}")))).collect();
        let (set, _) = RuleSet::from_sources(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())));
        prop_assume!(!set.is_empty());
        let pipeline = pipeline();
        let (reference, _) = ReferenceEngine::new(&set, &pipeline);
        let (engine, _) = Engine::compile(&set, &pipeline);
        let mut scratch = Scratch::default();
        for ev in &events {
            let expected = reference.matching_rules(ev);
            let got = engine.matching_rules(ev, &mut scratch);
            prop_assert_eq!(got, expected, "rules: {:#?}\nevent: {:?}", sources, ev.fields());
        }
    }
}
