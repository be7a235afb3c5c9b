//! Generic list paging (arm-api.md 13.5): `{"value":[...],"nextLink":"<absolute URL with
//! $skipToken>"}`, `nextLink` omitted on the last page, never an empty string.

use serde_json::{Value, json};

use crate::error::ArmError;
use crate::util::query_get;

/// One page of `items`, starting at the request's `$skipToken` (an offset; opaque to
/// clients, as ARM's are).
pub fn page(
    items: Vec<Value>,
    query: &[(String, String)],
    page_size: usize,
    base_url: &str,
    path: &str,
) -> Result<Value, ArmError> {
    let skip = match query_get(query, "$skipToken") {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| ArmError::InvalidSkipToken(token.to_owned()))?,
    };
    let len = items.len();
    let start = skip.min(len);
    let end = start.saturating_add(page_size.max(1)).min(len);
    let value: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut body = json!({ "value": value });
    if end < len {
        body["nextLink"] = Value::String(next_link(base_url, path, query, end));
    }
    Ok(body)
}

fn next_link(base_url: &str, path: &str, query: &[(String, String)], skip: usize) -> String {
    let mut qs = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        if !k.eq_ignore_ascii_case("$skipToken") {
            qs.append_pair(k, v);
        }
    }
    let mut query = qs.finish();
    if !query.is_empty() {
        query.push('&');
    }
    // ARM writes the parameter name unescaped (`&$skipToken=`), as clients expect to see it.
    query.push_str(&format!("$skipToken={skip}"));
    format!("{base_url}{path}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pages_and_links() {
        let items: Vec<Value> = (0..3).map(|i| json!(i)).collect();
        let first = page(
            items.clone(),
            &q(&[("api-version", "v")]),
            2,
            "http://h",
            "/p",
        )
        .unwrap();
        assert_eq!(first["value"], json!([0, 1]));
        assert_eq!(first["nextLink"], "http://h/p?api-version=v&$skipToken=2");
        let second = page(
            items.clone(),
            &q(&[("api-version", "v"), ("$skipToken", "2")]),
            2,
            "http://h",
            "/p",
        )
        .unwrap();
        assert_eq!(second["value"], json!([2]));
        assert!(second.get("nextLink").is_none());
        let beyond = page(items.clone(), &q(&[("$skiptoken", "9")]), 2, "h", "/p").unwrap();
        assert_eq!(beyond["value"], json!([]));
        assert!(page(items, &q(&[("$skipToken", "x")]), 2, "h", "/p").is_err());
    }
}
