//! The public API on real inputs: binaries and rlibs from rustc, tarballs and `.deb`s from the
//! artifact writers, texts, a 100 MB synthetic ELF pair, and broken or mismatched files.

use std::io::Write as _;

use super::test_support::{TwoRuns, compile, runs_under, synthetic_elf};
use super::*;
use crate::artifacts::deb::{DebControl, DebPackage, deb};
use crate::artifacts::tarball::{gzip, tar_gz};
use crate::artifacts::{ArtifactFile, Normalisation};

const PRINT_FILE: &str = "fn main() { println!(\"{}\", file!()); }\n";

fn kinds(comparison: &FileComparison) -> Vec<DifferenceKind> {
    comparison.kinds().into_iter().collect()
}

/// The comparison as JSON and as text: neither may hold the scratch directory (the runs'
/// absolute paths).
fn assert_no_absolute_path(comparison: &FileComparison, two: &TwoRuns) {
    let json = serde_json::to_string(comparison).expect("serialize");
    let text = comparison.render_lines(0).join("\n");
    for output in [json, text] {
        assert!(!output.contains(&two.base()), "{output}");
    }
}

fn member<'a>(comparison: &'a FileComparison, name: &str) -> &'a FileComparison {
    let found = comparison.members.iter().find(|m| m.name == name);
    match found.map(|m| &m.difference) {
        Some(MemberDifference::Differs(nested)) => nested,
        other => panic!("member {name}: {other:?} in {comparison:#?}"),
    }
}

#[test]
fn identical_files_are_identical_and_nothing_else() {
    let bytes = b"\x7fELF but not really";
    let comparison = compare_files("x", bytes, bytes, &runs_under("/nonexistent/same"));
    assert_eq!(comparison, FileComparison::identical(Format::Elf));
    assert!(comparison.kinds().is_empty());
    assert_eq!(comparison.render_lines(2), ["  identical"]);
}

#[test]
fn an_embedded_checkout_path_in_an_elf_binary() {
    let two = TwoRuns::new("compare-elf-path");
    let a = compile(&two.root(0), "app/src/main.rs", PRINT_FILE, &["-g"]);
    let b = compile(&two.root(1), "app/src/main.rs", PRINT_FILE, &["-g"]);
    let comparison = compare_files("app", &a, &b, &two.runs);
    assert_eq!(comparison.format, Format::Elf);
    for section in [".rodata", ".debug_str"] {
        assert!(
            comparison.sections.iter().any(|s| s == section),
            "{section} in {:?}",
            comparison.sections
        );
    }
    assert_eq!(kinds(&comparison), [DifferenceKind::BuildPath]);
    let lines = comparison.render_lines(0);
    assert!(
        lines.contains(
            &"build path: $WORKSPACE/app/src/main.rs (the checkout path of each run)".to_string()
        ),
        "{lines:#?}"
    );
    assert_no_absolute_path(&comparison, &two);
}

#[test]
fn an_embedded_timestamp_in_an_elf_binary() {
    let two = TwoRuns::new("compare-elf-time");
    let source = |time: &str| {
        format!("const BUILT: &str = \"built {time}\";\nfn main() {{ println!(\"{{BUILT}}\"); }}\n")
    };
    let root = two.root(0);
    let a = compile(
        &root,
        "src/main.rs",
        &source("2026-11-21T21:47:42Z at 1795306062"),
        &[],
    );
    let b = compile(
        &root,
        "src/main.rs",
        &source("2026-11-21T21:47:51Z at 1795306071"),
        &[],
    );
    let comparison = compare_files("app", &a, &b, &two.runs);
    assert!(comparison.sections.iter().any(|s| s == ".rodata"));
    assert_eq!(
        comparison.strings,
        [StringDifference {
            kind: DifferenceKind::Timestamp,
            runs: [
                vec!["2026-11-21T21:47:42Z".to_string(), "1795306062".to_string()],
                vec!["2026-11-21T21:47:51Z".to_string(), "1795306071".to_string()],
            ],
            meaning: "a date and time and seconds since the epoch".to_string(),
        }]
    );
    assert!(comparison.render_lines(0).contains(
        &"timestamp: 2026-11-21T21:47:42Z, 1795306062 vs 2026-11-21T21:47:51Z, 1795306071 (a date and time and seconds since the epoch)"
            .to_string()
    ));
}

