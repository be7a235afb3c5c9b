#!/usr/bin/env bash
# Builds the files the Terraform Registry takes for a release, as goreleaser does for
# HashiCorp's providers:
#
#   dist/terraform-provider-defender_{VERSION}_{OS}_{ARCH}.zip   one binary each,
#        named terraform-provider-defender_v{VERSION}[.exe], mode 0755
#   dist/terraform-provider-defender_{VERSION}_manifest.json     (= terraform-registry-manifest.json)
#   dist/terraform-provider-defender_{VERSION}_SHA256SUMS        sha256 of the zips and the manifest
#   dist/SHA256SUMS                                              the same, short name
#   dist/terraform-provider-defender_{VERSION}_SHA256SUMS.sig    detached GPG signature of the sums
#                                                                (binary, as the registry wants), made
#                                                                when GPG_FINGERPRINT names a secret key
#   dist/terraform-registry-manifest.json                        protocol 6.0
#
# Usage:
#   scripts/release.sh VERSION                       release-build every target that cross-compiles
#                                                     here, then package (dist/ is emptied first)
#   scripts/release.sh --package VERSION OS ARCH BINARY [DIST]
#                                                     package one already-built binary into DIST
#                                                     (default dist/) and rewrite the checksums;
#                                                     tests use it on the debug binary
#
# Environment:
#   GPG_FINGERPRINT  (as in HashiCorp's goreleaser set-up) signs the checksums with
#                    `gpg --batch --local-user $GPG_FINGERPRINT --detach-sign`. The Terraform Registry
#                    accepts only RSA and DSA keys, so a key of another kind is refused here rather
#                    than at publication. A full release without it is built but says it is unsigned.
#   RELEASE_TARGETS  "x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu ..." picks the targets;
#                    then a target that cannot be built is an error instead of a skip.
#   CARGO_TARGET_DIR is honoured (a separate one keeps a long release build from holding the
#                    workspace's build lock).
#   SOURCE_DATE_EPOCH (default: the last commit's time) fixes the zip entries' timestamps, so the
#                    same binary gives the same zip.
#
# Cross toolchains: `rustup target add aarch64-unknown-linux-gnu` + Debian's gcc-aarch64-linux-gnu;
# `rustup target add x86_64-pc-windows-gnu` + gcc-mingw-w64-x86-64. darwin needs Apple's SDK
# (osxcross): reqwest's rustls-platform-verifier links Security.framework and CoreFoundation so
# that macOS users' own trust store (corporate proxies' CAs) is honoured, and zig's darwin sysroot
# (cargo-zigbuild, tried 2026-11-23) has no framework stubs. darwin targets are skipped unless a
# linker is given (CARGO_TARGET_<TRIPLE>_LINKER).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
name=terraform-provider-defender

die() { echo "release: $*" >&2; exit 1; }

check_version() {
  [[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "VERSION must be semver without a v (e.g. 0.1.0), not '$1'"
}

host_platform() {
  local arch
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  echo "$(uname -s | tr '[:upper:]' '[:lower:]')_$arch"
}

# package VERSION OS ARCH BINARY DIST: one zip, then the manifest and checksums of DIST.
package() {
  local version=$1 os=$2 arch=$3 binary=$4 dist=$5
  check_version "$version"
  [ -f "$binary" ] || die "no binary at $binary"
  case "$os" in linux|darwin|windows|freebsd|openbsd) ;; *) die "unknown OS '$os'" ;; esac
  case "$arch" in amd64|arm64|386|arm) ;; *) die "unknown ARCH '$arch'" ;; esac
  # A binary that runs here must say the version it is released as.
  if [ "${os}_$arch" = "$(host_platform)" ]; then
    local says
    says=$("$binary" --version | awk '{print $2}')
    [ "$says" = "$version" ] || die "$binary says version $says, not $version"
  fi
  local exe="${name}_v$version" zip="${name}_${version}_${os}_${arch}.zip"
  [ "$os" = windows ] && exe="$exe.exe"
  mkdir -p "$dist"
  dist=$(cd "$dist" && pwd)
  local stage
  stage=$(mktemp -d)
  cp "$binary" "$stage/$exe"
  chmod 0755 "$stage/$exe"
  local epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 315532800)}
  touch -d "@$epoch" "$stage/$exe"
  rm -f "$dist/$zip"
  (cd "$stage" && zip -q -X -9 "$dist/$zip" "$exe")
  rm -rf "$stage"
  echo "$dist/$zip"
  checksums "$version" "$dist"
}

