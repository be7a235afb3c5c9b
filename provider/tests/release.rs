//! Release artefacts: `scripts/release.sh --package` (the packaging step of
//! `scripts/release.sh VERSION`) run on the already-built debug binary, then the zip installed
//! the way users install it — `terraform init` from a filesystem mirror in the packed layout —
//! and a plan run against the ARM emulator. No release build here: it is too slow for CI.

use std::io::Read;

use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "9a0a0c65-53d2-4f3b-8b6e-3f1e3a7c1d21";
const SUBSCRIPTION: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

/// Terraform's name for this machine's platform.
fn platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no Terraform platform name for {other}"),
    };
    (std::env::consts::OS, arch)
}

/// `$TERRAFORM`, else what scripts/ensure-terraform.sh finds or installs (as the acceptance
/// harness does).
fn terraform() -> PathBuf {
    if let Ok(t) = std::env::var("TERRAFORM") {
        return PathBuf::from(t);
    }
    let out = Command::new("bash")
        .arg(root().join("scripts/ensure-terraform.sh"))
        .output()
        .expect("running scripts/ensure-terraform.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn emulator_bin() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-defender"))
        .with_file_name("arm-emulator");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "arm-emulator", "--bin", "arm-emulator"])
            .status()
            .expect("building arm-emulator");
        assert!(status.success(), "building arm-emulator");
    }
    bin
}

/// The emulator as a process, killed on drop.
struct Emulator {
    child: Child,
    url: String,
}

