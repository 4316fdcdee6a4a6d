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
}