# checksums VERSION DIST: the registry manifest and SHA256SUMS over every zip of VERSION.
checksums() {
  local version=$1 dist=$2
  cp "$root/terraform-registry-manifest.json" "$dist/terraform-registry-manifest.json"
  cp "$root/terraform-registry-manifest.json" "$dist/${name}_${version}_manifest.json"
  (
    cd "$dist"
    shopt -s nullglob
    local files=("${name}_${version}"_*.zip "${name}_${version}_manifest.json")
    sha256sum "${files[@]}" | LC_ALL=C sort -k2 > "${name}_${version}_SHA256SUMS"
  )
  cp "$dist/${name}_${version}_SHA256SUMS" "$dist/SHA256SUMS"
  rm -f "$dist/${name}_${version}_SHA256SUMS.sig" "$dist/SHA256SUMS.sig"
  [ -n "${GPG_FINGERPRINT:-}" ] && sign "$version" "$dist"
  return 0
}

# sign VERSION DIST: a detached binary signature of the checksums with GPG_FINGERPRINT's key.
sign() {
  local version=$1 dist=$2 algo
  command -v gpg >/dev/null || die "GPG_FINGERPRINT is set but gpg is not installed"
  # Field 4 of the `pub` record: 1 = RSA, 17 = DSA (RFC 4880 public-key algorithm ids).
  algo=$(gpg --batch --with-colons --list-secret-keys "$GPG_FINGERPRINT" 2>/dev/null | awk -F: '$1=="sec"{print $4; exit}')
  [ -n "$algo" ] || die "no secret key for GPG_FINGERPRINT=$GPG_FINGERPRINT in ${GNUPGHOME:-~/.gnupg}"
  case "$algo" in 1|17) ;; *) die "the key $GPG_FINGERPRINT uses algorithm $algo; the Terraform Registry accepts only RSA or DSA keys" ;; esac
  gpg --batch --yes --local-user "$GPG_FINGERPRINT" --output "$dist/${name}_${version}_SHA256SUMS.sig" \
    --detach-sign "$dist/${name}_${version}_SHA256SUMS" 2>/dev/null \
    || die "gpg could not sign with $GPG_FINGERPRINT (a passphrase-protected key needs gpg-agent with the passphrase preset)"
  cp "$dist/${name}_${version}_SHA256SUMS.sig" "$dist/SHA256SUMS.sig"
}

# triple -> "os arch linker-env-name default-linker"
target_info() {
  case "$1" in
    x86_64-unknown-linux-gnu)  echo "linux amd64 x86_64-linux-gnu-gcc" ;;
    aarch64-unknown-linux-gnu) echo "linux arm64 aarch64-linux-gnu-gcc" ;;
    x86_64-pc-windows-gnu)     echo "windows amd64 x86_64-w64-mingw32-gcc" ;;
    x86_64-apple-darwin)       echo "darwin amd64 -" ;;
    aarch64-apple-darwin)      echo "darwin arm64 -" ;;
    *) return 1 ;;
  esac
}

host_triple() { rustc -vV | sed -n 's/^host: //p'; }

