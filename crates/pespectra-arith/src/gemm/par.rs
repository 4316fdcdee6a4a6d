//! The thread policy of the verification products and of the passes around them.

use faer::Par;

/// Parallelism for verification GEMMs of dimension about `n`: sequential below 192, where
/// starting threads costs more than it saves (and callers such as campaigns already run many
/// checks in parallel), otherwise every thread of the current Rayon pool (so a caller's
/// `ThreadPool::install` or `RAYON_NUM_THREADS` is respected).
pub fn par_for(n: usize) -> Par {
    if n < 192 {
        Par::Seq
    } else {
        Par::rayon(rayon::current_num_threads())
    }
}

/// How many columns each task of an O(rows·cols) pass takes: all of them when `par` is
/// sequential (one task, run on the calling thread), else about four tasks per thread.
pub(crate) fn column_chunk(ncols: usize, par: Par) -> usize {
    let tasks = match par {
        Par::Seq => 1,
        Par::Rayon(threads) => 4 * threads.get(),
    };
    ncols.div_ceil(tasks).max(1)
}

/// `f(j0, j1)` over the column blocks `[j0, j1)` of `chunk` columns (see [`column_chunk`]),
/// combined by `merge` in block order; a single block runs on the calling thread.
pub(crate) fn map_column_blocks<T: Send>(
    ncols: usize,
    chunk: usize,
    f: impl Fn(usize, usize) -> T + Sync,
    merge: impl Fn(T, T) -> T,
) -> T {
    use rayon::prelude::*;
    let blocks = ncols.div_ceil(chunk);
    if blocks <= 1 {
        return f(0, ncols);
    }
    (0..blocks)
        .into_par_iter()
        .map(|t| f(t * chunk, ((t + 1) * chunk).min(ncols)))
        .collect::<Vec<_>>()
        .into_iter()
        .reduce(merge)
        .expect("at least two blocks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_problems_stay_sequential_and_large_ones_use_the_pool() {
        assert!(matches!(par_for(10), Par::Seq));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| match par_for(4096) {
            Par::Rayon(t) => assert_eq!(t.get(), 3),
            Par::Seq => panic!("a large product should use the pool"),
        });
    }

    #[test]
    fn chunks_cover_every_column() {
        assert_eq!(column_chunk(100, Par::Seq), 100);
        assert_eq!(column_chunk(0, Par::Seq), 1);
        let c = column_chunk(101, Par::rayon(2));
        assert_eq!(c, 13);
        assert!(c * 8 >= 101);
    }

    #[test]
    fn blocks_are_merged_in_order() {
        let cols = |j0: usize, j1: usize| (j0..j1).collect::<Vec<_>>();
        let cat = |mut a: Vec<usize>, b: Vec<usize>| {
            a.extend(b);
            a
        };
        assert_eq!(
            map_column_blocks(101, 13, cols, cat),
            (0..101).collect::<Vec<_>>()
        );
        assert_eq!(
            map_column_blocks(5, 13, cols, cat),
            (0..5).collect::<Vec<_>>()
        );
    }
}
