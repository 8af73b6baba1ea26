#![no_main]
//! libFuzzer wrapper; the target and its checks are `boundary_fuzz_targets::dns_query`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| boundary_fuzz_targets::dns_query::dns_query(data));