# build TRIPLE: release-builds the provider for TRIPLE; prints the binary's path.
build() {
  local triple=$1 info os arch linker var
  info=$(target_info "$triple") || die "unsupported target $triple"
  read -r os arch linker <<< "$info"
  var="CARGO_TARGET_$(echo "$triple" | tr '[:lower:]-' '[:upper:]_')_LINKER"
  local env=()
  if [ "$triple" != "$(host_triple)" ]; then
    rustup target list --installed | grep -qx "$triple" || { echo "rust target $triple not installed (rustup target add $triple)"; return 2; }
    local chosen=${!var:-}
    if [ -z "$chosen" ]; then
      [ "$linker" != - ] && command -v "$linker" >/dev/null || { echo "no linker for $triple (set $var)"; return 2; }
      chosen=$linker
    fi
    # The linker for rustc, and the C compiler for aws-lc-sys / ring's build scripts.
    env=("$var=$chosen" "CC_$(echo "$triple" | tr - _)=$chosen")
  fi
  env "${env[@]}" cargo build --quiet --release --locked -p "$name" --bin "$name" --target "$triple" >&2 \
    || { echo "cargo build --target $triple failed"; return 3; }
  local exe="${CARGO_TARGET_DIR:-$root/target}/$triple/release/$name"
  [ "$os" = windows ] && exe="$exe.exe"
  echo "$exe"
}

release() {
  local version=$1
  check_version "$version"
  local crate
  crate=$(cargo metadata --no-deps --format-version 1 --manifest-path "$root/Cargo.toml" \
    | python3 -c "import json,sys; print(next(p['version'] for p in json.load(sys.stdin)['packages'] if p['name']=='$name'))")
  [ "$crate" = "$version" ] || die "the crate is at version $crate, not $version: bump Cargo.toml first"
  grep -q "^## \[$version\]" "$root/CHANGELOG.md" || die "CHANGELOG.md has no '## [$version]' section"

  local strict=0 targets
  if [ -n "${RELEASE_TARGETS:-}" ]; then
    strict=1; targets=$RELEASE_TARGETS
  else
    targets="x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-pc-windows-gnu x86_64-apple-darwin aarch64-apple-darwin"
  fi
  local dist="$root/dist"
  rm -rf "$dist" && mkdir -p "$dist"
  local built=() skipped=()
  for triple in $targets; do
    local info os arch out rc
    info=$(target_info "$triple") || die "unsupported target $triple"
    read -r os arch _ <<< "$info"
    echo "==> $triple ($os/$arch)" >&2
    set +e
    out=$(build "$triple")
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
      [ $strict = 1 ] && die "$triple: $out"
      echo "    skipped: $out" >&2
      skipped+=("$triple ($out)")
      continue
    fi
    package "$version" "$os" "$arch" "$out" "$dist" > /dev/null
    built+=("${os}_$arch")
  done
  [ ${#built[@]} -gt 0 ] || die "nothing was built"
  echo "built: ${built[*]}" >&2
  [ ${#skipped[@]} -eq 0 ] || printf 'skipped: %s\n' "${skipped[@]}" >&2
  (cd "$dist" && sha256sum -c --quiet SHA256SUMS)
  if [ -n "${GPG_FINGERPRINT:-}" ]; then
    gpg --batch --verify "$dist/SHA256SUMS.sig" "$dist/SHA256SUMS" 2>/dev/null || die "the signature does not verify"
  else
    echo "unsigned: set GPG_FINGERPRINT to sign SHA256SUMS for the registry" >&2
  fi
  ls -l "$dist" >&2
}

case "${1:-}" in
  --package)
    [ $# -ge 5 ] || die "usage: $0 --package VERSION OS ARCH BINARY [DIST]"
    package "$2" "$3" "$4" "$5" "${6:-$root/dist}"
    ;;
  ""|-h|--help)
    sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'
    [ -n "${1:-}" ]
    ;;
  *)
    [ $# -eq 1 ] || die "usage: $0 VERSION"
    release "$1"
    ;;
esac
