//! Campaign determinism, sharding, merging and resumption.

use super::*;

#[test]
fn mix_is_splitmix64() {
    // reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c)
    assert_eq!(mix(0, 0), 0xE220_A839_7B1D_CDAF);
    assert_eq!(mix(0, 1), 0x6E78_9E6A_A1B9_65F4);
    let p = case_params(42, 7, 64);
    assert_eq!(p.seed, mix(42, 7));
    assert!((4..=64).contains(&p.n));
    assert!((0..1000).all(|k| case_params(1, k, 4).n == 4));
}

#[test]
fn shards_partition_the_cases() {
    for cases in [0u64, 1, 7, 100] {
        for count in 1..5u64 {
            let mut seen: Vec<u64> = (0..count)
                .flat_map(|index| {
                    let s = Shard { index, count };
                    (0..s.len(cases)).map(move |j| s.case(j))
                })
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..cases).collect::<Vec<_>>());
        }
    }
    assert!("1/0".parse::<Shard>().is_err() && "3/3".parse::<Shard>().is_err());
    assert_eq!(
        "1/3".parse::<Shard>().unwrap(),
        Shard { index: 1, count: 3 }
    );
}

#[test]
fn merged_shards_equal_the_unsharded_campaign() {
    let base = CampaignConfig {
        cases: 10,
        max_n: 10,
        jobs: Some(2),
        ..CampaignConfig::new("T5", 9)
    };
    let timeless = |mut r: CampaignReport| {
        r.seconds = 0.0;
        r
    };
    let full = timeless(run_campaign(&base, |_| {}).unwrap());
    let merged = (0..3)
        .map(|index| {
            let cfg = CampaignConfig {
                shard: Shard { index, count: 3 },
                jobs: Some(1),
                ..base.clone()
            };
            timeless(run_campaign(&cfg, |_| {}).unwrap())
        })
        .rev()
        .fold(CampaignReport::empty("T5"), CampaignReport::merge);
    assert_eq!(merged, full);
    assert_eq!(full.holds, 10);
}

#[test]
fn ok_rule() {
    let mut r = CampaignReport::empty("T3");
    r.cases = 2;
    r.holds = 1;
    r.inconclusive = 1;
    assert!(
        !r.ok(),
        "an INCONCLUSIVE case is not the expected verdict for a theorem"
    );
    r.holds = 2;
    r.inconclusive = 0;
    assert!(r.ok());
    let mut r = CampaignReport::empty("R1");
    r.cases = 3;
    r.inconclusive = 3;
    assert!(!r.ok(), "a false reading needs a certified counterexample");
    r.fails = 1;
    assert!(r.ok());
    assert_eq!(decimal_down(1.0 / 3.0), "3.33333e-1");
    assert_eq!(decimal_down(-1.0 / 3.0), "-3.33334e-1");
}