impl Emulator {
    fn start(dir: &Path) -> Emulator {
        let port_file = dir.join("emulator.url");
        let child = Command::new(emulator_bin())
            .args(["--listen", "127.0.0.1:0", "--port-file"])
            .arg(&port_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting arm-emulator");
        let mut emulator = Emulator {
            child,
            url: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while emulator.url.is_empty() {
            // On timeout, the panic drops `emulator`, which kills and reaps the process.
            assert!(Instant::now() < deadline, "the emulator did not start");
            std::thread::sleep(Duration::from_millis(50));
            emulator.url = std::fs::read_to_string(&port_file)
                .map(|u| u.trim().to_owned())
                .unwrap_or_default();
        }
        emulator
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256_hex(path: &Path) -> String {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .expect("reading a file to hash");
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn package(dist: &Path, version: &str, os: &str, arch: &str) -> Output {
    Command::new("bash")
        .arg(root().join("scripts/release.sh"))
        .args(["--package", version, os, arch])
        .arg(env!("CARGO_BIN_EXE_terraform-provider-defender"))
        .arg(dist)
        .output()
        .expect("running scripts/release.sh")
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn packaged_zip_installs_from_a_filesystem_mirror_and_plans() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dist = tmp.path().join("dist");
    let (os, arch) = platform();
    let o = package(&dist, VERSION, os, arch);
    assert!(o.status.success(), "{}", describe(&o));

    // The registry's files.
    let zip_name = format!("terraform-provider-defender_{VERSION}_{os}_{arch}.zip");
    let zip = dist.join(&zip_name);
    assert!(zip.is_file(), "{zip_name} missing");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dist.join("terraform-registry-manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );
    let versioned_manifest = format!("terraform-provider-defender_{VERSION}_manifest.json");
    assert_eq!(
        std::fs::read(dist.join(&versioned_manifest)).unwrap(),
        std::fs::read(dist.join("terraform-registry-manifest.json")).unwrap()
    );
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert_eq!(
        sums,
        std::fs::read_to_string(
            dist.join(format!("terraform-provider-defender_{VERSION}_SHA256SUMS"))
        )
        .unwrap()
    );
    let expected = format!(
        "{}  {zip_name}\n{}  {versioned_manifest}\n",
        sha256_hex(&zip),
        sha256_hex(&dist.join(&versioned_manifest))
    );
    assert_eq!(sums, expected);

    // One entry: the binary under the name Terraform looks for, executable.
    let listing = Command::new("unzip").arg("-Z").arg(&zip).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    let entries: Vec<&str> = listing.lines().filter(|l| l.starts_with('-')).collect();
    assert_eq!(entries.len(), 1, "{listing}");
    assert!(entries[0].starts_with("-rwxr-xr-x"), "{listing}");
    assert!(
        entries[0].ends_with(&format!(" terraform-provider-defender_v{VERSION}")),
        "{listing}"
    );

    // The packed layout: HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip.
    let mirror = tmp.path().join("mirror");
    let pkg_dir = mirror.join("registry.terraform.io/defenderops/defender");
    std::fs::create_dir_all(&pkg_dir).unwrap();
    std::fs::copy(&zip, pkg_dir.join(&zip_name)).unwrap();
    let rc = tmp.path().join("terraformrc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/defenderops/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/defenderops/*\"]\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .unwrap();
    let config = tmp.path().join("config");
    std::fs::create_dir(&config).unwrap();
    std::fs::copy(
        root().join("examples/quickstart/main.tf"),
        config.join("main.tf"),
    )
    .unwrap();

    let emulator = Emulator::start(tmp.path());
    let tf = |args: &[&str]| -> Output {
        Command::new(terraform())
            .arg(format!("-chdir={}", config.display()))
            .args(args)
            .env("TF_CLI_CONFIG_FILE", &rc)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env(
                "ARM_METADATA_HOSTNAME",
                emulator.url.trim_start_matches("http://"),
            )
            .env("ARM_TENANT_ID", TENANT)
            .env("ARM_CLIENT_ID", CLIENT_ID)
            .env("ARM_CLIENT_SECRET", "release-test-secret")
            .env("ARM_SUBSCRIPTION_ID", SUBSCRIPTION)
            .env("ARM_USE_CLI", "false")
            .env_remove("TF_CLI_ARGS")
            .output()
            .expect("running terraform")
    };

    let init = tf(&["init", "-input=false", "-no-color"]);
    assert!(init.status.success(), "{}", describe(&init));
    let init_out = String::from_utf8_lossy(&init.stdout);
    assert!(
        init_out.contains(&format!("Installing defenderops/defender v{VERSION}")),
        "{init_out}"
    );
    // Installed from the zip: a filesystem mirror gives Terraform no signed checksums, so the
    // lock file records the package's `h1:` hash (Go's dirhash Hash1 over the zip's entries:
    // sha256 of the lines "{sha256 hex}  {name}\n"), which only the packaged binary gives.
    let lock = std::fs::read_to_string(config.join(".terraform.lock.hcl")).unwrap();
    let line = format!(
        "{}  terraform-provider-defender_v{VERSION}\n",
        sha256_hex(Path::new(env!("CARGO_BIN_EXE_terraform-provider-defender")))
    );
    let h1 = base64::engine::general_purpose::STANDARD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, line.as_bytes()).as_ref());
    assert!(
        lock.contains(&format!("\"h1:{h1}\"")),
        "h1:{h1} not in\n{lock}"
    );
    let installed = config.join(format!(
        ".terraform/providers/registry.terraform.io/defenderops/defender/{VERSION}/{os}_{arch}/terraform-provider-defender_v{VERSION}"
    ));
    assert!(installed.is_file(), "{} missing", installed.display());

    let plan = tf(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", describe(&plan));
    let plan_out = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan_out.contains("# defender_auto_provisioning.this will be created"),
        "{plan_out}"
    );
    assert!(
        plan_out.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{plan_out}"
    );
}

#[test]
fn packaging_refuses_a_version_the_binary_does_not_have() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (os, arch) = platform();
    let o = package(&tmp.path().join("dist"), "9.9.9", os, arch);
    assert!(!o.status.success(), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("says version {VERSION}, not 9.9.9")),
        "{}",
        describe(&o)
    );
    assert!(!tmp.path().join("dist").join("SHA256SUMS").exists());
}

#[test]
fn packaging_refuses_a_version_that_is_not_semver() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (os, arch) = platform();
    let o = package(&tmp.path().join("dist"), &format!("v{VERSION}"), os, arch);
    assert!(!o.status.success(), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("semver without a v"),
        "{}",
        describe(&o)
    );
}

/// A throwaway GPG home with one secret key of `algo` (e.g. `rsa3072`, `ed25519`) and no
/// passphrase; returns the key's fingerprint.
fn gpg_key(home: &Path, algo: &str) -> String {
    std::fs::create_dir_all(home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let o = Command::new("gpg")
        .env("GNUPGHOME", home)
        .args(["--batch", "--passphrase", "", "--quick-gen-key"])
        .args([
            "Defender Release Test <release@defenderops.invalid>",
            algo,
            "sign",
            "never",
        ])
        .output()
        .expect("running gpg");
    assert!(o.status.success(), "{}", describe(&o));
    let o = Command::new("gpg")
        .env("GNUPGHOME", home)
        .args(["--batch", "--with-colons", "--list-secret-keys"])
        .output()
        .expect("running gpg");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("fpr:")
                .map(|r| r.trim_matches(':').to_string())
        })
        .expect("a fingerprint")
}

fn package_signed(dist: &Path, home: &Path, fingerprint: &str) -> Output {
    let (os, arch) = platform();
    Command::new("bash")
        .arg(root().join("scripts/release.sh"))
        .args(["--package", VERSION, os, arch])
        .arg(env!("CARGO_BIN_EXE_terraform-provider-defender"))
        .arg(dist)
        .env("GNUPGHOME", home)
        .env("GPG_FINGERPRINT", fingerprint)
        .output()
        .expect("running scripts/release.sh")
}

fn gpg_verify(home: &Path, sig: &Path, data: &Path) -> bool {
    Command::new("gpg")
        .env("GNUPGHOME", home)
        .args(["--batch", "--verify"])
        .arg(sig)
        .arg(data)
        .output()
        .expect("running gpg")
        .status
        .success()
}

#[test]
fn checksums_are_signed_with_the_release_key_and_tampering_is_detected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("gnupg");
    let fingerprint = gpg_key(&home, "rsa3072");
    let dist = tmp.path().join("dist");
    let o = package_signed(&dist, &home, &fingerprint);
    assert!(o.status.success(), "{}", describe(&o));

