//! DGA classifier on the labelled domain set.

use ward_ml::dga::{self, DgaParams};
use ward_ml::eval;

#[test]
fn dga_holdout_accuracy() {
    let Some(path) = ward_testkit::shared("reference/threat_intel/dga_tisage/domains_features.csv.gz") else {
        return;
    };
    let data = dga::read_labelled(&path).unwrap();
    assert_eq!(data.len(), 91_599);
    // CI-sized: a 20k sample, 25% held out, 3 epochs.
    let sample: Vec<_> = data.iter().step_by(4).cloned().collect();
    let row =
        eval::dga("dga_tisage", &sample, 0.25, 5, DgaParams { epochs: 3, ..Default::default() }).unwrap();
    eprintln!("dga {:?}", row.metrics);
    assert!(row.metrics.accuracy >= 0.9, "{:?}", row.metrics);
}

#[test]
fn dga_scores_explain_with_ngrams() {
    let m =
        dga::DgaModel::train(&crate::toy_domains(), DgaParams { epochs: 30, ..Default::default() }).unwrap();
    let s = m.score("www.qxzjkvwpb.com");
    assert!(s.generated, "{s:?}");
    assert_eq!(s.label, "qxzjkvwpb");
    assert!(!s.top.is_empty());
    assert!(!m.score("mail.google.com").generated);
}
