#![no_main]
//! libFuzzer wrapper; the target and its checks are `boundary_fuzz_targets::worker_handshake`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    boundary_fuzz_targets::worker_handshake::worker_handshake(data)
});