    let sums = dist.join(format!("terraform-provider-defender_{VERSION}_SHA256SUMS"));
    let sig = dist.join(format!(
        "terraform-provider-defender_{VERSION}_SHA256SUMS.sig"
    ));
    // A binary (not armored) detached signature, as the registry wants.
    let bytes = std::fs::read(&sig).expect("the .sig file");
    assert!(!bytes.starts_with(b"-----BEGIN"), "armored signature");
    assert!(gpg_verify(&home, &sig, &sums), "the signature must verify");
    assert!(gpg_verify(
        &home,
        &dist.join("SHA256SUMS.sig"),
        &dist.join("SHA256SUMS")
    ));

    // One changed byte in the sums and the signature no longer verifies.
    let mut text = std::fs::read(&sums).unwrap();
    text[0] = if text[0] == b'0' { b'1' } else { b'0' };
    std::fs::write(&sums, text).unwrap();
    assert!(
        !gpg_verify(&home, &sig, &sums),
        "a tampered file must not verify"
    );
}

#[test]
fn signing_refuses_a_key_the_registry_does_not_accept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("gnupg");
    let fingerprint = gpg_key(&home, "ed25519");
    let o = package_signed(&tmp.path().join("dist"), &home, &fingerprint);
    assert!(!o.status.success(), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("accepts only RSA or DSA keys"),
        "{}",
        describe(&o)
    );
}
