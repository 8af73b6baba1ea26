//! Replays every committed corpus file through its target's entry function, so that an
//! input libFuzzer once found a crash with (kept as `fuzz/corpus/<target>/regression-*`)
//! fails the ordinary test run if the bug comes back. Runs with the workspace's tests
//! (`scripts/test`, hence `.ci/run`), on stable, in a second or two.

use std::path::{Path, PathBuf};

use boundary_fuzz_targets::TARGETS;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

#[test]
fn every_corpus_file_passes_its_target() {
    let mut failed = Vec::new();
    for (target, run) in TARGETS {
        let dir = corpus_dir(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} holds no seed", dir.display());
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file");
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failed.push(format!("{target}: {}", file.display()));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "inputs that fail (panics above):\n{}",
        failed.join("\n")
    );
}

/// Every target has a fuzz_targets/ wrapper and the wrappers name no other target: the
/// list above is what `cargo fuzz run` offers.
#[test]
fn every_target_has_a_libfuzzer_wrapper() {
    let wrappers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    let mut found: Vec<String> = std::fs::read_dir(&wrappers)
        .expect("fuzz/fuzz_targets")
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            path.file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(found, names);
}