#[test]
fn a_table_in_another_order_in_an_elf_binary() {
    let two = TwoRuns::new("compare-elf-order");
    let source = |entries: [&str; 4]| {
        format!(
            "static TABLE: [&str; 4] = {entries:?};\nfn main() {{ for entry in TABLE {{ println!(\"{{entry}}\"); }} }}\n"
        )
    };
    let root = two.root(0);
    let forward = ["alpha-entry", "beta-entry", "gamma-entry", "delta-entry"];
    let shuffled = ["gamma-entry", "alpha-entry", "delta-entry", "beta-entry"];
    let a = compile(&root, "src/main.rs", &source(forward), &[]);
    let b = compile(&root, "src/main.rs", &source(shuffled), &[]);
    let comparison = compare_files("app", &a, &b, &two.runs);
    assert_eq!(kinds(&comparison), [DifferenceKind::Ordering]);
    let ordering = &comparison.strings[0];
    assert!(
        ordering.runs[0][0].starts_with("alpha-entrybeta-entrygamma-entrydelta-entry"),
        "{ordering:?}"
    );
    assert!(ordering.runs[1][0].starts_with("gamma-entryalpha-entrydelta-entrybeta-entry"));
}

#[test]
fn an_rlib_is_compared_member_by_member() {
    let two = TwoRuns::new("compare-rlib");
    let source = "pub fn here() -> &'static str { file!() }\n";
    let args = ["--crate-type", "rlib", "--crate-name", "demo"];
    let a = compile(&two.root(0), "demo/src/lib.rs", source, &args);
    let b = compile(&two.root(1), "demo/src/lib.rs", source, &args);
    let comparison = compare_files("libdemo.rlib", &a, &b, &two.runs);
    assert_eq!(comparison.format, Format::Ar);
    // Hashes of the crate (which cover its paths) differ too; their bytes may look like text,
    // so only the path is asserted.
    let rmeta = member(&comparison, "lib.rmeta");
    assert!(rmeta.kinds().contains(&DifferenceKind::BuildPath));
    let object = comparison
        .members
        .iter()
        .find(|m| m.name.ends_with(".rcgu.o"))
        .expect("an object member");
    let MemberDifference::Differs(object) = &object.difference else {
        panic!("{object:?}");
    };
    assert_eq!(object.format, Format::Elf);
    assert!(!object.sections.is_empty());
    assert!(comparison.kinds().contains(&DifferenceKind::BuildPath));
    let lines = comparison.render_lines(0);
    assert_eq!(lines[0], "member lib.rmeta differs");
    assert!(lines.contains(
        &"  build path: $WORKSPACE/demo/src/lib.rs (the checkout path of each run)".to_string()
    ));
    assert_no_absolute_path(&comparison, &two);
}

fn file(path: &str, text: &str) -> ArtifactFile {
    ArtifactFile {
        path_in_archive: path.to_string(),
        bytes: text.as_bytes().to_vec(),
        mode: 0o644,
    }
}

#[test]
fn tarballs_dated_differently() {
    let files = [
        file("README.md", "# hello\n"),
        file("doc/guide.md", "guide\n"),
    ];
    let a = tar_gz(
        &files,
        "hello-1.0.0",
        &Normalisation {
            mtime: 1_795_306_062,
        },
    )
    .unwrap();
    let b = tar_gz(
        &files,
        "hello-1.0.0",
        &Normalisation {
            mtime: 1_795_306_071,
        },
    )
    .unwrap();
    let comparison = compare_files("hello.tar.gz", &a, &b, &runs_under("/nonexistent/tar"));
    assert_eq!(comparison.format, Format::TarGz);
    assert_eq!(comparison.header_fields, Vec::<String>::new());
    let names: Vec<&str> = comparison.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "hello-1.0.0/",
            "hello-1.0.0/README.md",
            "hello-1.0.0/doc/",
            "hello-1.0.0/doc/guide.md"
        ]
    );
    let readme = member(&comparison, "hello-1.0.0/README.md");
    assert_eq!(readme.header_fields, ["mtime"]);
    assert_eq!(
        readme.render_lines(0),
        [
            "header fields differ: mtime",
            "timestamp: 1795306062 vs 1795306071 (tar entry mtime, seconds since the epoch)"
        ]
    );
    assert_eq!(kinds(&comparison), [DifferenceKind::Timestamp]);
}

