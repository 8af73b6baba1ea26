#![no_main]
//! libFuzzer wrapper; the target and its checks are `boundary_fuzz_targets::resolv_conf`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| boundary_fuzz_targets::resolv_conf::resolv_conf(data));
