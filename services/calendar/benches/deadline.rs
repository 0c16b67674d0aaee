//! Deadline computations per second on one core, over a mix of the SPEC's periods on the shipped
//! calendars (Criterion reports the throughput as elements/s).

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use complaints_calendar::{deadline, CalendarSet, Interval, Period};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/calendars");
const BATCH: usize = 1_000;

/// Deterministic starts spread over 2025–2026 (a small LCG; no RNG dependency).
fn starts() -> Vec<DateTime<Utc>> {
    let base = Utc
        .with_ymd_and_hms(2025, 1, 3, 0, 0, 0)
        .single()
        .expect("instant");
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..BATCH)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            base + TimeDelta::seconds(((state >> 33) % (600 * 86_400)) as i64)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let set = CalendarSet::load_dir(CALENDARS).expect("calendars");
    let calendars = [
        set.get("cn").expect("cn"),
        set.get("gb-eaw").expect("gb"),
        set.get("us").expect("us"),
    ];
    let starts = starts();
    let spec_periods = [
        "1 working hour",
        "24 hours",
        "2 working days",
        "3 working days",
        "4 working days",
        "1 week",
        "15 days",
        "30 days",
        "60 days",
        "3 business days",
        "8 weeks",
        "15 business days",
        "35 business days",
    ]
    .map(|text| text.parse::<Period>().expect("period"));

    let mut group = c.benchmark_group("deadline");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("spec_mix", |b| {
        b.iter(|| {
            for (index, start) in starts.iter().enumerate() {
                let calendar = calendars[index % calendars.len()];
                let period = spec_periods[index % spec_periods.len()];
                black_box(deadline(calendar, *start, black_box(period), &[]).expect("covered"));
            }
        })
    });
    for text in ["3 working days", "1 working hour", "8 weeks", "24 hours"] {
        let period: Period = text.parse().expect("period");
        group.bench_function(text, |b| {
            b.iter(|| {
                for (index, start) in starts.iter().enumerate() {
                    black_box(
                        deadline(calendars[index % 3], *start, period, &[]).expect("covered"),
                    );
                }
            })
        });
    }
    let paused: Vec<[Interval; 1]> = starts
        .iter()
        .map(|start| {
            [
                Interval::new(*start + TimeDelta::hours(30), *start + TimeDelta::hours(80))
                    .expect("pause"),
            ]
        })
        .collect();
    group.bench_function("15 days with a pause", |b| {
        b.iter(|| {
            for (index, start) in starts.iter().enumerate() {
                black_box(
                    deadline(
                        calendars[index % 3],
                        *start,
                        Period::CalendarDays(15),
                        &paused[index],
                    )
                    .expect("covered"),
                );
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
