//! Helpers shared by the fuzz targets: derive a cty [`Type`] from the first input bytes, so
//! one input drives both the schema and the encoded value.

use std::collections::{BTreeMap, BTreeSet};

use defender::protocol::value::{Type, Value, decode_msgpack, encode_json, encode_msgpack};

/// Nesting of the derived type (values nest further through dynamic positions).
const MAX_TYPE_DEPTH: u32 = 4;

/// Splits `data` into a type (read from its leading bytes) and the remaining bytes.
pub fn split_type(data: &[u8]) -> (Type, &[u8]) {
    let mut rest = data;
    let ty = next_type(&mut rest, 0);
    (ty, rest)
}

fn leaf(b: u8) -> Type {
    match b % 4 {
        0 => Type::Bool,
        1 => Type::Number,
        2 => Type::String,
        _ => Type::Dynamic,
    }
}

fn next_type(rest: &mut &[u8], depth: u32) -> Type {
    let Some((&b, tail)) = rest.split_first() else {
        return Type::String;
    };
    *rest = tail;
    if depth >= MAX_TYPE_DEPTH {
        return leaf(b);
    }
    let count = usize::from(b / 9 % 4);
    match b % 9 {
        0..=3 => leaf(b),
        4 => Type::List(Box::new(next_type(rest, depth + 1))),
        5 => Type::Set(Box::new(next_type(rest, depth + 1))),
        6 => Type::Map(Box::new(next_type(rest, depth + 1))),
        7 => {
            let attrs: BTreeMap<String, Type> = (0..count)
                .map(|i| {
                    (
                        ["a", "b", "c", "d"][i].to_owned(),
                        next_type(rest, depth + 1),
                    )
                })
                .collect();
            Type::Object {
                attrs,
                optional: BTreeSet::new(),
            }
        }
        _ => Type::Tuple((0..count).map(|_| next_type(rest, depth + 1)).collect()),
    }
}

