//! The duration parser and the base64 decoder replace humantime and the base64 crate;
//! they must accept exactly the same inputs, with the same results.

use proptest::prelude::*;

use crate::duration::parse_duration;

const UNITS: &[&str] = &[
    "ns", "nanos", "nsec", "us", "µs", "usec", "ms", "millis", "msec", "s", "sec", "secs",
    "second", "seconds", "m", "min", "mins", "minute", "minutes", "h", "hr", "hrs", "hour",
    "hours", "d", "day", "days", "w", "wk", "wks", "week", "weeks", "M", "month", "months", "y",
    "yr", "yrs", "year", "years", "", "x", "H", "S", "sx",
];

fn same_as_humantime(text: &str) {
    let ours = parse_duration(text);
    let theirs = humantime::parse_duration(text);
    assert_eq!(
        ours.as_ref().ok(),
        theirs.as_ref().ok(),
        "{text:?}: {ours:?} / {theirs:?}"
    );
}

#[test]
fn durations_parse_as_humantime_did() {
    for text in [
        "0",
        "0s",
        "5s",
        "1m30s",
        "250ms",
        "24h",
        "1.5h",
        "1h 30m",
        "1 hour 30 min",
        "2days",
        "1w",
        "1M",
        "1y",
        "1 5s",
        "1. 5s",
        "1 .5s",
        "1.5 s",
        "0.1ns",
        "1.0ns",
        "1.3333333333s",
        "0.3333h",
        "18446744073709551615s",
        "18446744073709551616s",
        "18446744073709551615m",
        "584542046090y",
        "1.00000000000000000000s",
        "00000000000000000000001s",
        " 5s",
        "5s ",
        "",
        " ",
        " 0",
        "5",
        "5 ",
        "s",
        "-1s",
        "+1s",
        "1s,2s",
        "1h-5m",
        "5µs",
        "1.s",
        ".5s",
        "1..5s",
        "1.5.5s",
        "1sx",
        "1é",
        "5s\u{a0}3m",
        "1h30",
        "3 hours2 min",
    ] {
        same_as_humantime(text);
    }
}

fn duration_like() -> impl Strategy<Value = String> {
    let item = (
        "[0-9]{1,4}",
        proptest::option::of("[0-9]{0,3}"),
        " ?",
        proptest::sample::select(UNITS),
        "[ \t]{0,2}",
    )
        .prop_map(|(whole, fraction, gap, unit, after)| {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{whole}{fraction}{gap}{unit}{after}")
        });
    proptest::collection::vec(item, 1..4).prop_map(|items| items.concat())
}

proptest! {
    #[test]
    fn generated_durations_parse_as_humantime_did(text in duration_like()) {
        same_as_humantime(&text);
    }

    #[test]
    fn any_short_text_parses_as_humantime_did(text in "[0-9 .a-zA-Zµ+-]{0,10}") {
        same_as_humantime(&text);
    }

    #[test]
    fn base64_decodes_as_the_base64_crate_did(text in "[A-Za-z0-9+/=]{0,12}") {
        use base64::Engine;
        let theirs = base64::engine::general_purpose::STANDARD.decode(&text).ok();
        prop_assert_eq!(crate::base64::decode(&text), theirs, "{:?}", text);
    }

    #[test]
    fn encoded_bytes_decode_back(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        use base64::Engine;
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        prop_assert_eq!(crate::base64::decode(&text), Some(bytes));
    }
}
