//! Every catalogue entry reaches its expected verdict on its default instance (seeded).

use pespectra_theorems::{catalogue, run, Params, Verdict};

fn check(id: &str) {
    let expected = catalogue()
        .into_iter()
        .find(|e| e.id == id)
        .unwrap()
        .expected;
    let r = run(id, &Params::new(42, 48)).unwrap();
    eprintln!(
        "{id}: {:?} margin {:?} in {:.2}s — {}",
        r.verdict, r.margin, r.seconds, r.detail
    );
    assert_eq!(r.verdict, expected, "{id}: {}", r.detail);
    match r.verdict {
        Verdict::Holds => assert!(r.margin.unwrap() >= 0.0),
        Verdict::Fails => assert!(r.margin.unwrap() > 0.0),
        Verdict::Inconclusive => unreachable!(),
    }
}

macro_rules! default_instances {
    ($($name:ident => $id:literal),* $(,)?) => {
        $(#[test] fn $name() { check($id); })*
        /// The ids given a test above, in order.
        const TESTED: &[&str] = &[$($id),*];
    };
}

/// A registered entry without a default-instance test above fails here, so a new theorem
/// cannot land untested.
#[test]
fn every_catalogue_entry_has_its_default_instance_test() {
    let ids: Vec<&str> = catalogue().iter().map(|e| e.id).collect();
    assert_eq!(ids, TESTED, "add the new entry to default_instances!");
}

default_instances! {
    d1_default_instance => "D1", d2_default_instance => "D2",
    t1_default_instance => "T1", t2_default_instance => "T2", t3_default_instance => "T3",
    t4_default_instance => "T4", t5_default_instance => "T5", t6_default_instance => "T6",
    t7_default_instance => "T7", t8_default_instance => "T8", t9_default_instance => "T9",
    t10_default_instance => "T10",
    r1_default_instance => "R1", r2_default_instance => "R2", r3_default_instance => "R3",
    r4_default_instance => "R4", r5_default_instance => "R5", r6_default_instance => "R6",
}

#[test]
fn bad_parameters_are_errors() {
    assert!(run("T99", &Params::default()).is_err());
    assert!(run("T2", &Params::new(1, 1)).is_err());
    assert!(run("T2", &Params::new(1, 5000)).is_err());
}

/// Other seeds reach the same verdicts (the instances are random, the theorems are not).
#[test]
fn other_seeds() {
    for seed in [1u64, 7] {
        for id in ["T2", "T3", "T7", "R1", "R3"] {
            let e = catalogue()
                .into_iter()
                .find(|e| e.id == id)
                .unwrap()
                .expected;
            assert_eq!(
                run(id, &Params::new(seed, 24)).unwrap().verdict,
                e,
                "{id} seed {seed}"
            );
        }
    }
}
