//! `archive-unnormalised`: release archives created with file order, times or owners of the build machine.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::entry_points::{Command, EntryPoint, Job, in_job};

pub static RULE: Rule = Rule {
    id: "archive-unnormalised",
    default_level: Level::Warn,
    summary: "an entry point packs an archive without normalising order, times and owners",
    docs: r#"
### What it finds
In build entry points (Dockerfiles, CI workflows, justfiles, Makefiles, shell scripts):
- `tar` creating an archive (`c` in the first bundled option, `-c` or `--create`) without
  `--sort=name`, `--mtime=…`, `--owner=0`, `--group=0` and `--numeric-owner`;
- `gzip` (or `pigz`) compressing without `-n`;
- `zip` without `-X`;
- `7z a` (it stores the files' times and attributes, and has no option to fix them) and
  PowerShell's `Compress-Archive` (times, and the file system's order);
- `dpkg-deb --build` (also under `fakeroot`) when `SOURCE_DATE_EPOCH` is not set for it,
  by the script or by the job that runs it (dpkg-deb then stamps the members with the files'
  times).

Only release entry points are held to this (see "Roles" in the rules' introduction): an
archive made by a test or coverage job is reported as a note.

### Why it breaks reproducibility
Even when the binaries are identical, the archive that is published is not: `tar` stores files
in the order the file system lists them, with their modification times, owner names and ids;
`gzip` stores the input's name and time in its header; `zip` stores extra attributes such as
the owner's uid and gid and access times.

### Example
```sh
tar -czf app.tar.gz target/release/app
```

### Fix
With GNU tar:
```sh
tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner \
    -cf - target/release/app | gzip -9n > app.tar.gz
```
and `zip -X` (after setting the files' times, for example with
`touch -d @$SOURCE_DATE_EPOCH`).
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

const TAR_HELP: &str = "create it with `tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 \
                        --group=0 --numeric-owner -cf - … | gzip -9n`";

/// The `tar` options that make an archive independent of the build machine, and how to
/// recognise each.
/// Each comes with what the archive takes from the build machine without it.
const TAR_FLAGS: &[(&str, &[&str], &str)] = &[
    ("--sort=name", &["--sort=name"], "file order"),
    ("--mtime", &["--mtime", "--clamp-mtime"], "times"),
    ("--owner=0", &["--owner"], "owners"),
    ("--group=0", &["--group"], "owners"),
    ("--numeric-owner", &["--numeric-owner"], "owners"),
];

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for entry in &workspace.entry_points {
        for (job, command) in entry.commands() {
            if let Some(finding) = unnormalised_archive(entry, job, command) {
                out.push(in_job(finding, job));
            }
        }
    }
}

/// A finding for an archiving command that leaves machine-specific data in.
fn unnormalised_archive(entry: &EntryPoint, job: &Job, command: &Command) -> Option<Finding> {
    let mut args: Vec<String> = command.args().iter().map(|w| w.text.clone()).collect();
    let mut program = command.program_name();
    // `powershell -Command Compress-Archive …`: the cmdlet is the program.
    if matches!(program, "powershell" | "pwsh")
        && let Some(at) = args
            .iter()
            .position(|a| a.eq_ignore_ascii_case("Compress-Archive"))
    {
        program = "Compress-Archive";
        args.drain(..=at);
    }
    let args = args.as_slice();
    let (message, help) = match program {
        "tar" | "gtar" if tar_creates(args) => {
            let missing: Vec<_> = TAR_FLAGS
                .iter()
                .filter(|(_, accepted, _)| !args.iter().any(|a| has_long_option(a, accepted)))
                .collect();
            if missing.is_empty() {
                return None;
            }
            let flags: Vec<&str> = missing.iter().map(|(flag, _, _)| *flag).collect();
            let mut leaks: Vec<&str> = missing.iter().map(|(_, _, leak)| *leak).collect();
            leaks.dedup();
            let message = format!(
                "`tar` creates an archive without {}: {} come from the build machine",
                flags.join(", "),
                join_with_and(&leaks)
            );
            (message, TAR_HELP.to_string())
        }
        "gzip" | "pigz" if !gzip_decompresses(args) && !has_short_flag(args, 'n', &["--no-name"]) => (
            format!("`{program}` without -n stores the input's name and modification time in the archive"),
            format!("use `{program} -n` (for example `{program} -9n`)"),
        ),
        "zip" if !has_short_flag(args, 'X', &["--no-extra"]) => (
            "`zip` without -X stores extra file attributes (owner ids, access times) of the build machine".to_string(),
            "use `zip -X`, after setting file times with `touch -d @$SOURCE_DATE_EPOCH`".to_string(),
        ),
        "7z" | "7za" | "7zz"
            if args.iter().find(|a| !a.starts_with('-')).is_some_and(|a| a == "a") =>
        {
            (
            "`7z a` stores the files' modification times and attributes of the build machine".to_string(),
            "make the archive with `tar … | gzip -9n` or `zip -X` after `touch -d @$SOURCE_DATE_EPOCH`, or set the times first (`7z a -mtm=off -mtc=off -mta=off`)".to_string(),
        )
        }
        "Compress-Archive" => (
            "`Compress-Archive` stores the files' modification times and takes them in the file system's order".to_string(),
            "set every file's LastWriteTime to SOURCE_DATE_EPOCH first and pass the files sorted, or build the zip on Linux with `zip -X`".to_string(),
        ),
        "dpkg-deb" if args.iter().any(|a| a == "--build" || a == "-b")
            && job.env_value(command, "SOURCE_DATE_EPOCH").is_none() => (
            "`dpkg-deb --build` without SOURCE_DATE_EPOCH stamps the package's members with the files' times".to_string(),
            "set SOURCE_DATE_EPOCH for it (and pass `--root-owner-group`), or let `cargo repro build --release-artifacts` write the .deb".to_string(),
        ),
        _ => return None,
    };
    let location = entry.location(&command.program().span);
    Some(Finding::new(RULE.id, message, location).help(help))
}

/// `a`, `a and b`, `a, b and c`.
fn join_with_and(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// True when `tar` is asked to create an archive.
fn tar_creates(args: &[String]) -> bool {
    let bundled_first = args.first().is_some_and(|a| {
        !a.starts_with('-') && a.chars().all(|c| c.is_ascii_alphabetic()) && a.contains('c')
    });
    bundled_first || has_short_flag(args, 'c', &["--create"])
}

/// True when `gzip` decompresses, tests or lists instead of compressing.
fn gzip_decompresses(args: &[String]) -> bool {
    has_short_flag(args, 'd', &["--decompress", "--uncompress"])
        || has_short_flag(args, 't', &["--test"])
        || has_short_flag(args, 'l', &["--list"])
}

/// True when `-x` (alone or in a bundle like `-9nx`) or one of the long forms is present.
fn has_short_flag(args: &[String], flag: char, long: &[&str]) -> bool {
    args.iter().any(|arg| {
        let bundle = arg
            .strip_prefix('-')
            .filter(|rest| !rest.starts_with('-'))
            .is_some_and(|rest| rest.contains(flag));
        bundle || long.contains(&arg.as_str())
    })
}

/// True when `arg` is one of the long options, alone or as `--name=value`.
fn has_long_option(arg: &str, accepted: &[&str]) -> bool {
    accepted.iter().any(|option| {
        arg == *option
            || arg
                .strip_prefix(option)
                .is_some_and(|rest| rest.starts_with('='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::entry_points::EntryKind;

    fn messages(text: &str) -> Vec<String> {
        let entry = EntryPoint::from_text(EntryKind::Script, text);
        entry
            .commands()
            .filter_map(|(j, c)| unnormalised_archive(&entry, j, c))
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn tar_needs_every_flag() {
        let found = messages("tar czf a.tar.gz dist\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("--sort=name, --mtime, --owner=0, --group=0, --numeric-owner"));
        let partial = messages("tar --sort=name --mtime='@0' -cf a.tar dist\n");
        assert!(
            partial[0].contains("without --owner=0, --group=0, --numeric-owner: owners come"),
            "{}",
            partial[0]
        );
        assert!(found[0].contains("file order, times and owners come"));
        let full = "tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 \
                    --numeric-owner -cf - dist | gzip -9n > a.tar.gz\n";
        assert!(messages(full).is_empty());
    }

    #[test]
    fn extraction_and_decompression_pass() {
        assert!(messages("tar -xzf a.tar.gz -C out\n").is_empty());
        assert!(messages("tar xf a.tar\n").is_empty());
        assert!(messages("gzip -d a.gz && gunzip b.gz\n").is_empty());
        assert!(messages("zip -rX a.zip dist\n").is_empty());
    }

    #[test]
    fn gzip_and_zip() {
        let found = messages("gzip -9 a.tar && zip -r a.zip dist\n");
        assert_eq!(found.len(), 2);
        assert!(found[0].starts_with("`gzip` without -n"));
        assert!(found[1].starts_with("`zip` without -X"));
    }

    #[test]
    fn seven_zip_powershell_and_dpkg_deb() {
        assert_eq!(messages("7z a out.7z dist\n").len(), 1);
        assert!(messages("7z x out.7z\n").is_empty());
        assert_eq!(messages("7z -y a out.7z dist\n").len(), 1);
        assert_eq!(
            messages("Compress-Archive -Path dist -DestinationPath a.zip\n").len(),
            1
        );
        assert_eq!(messages("dpkg-deb --build pkg out.deb\n").len(), 1);
        assert!(messages("SOURCE_DATE_EPOCH=1 dpkg-deb --build pkg out.deb\n").is_empty());
        assert!(messages("export SOURCE_DATE_EPOCH=1\ndpkg-deb -b pkg\n").is_empty());
    }
}
