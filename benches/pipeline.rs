//! In-process time of each pipeline stage — parse, validate, lower, plan, render, write — for
//! the blog example and generated scenarios of 200, 2,000 and 20,000 grants
//! (`cargo bench --bench pipeline`; `-- lower` for one stage). Whole-process timings and memory
//! are measured by `benches/synth.sh`; the README (Benchmarks) has the figures.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use crossgrant::generate::{scenario, Shape};
use crossgrant::render::{render_all, Format, Options, Target, Templates};
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

// The allocator of the crossgrant binary, so stages are timed as they run there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The benchmark inputs: name and scenario text.
fn inputs() -> Vec<(&'static str, String)> {
    let generated = |buckets, roles, accounts, grants, team_size| {
        scenario(&Shape {
            seed: 1,
            buckets,
            roles,
            accounts,
            grants,
            team_size,
            declare_paths: true,
            ..Shape::default()
        })
        .0
    };
    vec![
        ("blog", include_str!("../examples/blog.toml").to_string()),
        ("grants-200", generated(10, 50, 10, 200, 5)),
        ("grants-2000", generated(40, 400, 40, 2_000, 10)),
        ("grants-20000", generated(100, 2_000, 100, 20_000, 10)),
    ]
}

/// What each stage starts from, computed once, on first use: a run filtered to one stage
/// (`cargo bench --bench pipeline -- grants-2000/lower`) prepares nothing else.
struct Prepared {
    text: String,
    model: crossgrant::model::Scenario,
    lowered: crossgrant::lower::Lowered,
    steps: Vec<crossgrant::plan::Step>,
    files: BTreeMap<PathBuf, String>,
}

const OPTIONS: Options = Options {
    target: Target::All,
    format: Format::Yaml,
};

fn prepare(name: &str, text: String) -> Prepared {
    let model = crossgrant::validate::validate(crossgrant::schema::parse(&text).expect("parses"))
        .expect("valid");
    let lowered = crossgrant::lower::lower(model.clone());
    assert!(lowered.budget.problems.is_empty(), "{name} must fit");
    let steps = crossgrant::plan::plan(&lowered).expect("no cycle");
    let templates = Templates::load(None).expect("embedded templates");
    let files = render_all(&templates, &lowered, &steps, OPTIONS).expect("renders");
    Prepared {
        text,
        model,
        lowered,
        steps,
        files,
    }
}

fn stages(c: &mut Criterion) {
    for (name, text) in inputs() {
        let prepared: OnceCell<Prepared> = OnceCell::new();
        let get = || prepared.get_or_init(|| prepare(name, text.clone()));
        let mut group = c.benchmark_group(name);
        if name == "grants-20000" {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(30));
        }
        group.bench_function(BenchmarkId::new("parse", name), |b| {
            let text = &get().text;
            b.iter(|| black_box(crossgrant::schema::parse(black_box(text)).unwrap()))
        });
        group.bench_function(BenchmarkId::new("validate", name), |b| {
            let text = &get().text;
            b.iter_batched(
                || crossgrant::schema::parse(text).unwrap(),
                |raw| black_box(crossgrant::validate::validate(raw).unwrap()),
                BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("lower", name), |b| {
            let model = &get().model;
            b.iter_batched(
                || model.clone(),
                |model| black_box(crossgrant::lower::lower(model)),
                BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("plan", name), |b| {
            let lowered = &get().lowered;
            b.iter(|| black_box(crossgrant::plan::plan(black_box(lowered)).unwrap()))
        });
        if name == "blog" {
            // Compiling the templates: once per process, whatever the scenario.
            group.bench_function(BenchmarkId::new("templates", name), |b| {
                b.iter(|| {
                    let templates = Templates::load(None).unwrap();
                    templates.compile_ahead(OPTIONS.target);
                    black_box(templates)
                })
            });
        }
        group.bench_function(BenchmarkId::new("render", name), |b| {
            let prepared = get();
            b.iter(|| {
                let templates = Templates::load(None).unwrap();
                black_box(
                    render_all(&templates, &prepared.lowered, &prepared.steps, OPTIONS).unwrap(),
                )
            })
        });
        group.bench_function(BenchmarkId::new("write", name), |b| {
            let files = &get().files;
            b.iter_batched(
                || tempfile::tempdir().unwrap(),
                |dir| {
                    crossgrant::output::write(&dir.path().join("out"), files).unwrap();
                    dir
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