/// Whatever a decoder accepted must be a valid value of the type: it re-encodes as msgpack
/// and decodes to itself, and (when wholly known and finite) the same through JSON.
pub fn check_decoded(v: &Value, ty: &Type) {
    let enc = match encode_msgpack(v, ty) {
        Ok(enc) => enc,
        Err(e) => panic!("decoded value does not re-encode: {e}: {v:?}"),
    };
    match decode_msgpack(&enc, ty) {
        Ok(back) => assert_eq!(&back, v, "msgpack round trip changed the value"),
        Err(e) => panic!("re-encoded value does not decode: {e}: {v:?}"),
    }
    if let Ok(json) = encode_json(v, ty) {
        match defender::protocol::value::decode_json(&json, ty) {
            Ok(back) => assert_eq!(&back, v, "JSON round trip changed the value"),
            Err(e) => panic!("JSON-encoded value does not decode: {e}: {v:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ARM response parsing, typed IDs, template rendering (issue 7). Each `fuzz_*` function is one
// target's body: the libFuzzer binaries in fuzz_targets/ call it, and so do the stable-toolchain
// runs in `tests` below (corpus + mutations for a bounded time), so the harnesses run in CI
// without nightly.

use defender::arm::client::fuzzing;
use serde_json::Value as Json;

/// Splits `data` at the first `sep` byte (the whole input and nothing when there is none).
fn split(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == sep) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// `status(2 bytes) headers '\n'-separated "k: v" lines '\0' body`: the error an answer becomes
/// names a status and a non-empty code, and its Display never panics; Retry-After is never
/// negative; a JSON body also goes through the page and LRO parsers; redaction never shows a
/// secret-named field's value.
pub fn fuzz_arm_response(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let status = 400 + u16::from_be_bytes([data[0], data[1]]) % 200;
    let (head, body) = split(&data[2..], 0);
    let headers: Vec<(String, String)> = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let e = fuzzing::error_from_answer(status, &headers, body);
    assert_eq!(e.status(), Some(status));
    assert!(e.code().is_some_and(|c| !c.is_empty()), "{e:?}");
    let shown = e.to_string();
    assert!(shown.contains(&format!("status {status}")), "{shown}");
    let _ = e.is_retryable();
    let _ = fuzzing::retry_headers(&headers);
    if let Ok(v) = serde_json::from_slice::<Json>(body) {
        if let Ok((items, next)) = fuzzing::page(&v) {
            assert!(next.as_deref().is_none_or(|n| !n.trim().is_empty()));
            let _ = items.len();
        }
        let (state, terminal, _, _) = fuzzing::lro_status(&v);
        assert!(!terminal || state.is_some());
        // Redaction: the value of every secret-named string field is gone.
        let redacted = fuzzing::redact(body);
        if let Some(obj) = v.as_object() {
            for (k, val) in obj {
                if let Some(s) = val.as_str()
                    && ["client_secret", "access_token", "password", "token"]
                        .iter()
                        .any(|n| k.eq_ignore_ascii_case(n))
                    && s.len() >= 8
                    && !"***".contains(s)
                {
                    assert!(
                        !redacted.contains(&serde_json::to_string(s).unwrap()),
                        "{redacted}"
                    );
                }
            }
        }
    }
}

/// Arbitrary text through every typed ID parser: whatever parses displays in a form that
/// parses back to the same ID.
pub fn fuzz_ids(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let s = text.as_ref();
    macro_rules! check {
        ($($ty:ty),* $(,)?) => {$(
            if let Ok(id) = <$ty>::parse(s) {
                let shown = id.to_string();
                let back = <$ty>::parse(&shown).unwrap_or_else(|e| panic!("{s:?} → {shown:?}: {e}"));
                assert_eq!(back.to_string(), shown);
            }
        )*};
    }
    use defender::arm::{
        AutoProvisioningSettingId, PricingId, ResourceId, Scope, SettingId, SubscriptionId,
    };
    use defender::resources::policy_common::{PolicyAssignmentId, RemediationId};
    use defender::resources::workspace_ids::{
        DataConnectorId, DataSourceId, SolutionId, WorkspaceId, WorkspaceSettingId,
    };
    check!(
        ResourceId,
        SubscriptionId,
        Scope,
        AutoProvisioningSettingId,
        PricingId,
        SettingId,
        PolicyAssignmentId,
        RemediationId,
        WorkspaceId,
        WorkspaceSettingId,
        DataSourceId,
        SolutionId,
        DataConnectorId,
    );
}

/// Template rendering inputs: `key '\n' scope '\n' name '\n' parameters-JSON`. The key picks a
/// catalog entry (or is taken as a definition ID); rendering either refuses the input with an
/// error or produces requests whose first is the assignment PUT at `{scope}/providers/…`.
pub fn fuzz_render(data: &[u8]) {
    use defender::catalog::render::{AssignmentInput, PolicyRef, assignment_requests};
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let key = parts.next().unwrap_or_default();
    let scope = parts.next().unwrap_or_default();
    let name = parts.next().unwrap_or_default();
    let params = parts.next().unwrap_or_default();
    let entries = defender::catalog::entries();
    let policy = match key.as_bytes().first() {
        Some(b) if !key.starts_with('/') && !entries.is_empty() => {
            PolicyRef::Entry(&entries[usize::from(*b) % entries.len()])
        }
        _ => match PolicyRef::parse(key) {
            Ok(p) => p,
            Err(_) => return,
        },
    };
    let mut input = AssignmentInput::new(policy, scope, name);
    input.location = Some("westeurope".into());
    if let Ok(Json::Object(map)) = serde_json::from_str::<Json>(params) {
        if let Some(e) = input.policy.entry() {
            let _ = e.check_parameters(&map);
        }
        input.parameters = map;
    }
    if let Ok(requests) =
        assignment_requests(&input, "00000000-0000-0000-0000-000000000000", None, "g")
    {
        let first = requests.first().expect("the assignment request");
        assert_eq!(first.method, "PUT");
        assert!(first.path.starts_with(scope), "{} vs {scope}", first.path);
        assert!(first.body.is_object());
    }
}

#[cfg(test)]
mod tests {
    //! Stable-toolchain runs of every target: the committed corpus, then mutations of it from a
    //! fixed-seed generator for `FUZZ_SECS` seconds per target (default 2).

    use std::path::Path;
    use std::time::{Duration, Instant};

    fn corpus(target: &str) -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target);
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.push(Vec::new());
        out
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    const DICT: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"null",
        b"\"value\"",
        b"\"nextLink\"",
        b"\"error\"",
        b"\"code\"",
        b"\"message\"",
        b"\"details\"",
        b"\"status\"",
        b"\"provisioningState\"",
        b"\"Failed\"",
        b"\"Succeeded\"",
        b"/subscriptions/",
        b"/resourceGroups/",
        b"/providers/",
        b"Microsoft.Security",
        b"retry-after: ",
        b"\n",
        b"\0",
        b"\xff",
        b"%",
        b"(",
        b")",
        b"00000000-0000-0000-0000-000000000000",
    ];

    fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(v.len() + 1);
            match rng.below(4) {
                0 if !v.is_empty() => {
                    let end = (at + rng.below(8)).min(v.len());
                    v.drain(at.min(end)..end);
                }
                1 => {
                    let d = DICT[rng.below(DICT.len())];
                    v.splice(at..at, d.iter().copied());
                }
                2 if !v.is_empty() => {
                    let i = rng.below(v.len());
                    v[i] = rng.next() as u8;
                }
                _ => v.insert(at, rng.next() as u8),
            }
        }
        v
    }

    fn run(target: &str, f: fn(&[u8])) {
        let secs = std::env::var("FUZZ_SECS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(2);
        let seeds = corpus(target);
        for s in &seeds {
            f(s);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < Duration::from_secs(secs) {
            let pick = rng.below(seeds.len());
            let input = mutate(&mut rng, &seeds[pick]);
            f(&input);
            n += 1;
        }
        eprintln!(
            "{target}: {} corpus inputs + {n} mutations, no panic",
            seeds.len()
        );
    }

    #[test]
    fn arm_response() {
        run("arm_response", super::fuzz_arm_response);
    }

    #[test]
    fn ids_parse() {
        run("ids_parse", super::fuzz_ids);
    }

    #[test]
    fn render_assignment() {
        run("render_assignment", super::fuzz_render);
    }

    #[test]
    fn json_decode() {
        run("json_decode", |d| {
            let (ty, rest) = super::split_type(d);
            if let Ok(v) = defender::protocol::value::decode_json(rest, &ty) {
                super::check_decoded(&v, &ty);
            }
        });
    }

    #[test]
    fn msgpack_decode() {
        run("msgpack_decode", |d| {
            let (ty, rest) = super::split_type(d);
            if let Ok(v) = super::decode_msgpack(rest, &ty) {
                super::check_decoded(&v, &ty);
            }
        });
    }

    #[test]
    fn state_json_decode() {
        run("state_json_decode", |d| {
            let (ty, rest) = super::split_type(d);
            if let Ok(v) = defender::protocol::value::decode_state_json(rest, &ty) {
                super::check_decoded(&v, &ty);
            }
        });
    }
}
