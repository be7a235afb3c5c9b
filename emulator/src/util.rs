//! Small helpers shared by the modules: GUIDs, clocks and text formats.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// A new random GUID in ARM's lowercase hyphenated form.
pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// `2026-07-01T12:00:00.123456789Z`, the form ARM uses in bodies.
pub fn rfc3339(at: SystemTime) -> String {
    OffsetDateTime::from(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// `2026-07-01 12:00:00Z`: Entra's `timestamp` field and the `Timestamp:` line of its
/// `error_description` use this form (seen in real AADSTS error bodies).
pub fn entra_timestamp(at: SystemTime) -> String {
    OffsetDateTime::from(at)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap_or_else(|_| "1970-01-01 00:00:00Z".to_owned())
}

/// `x-ms-routing-request-id` as ARM sends it: `REGION:yyyymmddThhmmssZ:guid`
/// (arm-api.md 13.1 shows `WESTUS:20150306T234829Z:{guid}`).
pub fn routing_request_id(request_id: &str) -> String {
    let stamp = OffsetDateTime::now_utc()
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "19700101T000000Z".to_owned());
    format!("LOCALEMULATOR:{stamp}:{request_id}")
}

/// Percent-decodes one path segment or query value; invalid escapes are kept as they are.
pub fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// True when `s` is a GUID in any of the usual spellings ARM accepts for a subscription ID.
pub fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// Parses a query string into decoded pairs, keeping their order.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    match query {
        Some(q) if !q.is_empty() => url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        _ => Vec::new(),
    }
}

/// The first value of a query parameter, its name compared case-insensitively as ARM does.
pub fn query_get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%2Fx%2f"), "/x/");
        assert_eq!(percent_decode("bad%zzend%"), "bad%zzend%");
        assert_eq!(percent_decode("tail%4"), "tail%4");
    }

    #[test]
    fn guids() {
        assert!(is_guid("00000000-0000-0000-0000-000000000000"));
        assert!(!is_guid("not-a-guid"));
        assert!(!is_guid("00000000000000000000000000000000"));
    }

    #[test]
    fn timestamps_have_the_expected_shape() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(entra_timestamp(t), "2023-11-14 22:13:20Z");
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20Z");
        assert!(routing_request_id("x").starts_with("LOCALEMULATOR:"));
    }
}
