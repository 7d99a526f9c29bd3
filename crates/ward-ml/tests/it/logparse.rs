//! Template mining against the loghub 2k oracle, and properties of the miner.

use proptest::prelude::*;
use ward_ml::drain::{Change, DrainConfig, TemplateMiner, WILDCARD};
use ward_ml::logparse;

#[test]
fn loghub_grouping_accuracy_beats_published_drain() {
    let Some(dir) = ward_testkit::shared("logs/loghub_2k") else { return };
    let results = logparse::evaluate_dir(&dir).unwrap();
    assert_eq!(results.len(), 16);
    let avg = results.iter().map(|r| r.grouping_accuracy).sum::<f64>() / 16.0;
    for r in &results {
        eprintln!(
            "{:12} {:.3} ({} templates, {} oracle events)",
            r.dataset, r.grouping_accuracy, r.templates, r.oracle_events
        );
    }
    assert!(avg >= 0.90, "average grouping accuracy {avg:.4} (published Drain: 0.865)");
    assert!(results.iter().all(|r| r.grouping_accuracy >= 0.8), "{results:?}");
}

fn line() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof!["[a-z]{1,6}", "[0-9]{1,5}", "[A-Z][a-z]{0,4}:"], 0..12)
        .prop_map(|t| t.join(" "))
}

proptest! {
    #[test]
    fn params_fill_the_template_back_to_the_line(lines in proptest::collection::vec(line(), 1..40)) {
        let mut m = TemplateMiner::new(DrainConfig::default()).unwrap();
        for l in &lines {
            let p = m.add(l);
            let tokens = m.tokenize(l);
            let tpl: Vec<&str> = p.template.split_whitespace().collect();
            prop_assert_eq!(tpl.len(), tokens.len());
            let mut params = p.params.iter();
            for (t, tok) in tpl.iter().zip(&tokens) {
                if *t == WILDCARD {
                    prop_assert_eq!(Some(tok), params.next());
                } else {
                    prop_assert_eq!(*t, tok.as_str());
                }
            }
            prop_assert!(params.next().is_none());
            // The same line again matches its template unchanged.
            let again = m.add(l);
            prop_assert_eq!(again.template_id, p.template_id);
            prop_assert_eq!(again.change, Change::Unchanged);
        }
    }

    #[test]
    fn a_saved_store_continues_like_the_original(first in proptest::collection::vec(line(), 1..30), then in proptest::collection::vec(line(), 1..30)) {
        let mut a = TemplateMiner::new(DrainConfig::default()).unwrap();
        for l in &first { a.add(l); }
        let mut b = TemplateMiner::from_json(&a.to_json().unwrap(), std::path::Path::new("mem")).unwrap();
        prop_assert_eq!(a.templates(), b.templates());
        for l in &then {
            prop_assert_eq!(a.add(l), b.add(l));
        }
    }
}

#[test]
fn template_store_round_trips_through_a_file() {
    let dir = crate::tmp();
    let mut m = TemplateMiner::new(logparse::preset("HDFS")).unwrap();
    m.add("Receiving block blk_1 src: /10.0.0.1:1 dest: /10.0.0.2:2");
    let path = dir.path().join("templates.json");
    m.save(&path).unwrap();
    let loaded = TemplateMiner::load(&path).unwrap();
    assert_eq!(loaded.templates(), m.templates());
    assert_eq!(
        loaded.match_line("Receiving block blk_9 src: /10.0.0.7:1 dest: /10.0.0.8:2").unwrap().template_id,
        1
    );
    std::fs::write(&path, "{\"format\":1}").unwrap();
    assert!(TemplateMiner::load(&path).unwrap_err().to_string().contains("templates.json"));
}
