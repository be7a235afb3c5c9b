//! Logs on stderr in hclog's JSON line shape, which go-plugin parses and folds into
//! Terraform's own log (`@level`, `@message`, `@timestamp`, `@module`, then key/values).
//!
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG` (TRACE, DEBUG, INFO, WARN, ERROR;
//! `JSON` means TRACE). With neither set Terraform shows no provider logs, so we write none:
//! that keeps start-up and every RPC cheap.

use std::io::Write;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, filter::LevelFilter};

/// The level Terraform asked for, from the environment (None = logging off).
pub fn level_from_env(lookup: impl Fn(&str) -> Option<String>) -> Option<Level> {
    let raw = lookup("TF_LOG_PROVIDER")
        .filter(|v| !v.is_empty())
        .or_else(|| lookup("TF_LOG").filter(|v| !v.is_empty()))?;
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        "OFF" => None,
        // Terraform treats unknown values as TRACE.
        _ => Some(Level::TRACE),
    }
}

/// Installs the global subscriber writing hclog JSON to stderr, if logging is on.
pub fn init_from_env() {
    let Some(level) = level_from_env(|k| std::env::var(k).ok()) else {
        return;
    };
    init(level, || Box::new(std::io::stderr()));
}

/// Installs the global subscriber with a given writer (tests use a buffer).
pub fn init<W>(level: Level, make_writer: W)
where
    W: Fn() -> Box<dyn Write> + Send + Sync + 'static,
{
    let layer = HclogLayer {
        make_writer: Box::new(make_writer),
    };
    let subscriber =
        tracing_subscriber::registry().with(layer.with_filter(LevelFilter::from_level(level)));
    let _ = tracing::subscriber::set_global_default(subscriber);
}

type MakeWriter = Box<dyn Fn() -> Box<dyn Write> + Send + Sync>;

/// A tracing layer writing one hclog JSON object per event.
pub struct HclogLayer {
    make_writer: MakeWriter,
}

impl HclogLayer {
    pub fn new<W: Fn() -> Box<dyn Write> + Send + Sync + 'static>(w: W) -> Self {
        HclogLayer {
            make_writer: Box::new(w),
        }
    }
}

struct JsonVisitor<'a> {
    message: Option<String>,
    fields: &'a mut Map<String, Json>,
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_string());
        } else {
            self.fields
                .insert(field.name().to_string(), Json::String(value.to_string()));
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields
            .insert(field.name().to_string(), Json::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields
            .insert(field.name().to_string(), Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields
            .insert(field.name().to_string(), Json::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields
            .insert(field.name().to_string(), Json::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.fields
                .insert(field.name().to_string(), Json::String(text));
        }
    }
}

fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

impl<S> Layer<S> for HclogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Map::new();
        let mut visitor = JsonVisitor {
            message: None,
            fields: &mut fields,
        };
        event.record(&mut visitor);
        let message = visitor.message.take().unwrap_or_default();
        let mut line = Map::new();
        line.insert(
            "@level".into(),
            Json::String(hclog_level(event.metadata().level()).into()),
        );
        line.insert("@message".into(), Json::String(message));
        line.insert(
            "@module".into(),
            Json::String("provider.terraform-provider-defender".into()),
        );
        line.insert("@timestamp".into(), Json::String(timestamp()));
        line.insert(
            "@target".into(),
            Json::String(event.metadata().target().into()),
        );
        line.extend(fields);
        let mut text = Json::Object(line).to_string();
        text.push('\n');
        let _ = (self.make_writer)().write_all(text.as_bytes());
    }
}

fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_prefers_tf_log_provider() {
        let env = |k: &str| match k {
            "TF_LOG" => Some("ERROR".to_string()),
            "TF_LOG_PROVIDER" => Some("debug".to_string()),
            _ => None,
        };
        assert_eq!(level_from_env(env), Some(Level::DEBUG));
        assert_eq!(level_from_env(|_| None), None);
        assert_eq!(
            level_from_env(|k| (k == "TF_LOG").then(|| "json".into())),
            Some(Level::TRACE)
        );
        assert_eq!(
            level_from_env(|k| (k == "TF_LOG").then(|| "off".into())),
            None
        );
    }

    #[test]
    fn events_are_hclog_json_lines() {
        use std::sync::{Arc, Mutex};
        let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = buf.clone();
        let layer = HclogLayer::new(move || Box::new(SharedBuf(sink.clone())));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(rpc = "PlanResourceChange", attempt = 2, "planning");
        });
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        let line: Json = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["@level"], "info");
        assert_eq!(line["@message"], "planning");
        assert_eq!(line["rpc"], "PlanResourceChange");
        assert_eq!(line["attempt"], 2);
        assert!(line["@timestamp"].as_str().unwrap().ends_with('Z'));
    }

    struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
