//! Property tests shared by every decoder: arbitrary input never panics, every bad record is
//! reported with a position inside the input, and decoding is deterministic.

use proptest::prelude::*;
use ward_decode::SourceKind;

use crate::common::decode;

fn check_any_input(kind: SourceKind, data: &[u8]) -> Result<(), TestCaseError> {
    let first = decode(kind, data);
    for r in &first.rejections {
        prop_assert!(!r.reason.is_empty());
        prop_assert!(r.offset as usize <= data.len(), "offset {} beyond input of {}", r.offset, data.len());
    }
    for e in &first.events {
        prop_assert_eq!(e.source(), kind.as_str());
        prop_assert!(!e.original().is_empty());
        let printed = serde_json::to_value(e).expect("events serialize");
        let back = ward_model::Event::from_json(printed).expect("printed events read back");
        prop_assert_eq!(back.id(), e.id());
        prop_assert_eq!(back.original(), e.original());
    }
    let second = decode(kind, data);
    prop_assert_eq!(&first.events, &second.events, "decoding is not deterministic");
    prop_assert_eq!(&first.rejections, &second.rejections);
    Ok(())
}

/// Inputs that look a bit like each format, so mutations reach deep into the decoders.
fn near_miss() -> impl Strategy<Value = Vec<u8>> {
    let seeds = prop_oneof![
        Just(r#"{"eventid":"cowrie.login.failed","timestamp":"2024-01-01T00:00:00Z","src_ip":"1.2.3.4","username":"root"}"#.to_owned()),
        Just(r#"{"timestamp":"2016-10-14T15:29:08+0000","event_type":"alert","src_ip":"10.0.0.1","alert":{"signature_id":1}}"#.to_owned()),
        Just(r#"{"name":"q","hostIdentifier":"h","unixTime":1,"columns":{"pid":"1"},"action":"added"}"#.to_owned()),
        Just(r##"{"Event":{"System":{"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T00:00:00Z"}}},"EventData":{"Image":"x"}}}"##.to_owned()),
        Just("<34>1 2003-10-11T22:14:15.003Z host su - ID47 [x@1 a=\"b\"] msg".to_owned()),
        Just("Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 1.2.3.4 port 22 ssh2".to_owned()),
        Just("CEF:0|V|P|1|100|name|5|src=1.2.3.4 msg=a\\=b".to_owned()),
    ];
    (seeds, proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6)).prop_map(|(seed, edits)| {
        let mut bytes = seed.into_bytes();
        for (at, b) in edits {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = b;
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512), k in 0..SourceKind::ALL.len()) {
        check_any_input(SourceKind::ALL[k], &data)?;
    }

    #[test]
    fn mutated_records_never_panic(data in near_miss(), k in 0..SourceKind::ALL.len()) {
        check_any_input(SourceKind::ALL[k], &data)?;
    }
}