/// A tar stream of `names` (each file holding its name) in that order, gzipped with `mtime` in
/// the gzip header.
fn tar_gz_in_order(names: &[&str], mtime: u32) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for name in names {
        let mut header = tar::Header::new_gnu();
        header.set_size(name.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, name.as_bytes())
            .unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut encoder = flate2::GzBuilder::new()
        .mtime(mtime)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(&tar).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gzip_header_time_and_tar_entry_order() {
    let a = tar_gz_in_order(&["a.txt", "b.txt", "c.txt"], 1_795_306_062);
    let b = tar_gz_in_order(&["c.txt", "a.txt", "b.txt"], 1_795_306_071);
    let comparison = compare_files("x.tar.gz", &a, &b, &runs_under("/nonexistent/tar"));
    assert_eq!(comparison.format, Format::TarGz);
    assert_eq!(comparison.header_fields, ["gzip mtime", "entry order"]);
    assert_eq!(comparison.members, []);
    assert_eq!(
        comparison.render_lines(0),
        [
            "header fields differ: gzip mtime, entry order",
            "timestamp: 1795306062 vs 1795306071 (gzip header mtime, seconds since the epoch)",
            "ordering: a.txt, b.txt, c.txt vs c.txt, a.txt, b.txt (the same strings in another order)",
        ]
    );
}

#[test]
fn gzip_of_something_else_compares_its_content() {
    let a = gzip(b"built at 2026-11-21 21:47:42\n").unwrap();
    let b = gzip(b"built at 2026-11-21 21:47:51\n").unwrap();
    let comparison = compare_files("notes.txt.gz", &a, &b, &runs_under("/nonexistent/gz"));
    assert_eq!(comparison.format, Format::Gzip);
    let inner = member(&comparison, "notes.txt");
    assert_eq!(inner.format, Format::Text);
    assert_eq!(kinds(inner), [DifferenceKind::Timestamp]);
}

fn deb_control() -> DebControl {
    DebControl {
        package: "hello".to_string(),
        version: "1.0.0".to_string(),
        architecture: "amd64".to_string(),
        maintainer: "Someone <someone@example.com>".to_string(),
        description: "says hello".to_string(),
        priority: "optional".to_string(),
        ..DebControl::default()
    }
}

#[test]
fn debian_packages_down_to_the_binary_inside() {
    let two = TwoRuns::new("compare-deb");
    let a_binary = compile(&two.root(0), "app/src/main.rs", PRINT_FILE, &[]);
    let b_binary = compile(&two.root(1), "app/src/main.rs", PRINT_FILE, &[]);
    let contents = |binary: Vec<u8>| DebPackage {
        control: deb_control(),
        files: vec![ArtifactFile::new("usr/bin/hello", binary, true)],
        ..DebPackage::default()
    };
    let a = deb(
        &contents(a_binary),
        &Normalisation {
            mtime: 1_795_306_062,
        },
    )
    .unwrap();
    let b = deb(
        &contents(b_binary),
        &Normalisation {
            mtime: 1_795_306_071,
        },
    )
    .unwrap();
    let comparison = compare_files("hello_1.0.0_amd64.deb", &a, &b, &two.runs);
    assert_eq!(comparison.format, Format::Deb);
    let names: Vec<&str> = comparison.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["debian-binary", "control.tar.gz", "data.tar.gz"]);
    assert_eq!(
        member(&comparison, "debian-binary").header_fields,
        ["mtime"]
    );
    let data = member(&comparison, "data.tar.gz");
    assert_eq!(data.format, Format::TarGz);
    let binary = member(data, "./usr/bin/hello");
    assert_eq!(binary.format, Format::Elf);
    assert_eq!(binary.header_fields, ["mtime"]);
    assert!(binary.sections.iter().any(|s| s == ".rodata"));
    assert_eq!(
        kinds(&comparison),
        [DifferenceKind::BuildPath, DifferenceKind::Timestamp]
    );
    assert_no_absolute_path(&comparison, &two);
}

