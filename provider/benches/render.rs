//! Microbenchmarks of template rendering (issue 6, item 5): the policy assignment body and the
//! whole request list (assignment + role assignments) of a DINE catalog entry.
//!
//! `cargo bench -p terraform-provider-defender --features bench --bench render`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use defender::catalog::lookup;
use defender::catalog::render::{
    AssignmentInput, PolicyRef, assignment_requests, policy_assignment_body,
};

const SUB: &str = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23";
const WORKSPACE: &str = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law";

fn render(c: &mut Criterion) {
    let entry = lookup("defender-containers-aks").expect("catalog entry");
    let mut input = AssignmentInput::new(PolicyRef::Entry(entry), SUB, "aks");
    input.location = Some("westeurope".into());
    input.description = Some("quote \" backslash \\ {{handlebars}}".into());
    input.parameters = serde_json::json!({ "logAnalyticsWorkspaceResourceId": WORKSPACE })
        .as_object()
        .unwrap()
        .clone();
    let principal = "00000000-0000-0000-0000-000000000000";
    let requests = assignment_requests(&input, principal, None, "1").expect("renders");
    assert!(!requests.is_empty());

    let mut g = c.benchmark_group("render/defender-containers-aks");
    g.bench_function("policy_assignment_body", |b| {
        b.iter(|| policy_assignment_body(black_box(&input)).unwrap())
    });
    g.bench_function("assignment_requests", |b| {
        b.iter(|| assignment_requests(black_box(&input), principal, None, "1").unwrap())
    });
    g.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
