//! The Grafana dashboard's queries (configs/grafana/pulse-dashboard.json) as Prometheus runs
//! them: Grafana's variables replaced by what they stand for in a one-second-scrape test.

use serde_json::Value;

/// One query of one panel.
pub struct Query {
    pub panel: String,
    pub expr: String,
}

/// Every target's `expr` of every panel (rows' nested panels too), variables substituted.
pub fn queries() -> Vec<Query> {
    let path = super::repo().join("configs/grafana/pulse-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    collect(&dashboard["panels"], &mut out);
    out
}

fn collect(panels: &Value, out: &mut Vec<Query>) {
    for panel in panels.as_array().into_iter().flatten() {
        collect(&panel["panels"], out);
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                out.push(Query {
                    panel: panel["title"].as_str().unwrap_or("?").to_owned(),
                    expr: substitute(expr),
                });
            }
        }
    }
}

/// Grafana's variables as this test's Prometheus takes them: every instance, and windows that
/// hold several one-second scrapes.
fn substitute(expr: &str) -> String {
    expr.replace("${instance}", ".*")
        .replace("$instance", ".*")
        .replace("$__rate_interval", "10s")
        .replace("$__interval", "1s")
        .replace("$__range", "30s")
}
