//! `terraform-provider-defender --version` / `--help`, as a person (or a release script) runs them.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terraform-provider-defender"))
        .args(args)
        .output()
        .expect("the provider binary runs")
}

#[test]
fn version_prints_name_and_crate_version() {
    let o = run(&["--version"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).expect("utf-8");
    // scripts/demo.sh and scripts/release.sh read the version as the second word.
    assert_eq!(
        out.trim_end(),
        format!("terraform-provider-defender {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(env!("CARGO_PKG_VERSION"), defender::VERSION);
}

#[test]
fn version_is_the_one_the_changelog_releases() {
    let changelog =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../CHANGELOG.md"))
            .expect("CHANGELOG.md at the repository root");
    let heading = format!("## [{}]", env!("CARGO_PKG_VERSION"));
    assert!(
        changelog.lines().any(|l| l.starts_with(&heading)),
        "CHANGELOG.md has no `{heading}` section"
    );
}

#[test]
fn help_lists_the_commands() {
    let o = run(&["--help"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for cmd in ["docs", "render", "--debug", "--version"] {
        assert!(out.contains(cmd), "--help does not mention {cmd}:\n{out}");
    }
}

#[test]
fn unknown_command_fails() {
    let o = run(&["no-such-command"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-command"));
}