#[test]
fn generated_code_with_the_build_time_and_a_hash_ordered_table() {
    let a = "// generated\npub const BUILT: u64 = 1795306062;\npub static T: &[&str] = &[\n    \"x\",\n    \"y\",\n    \"z\",\n];\n";
    let b = "// generated\npub const BUILT: u64 = 1795306071;\npub static T: &[&str] = &[\n    \"z\",\n    \"x\",\n    \"y\",\n];\n";
    let comparison = compare_files(
        "out/generated.rs",
        a.as_bytes(),
        b.as_bytes(),
        &runs_under("/nonexistent/text"),
    );
    assert_eq!(comparison.format, Format::Text);
    assert_eq!(
        kinds(&comparison),
        [DifferenceKind::Timestamp, DifferenceKind::Ordering]
    );
    assert_eq!(
        comparison.render_lines(0),
        [
            "timestamp: 1795306062 vs 1795306071 (seconds since the epoch)",
            "ordering: \"x\", | \"y\", | \"z\", vs \"z\", | \"x\", | \"y\", (the same strings in another order)",
        ]
    );
}

#[test]
fn line_endings_and_whitespace_are_header_fields() {
    let runs = runs_under("/nonexistent/ws");
    let crlf = compare_files("a.txt", b"one\ntwo\n", b"one\r\ntwo\r\n", &runs);
    assert_eq!(crlf.header_fields, ["line endings or final newline"]);
    let indented = compare_files(
        "a.rs",
        b"fn x() {\n  y();\n}\n",
        b"fn x() {\n    y();\n}\n",
        &runs,
    );
    assert_eq!(indented.header_fields, ["whitespace"]);
    assert_eq!(indented.strings, []);
}

#[test]
fn a_build_script_output_with_each_runs_paths() {
    let runs = runs_under("/nonexistent/out");
    let output = |run: &str| {
        format!(
            "cargo:rerun-if-changed=build.rs\ncargo:rustc-env=GEN=/nonexistent/out/{run}/target/release/build/app-1/out/gen.rs\ncargo:rerun-if-changed=/nonexistent/out/{run}/proto/api.proto\n"
        )
    };
    let comparison = compare_files(
        "target/release/build/app-1/output",
        output("run1").as_bytes(),
        output("run2").as_bytes(),
        &runs,
    );
    assert_eq!(
        comparison.render_lines(0),
        [
            "build path: $WORKSPACE/proto/api.proto (the checkout path of each run)",
            "target directory: $TARGET/release/build/app-1/out/gen.rs (the target directory of each run)",
        ]
    );
}

#[test]
fn files_of_different_formats_are_compared_as_bytes() {
    let two = TwoRuns::new("compare-formats");
    let elf = compile(&two.root(0), "app/src/main.rs", PRINT_FILE, &[]);
    let comparison = compare_files("app", &elf, b"not a binary\n", &two.runs);
    assert_eq!(comparison.format, Format::Binary);
    assert_eq!(comparison.header_fields, ["format", "size"]);
    assert_eq!(
        comparison.notes,
        ["run 1 is elf, run 2 is text: compared as bytes"]
    );
}

#[test]
fn a_truncated_elf_file_is_compared_as_bytes_and_said_so() {
    let two = TwoRuns::new("compare-truncated");
    let a = compile(&two.root(0), "app/src/main.rs", PRINT_FILE, &[]);
    let b = &a[..a.len() / 2];
    let comparison = compare_files("app", &a, b, &two.runs);
    assert_eq!(comparison.format, Format::Elf);
    assert_eq!(comparison.header_fields, ["size"]);
    assert_eq!(comparison.notes.len(), 1);
    assert!(
        comparison.notes[0].starts_with("run 2 is not a readable ELF file (")
            && comparison.notes[0].ends_with("): compared as bytes"),
        "{:?}",
        comparison.notes
    );
}

