//! NSL-KDD: supervised random forest and isolation forest, binary normal vs attack.

use ward_ml::eval;
use ward_ml::model::TrainOptions;
use ward_ml::tabular::Table;

#[test]
fn nsl_kdd_holdout_accuracy_above_85_percent() {
    let Some(dir) = ward_testkit::shared("network/nsl_kdd") else { return };
    let table =
        Table::read(&dir.join("KDDTrain+_20Percent.txt"), Some(&dir.join("field_names.csv"))).unwrap();
    assert_eq!(table.rows.len(), 25_192);
    assert_eq!(table.columns.len(), 43, "41 features + label + difficulty");
    // CI-sized: train on 40% of the 20% split, validate on a disjoint 20%.
    let (rest, test) = eval::split_table(&table, 0.2, 1);
    let (_, train) = eval::split_table(&rest, 0.5, 2);
    let rows = eval::tabular("nsl_kdd", &train, &test, &TrainOptions::default()).unwrap();
    for r in &rows {
        eprintln!(
            "{} acc {:.4} f1 {:.4} fpr {:.4} ({} ms)",
            r.model, r.metrics.accuracy, r.metrics.f1, r.metrics.fpr, r.train_ms
        );
    }
    let forest = &rows[0];
    assert_eq!(forest.model, "tabular");
    assert!(forest.metrics.accuracy >= 0.85, "{:?}", forest.metrics);
    // The unsupervised forest learns only normal traffic; it must still beat chance clearly.
    assert!(rows[1].metrics.accuracy >= 0.7, "{:?}", rows[1].metrics);
}