#[test]
fn corrupt_archives_never_panic() {
    let good = tar_gz_in_order(&["a.txt"], 0);
    let mut bad_crc = good.clone();
    let last = bad_crc.len() - 5;
    bad_crc[last] ^= 0xff;
    let cases: [(&str, &[u8]); 5] = [
        ("x.tar.gz", &bad_crc),
        ("x.tar.gz", &good[..12]),
        (
            "lib.rlib",
            b"!<arch>\nlib.rmeta/      0           0     0     644     999999    `\n",
        ),
        ("x.tar", &[b'u'; 1024]),
        ("app", b"\x7fELF\x02\x01\x01"),
    ];
    for (name, bad) in cases {
        let comparison = compare_files(name, &good, bad, &runs_under("/nonexistent/bad"));
        assert!(!comparison.identical, "{name}");
        let forward = compare_files(name, bad, bad, &runs_under("/nonexistent/bad"));
        assert!(forward.identical);
    }
    let comparison = compare_files("x.tar.gz", &good, &bad_crc, &runs_under("/nonexistent/bad"));
    assert_eq!(comparison.format, Format::TarGz);
    assert!(
        comparison.notes[0].starts_with("run 2 is not a readable gzip file"),
        "{:?}",
        comparison.notes
    );
}

#[test]
fn a_hundred_megabyte_elf_pair_differing_in_one_section() {
    // Fast in debug builds too (about 0.1 s): equal sections are skipped with one slice
    // comparison each, and strings come only from the differing region of `.rodata`.
    const MB: usize = 1 << 20;
    let text = vec![0x90u8; 80 * MB];
    let mut debug_str = Vec::with_capacity(10 * MB + 64);
    while debug_str.len() < 10 * MB {
        debug_str.extend_from_slice(b"core::fmt::Debug\0alloc::vec::Vec<u8>\0");
    }
    let rodata = |run: u8| {
        let mut data = vec![0u8; 10 * MB];
        let path = format!("/nonexistent/big/run{run}/src/main.rs");
        data[5 * MB..5 * MB + path.len()].copy_from_slice(path.as_bytes());
        data
    };
    let (rodata_a, rodata_b) = (rodata(1), rodata(2));
    let elf = |rodata: &[u8]| {
        synthetic_elf(&[
            (".text", 1, 6, &text),
            (".rodata", 1, 2, rodata),
            (".debug_str", 1, 0x30, &debug_str),
        ])
    };
    let (a, b) = (elf(&rodata_a), elf(&rodata_b));
    assert!(a.len() > 100 * MB);
    let comparison = compare_files("big", &a, &b, &runs_under("/nonexistent/big"));
    assert_eq!(comparison.sections, [".rodata"]);
    assert_eq!(
        comparison.render_lines(0),
        [
            "ELF sections differ: .rodata",
            "build path: $WORKSPACE/src/main.rs (the checkout path of each run)"
        ]
    );
}

#[test]
fn sections_in_one_run_only_and_compressed_sections_are_noted() {
    let same: &[u8] = b"same bytes";
    let a = synthetic_elf(&[(".text", 1, 6, same), (".zdebug", 1, 0x800, b"aaaa-packed")]);
    let b = synthetic_elf(&[
        (".text", 1, 6, same),
        (".zdebug", 1, 0x800, b"bbbb-packed"),
        (".extra", 1, 2, b"more"),
    ]);
    let comparison = compare_files("app", &a, &b, &runs_under("/nonexistent/sections"));
    // The section name table differs too: it holds `.extra`.
    assert_eq!(comparison.sections, [".zdebug", ".shstrtab", ".extra"]);
    assert_eq!(
        comparison.notes,
        [
            "sections only in run 2: .extra",
            "compressed sections, strings not read: .zdebug"
        ]
    );
    assert!(
        comparison
            .strings
            .iter()
            .all(|s| !s.runs[0].concat().contains("packed"))
    );
}

#[test]
fn json_names_are_kebab_case() {
    let comparison = FileComparison {
        members: vec![MemberComparison {
            name: "extra.txt".to_string(),
            difference: MemberDifference::OnlyInRun(2),
        }],
        strings: vec![StringDifference {
            kind: DifferenceKind::BuildPath,
            runs: [
                vec!["$WORKSPACE/a.rs".to_string()],
                vec!["$WORKSPACE/a.rs".to_string()],
            ],
            meaning: "the checkout path of each run".to_string(),
        }],
        ..Builder::new(Format::TarGz).finish()
    };
    assert_eq!(
        serde_json::to_value(&comparison).unwrap(),
        serde_json::json!({
            "format": "tar-gz",
            "identical": false,
            "sections": [],
            "header_fields": [],
            "members": [{"name": "extra.txt", "difference": {"only-in-run": 2}}],
            "strings": [{
                "kind": "build-path",
                "runs": [["$WORKSPACE/a.rs"], ["$WORKSPACE/a.rs"]],
                "meaning": "the checkout path of each run"
            }],
            "strings_left_out": 0,
            "notes": []
        })
    );
}

#[test]
fn kinds_come_from_members_and_other_is_the_fallback() {
    let mut nested = Builder::new(Format::Text).finish();
    assert_eq!(kinds(&nested), [DifferenceKind::Other]);
    nested.strings.push(StringDifference {
        kind: DifferenceKind::Timestamp,
        runs: [vec!["1".to_string()], vec!["2".to_string()]],
        meaning: String::new(),
    });
    let outer = FileComparison {
        members: vec![MemberComparison {
            name: "m".to_string(),
            difference: MemberDifference::Differs(nested),
        }],
        ..Builder::new(Format::Ar).finish()
    };
    assert_eq!(kinds(&outer), [DifferenceKind::Timestamp]);
}

#[test]
fn each_kind_suggests_its_fix() {
    for (kind, fix) in [
        (DifferenceKind::BuildPath, "--remap-path-prefix"),
        (DifferenceKind::TargetDir, "--remap-path-prefix"),
        (DifferenceKind::CargoHome, "CARGO_HOME"),
        (DifferenceKind::HomeDirectory, "HOME"),
        (DifferenceKind::Timestamp, "SOURCE_DATE_EPOCH"),
        (DifferenceKind::Ordering, "BTreeMap"),
        (DifferenceKind::Other, "diffoscope"),
    ] {
        assert!(suggestion(kind).contains(fix), "{kind:?}");
    }
}

#[test]
fn a_table_in_another_order_in_an_rlib_swaps_its_constants_sections() {
    let two = TwoRuns::new("compare-rlib-order");
    let source = |entries: [&str; 4]| {
        format!(
            "pub static TABLE: [&str; 4] = {entries:?};\npub fn table() -> &'static [&'static str] {{ &TABLE }}\n"
        )
    };
    let args = ["--crate-type", "rlib", "--crate-name", "demo", "-O"];
    let root = two.root(0);
    let forward = ["alpha-entry", "beta-entry", "gamma-entry", "delta-entry"];
    let shuffled = ["gamma-entry", "alpha-entry", "delta-entry", "beta-entry"];
    let a = compile(&root, "demo/src/lib.rs", &source(forward), &args);
    let b = compile(&root, "demo/src/lib.rs", &source(shuffled), &args);
    let comparison = compare_files("libdemo.rlib", &a, &b, &two.runs);
    let object = comparison
        .members
        .iter()
        .find_map(|m| match &m.difference {
            MemberDifference::Differs(object) if m.name.ends_with(".rcgu.o") => Some(object),
            _ => None,
        })
        .expect("the object member differs");
    let constants = object
        .sections
        .iter()
        .filter(|s| s.starts_with(".rodata..Lanon."))
        .count();
    assert!(constants >= 4, "{:?}", object.sections);
    assert!(object.render_lines(0).contains(
        &"ordering: alpha-entry, beta-entry, gamma-entry, delta-entry vs gamma-entry, alpha-entry, delta-entry, beta-entry (the same strings in another order)".to_string()
    ));
    assert_eq!(kinds(&comparison), [DifferenceKind::Ordering]);
}
