//! Which GEMM computes the verification products: the system's OpenBLAS when it can be loaded
//! at run time, faer otherwise.
//!
//! On the x86 machines measured (Intel Xeon with AVX-512, n = 2048 f64, 2 threads) Debian's
//! OpenBLAS 0.3.21 `dgemm` runs at 143 GFLOP/s against faer's ≈ 95, and the split products of a
//! verified eigendecomposition are almost all GEMM time. The library is opened with `dlopen`, so
//! pespectra builds and runs without it; `PESPECTRA_BLAS` chooses: unset tries
//! `libopenblas.so.0`, `libopenblas.so` and `libopenblas.dylib`; `faer` (or `off`) never loads
//! one; anything else is the file to load.
//!
//! A library found by default is used only when its kernels fit the CPU: a `DYNAMIC_ARCH`
//! OpenBLAS older than the CPU falls back to its SSE3 "Prescott" kernels (Debian's 0.3.21 does
//! on the family 6 model 207 Xeon, where its `dgemm` is then 2.3× slower than faer), so on a CPU
//! with AVX2 only the AVX2/AVX-512 kernel families are accepted ([`kernels_fit`]); otherwise
//! the products run on faer and [`gemm_description`] says why (`OPENBLAS_CORETYPE` makes such a
//! build use a named kernel family). A library named in `PESPECTRA_BLAS` is used as it is.
//!
//! **Rounding assumptions.** OpenBLAS's `dgemm` is a classical blocked GEMM: every entry of
//! `αAB + βC` with `α = 1`, `β ∈ {0, 1}` is `C` (when `β = 1`) plus the `k` products summed in
//! some order, each multiply, add or FMA correctly rounded to nearest in binary64 with gradual
//! underflow (OpenBLAS sets neither FTZ nor DAZ). That is exactly what [`super`]'s bounds assume
//! of faer, so they hold for either backend; a library using a Strassen-like algorithm or reduced
//! precision would break them, which is why only OpenBLAS is looked for by default (a file named in
//! `PESPECTRA_BLAS` must export OpenBLAS's thread control as well as `cblas_dgemm`).

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::ReborrowMut;
use faer::{Accum, MatMut, MatRef, Par};
use std::cell::Cell;
use std::ffi::{c_char, c_int, CStr};
use std::sync::{Mutex, OnceLock};

/// The two GEMMs the products can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// faer's GEMM (always available).
    Faer,
    /// The system OpenBLAS, loaded at run time.
    SystemBlas,
}

/// Why the system BLAS is not in use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("system BLAS unavailable: {0}")]
pub struct BlasUnavailable(pub String);

type Dgemm = unsafe extern "C" fn(
    c_int, // order
    c_int, // transa
    c_int, // transb
    c_int, // m
    c_int, // n
    c_int, // k
    f64,   // alpha
    *const f64,
    c_int, // lda
    *const f64,
    c_int, // ldb
    f64,   // beta
    *mut f64,
    c_int, // ldc
);
type SetThreads = unsafe extern "C" fn(c_int);
type GetString = unsafe extern "C" fn() -> *const c_char;

const COL_MAJOR: c_int = 102;
const NO_TRANS: c_int = 111;
const TRANS: c_int = 112;

/// An opened OpenBLAS. Calls are serialised: its thread count is process-wide state.
struct SystemBlas {
    dgemm: Dgemm,
    set_threads: SetThreads,
    description: String,
    /// `openblas_get_corename()`: the kernel family chosen at load time.
    core: String,
    /// Whether unforced products run on it: named by `PESPECTRA_BLAS`, or found by default with
    /// kernels that fit this CPU (decided once, at load time).
    preferred: bool,
    lock: Mutex<()>,
    _lib: libloading::Library,
}

impl SystemBlas {
    fn open(name: &str, explicit: bool) -> Result<Self, String> {
        // SAFETY: loading a shared library runs its initialisers; OpenBLAS's only start its
        // thread pool. The symbols are looked up with the signatures of OpenBLAS's cblas.h.
        unsafe {
            let lib =
                libloading::Library::new(name).map_err(|e| format!("{name}: {}", describe(&e)))?;
            let dgemm = *lib
                .get::<Dgemm>(b"cblas_dgemm\0")
                .map_err(|e| format!("{name}: {}", describe(&e)))?;
            let set_threads = *lib
                .get::<SetThreads>(b"openblas_set_num_threads\0")
                .map_err(|e| format!("{name} is not OpenBLAS: {}", describe(&e)))?;
            let text = |sym: &[u8]| {
                lib.get::<GetString>(sym).ok().map(|f| {
                    let p = f();
                    if p.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(p).to_string_lossy().trim().to_string()
                    }
                })
            };
            let config = text(b"openblas_get_config\0").unwrap_or_default();
            let core = text(b"openblas_get_corename\0").unwrap_or_default();
            let description = if config.contains(&core) {
                format!("{config} from {name}")
            } else {
                format!("{config} ({core}) from {name}")
            };
            Ok(SystemBlas {
                dgemm,
                set_threads,
                description,
                preferred: explicit || kernels_fit(&core, cpu_has_avx2()),
                core,
                lock: Mutex::new(()),
                _lib: lib,
            })
        }
    }
}

/// libloading's error with the system's reason (kept in its `source`).
fn describe(e: &libloading::Error) -> String {
    match std::error::Error::source(e) {
        Some(why) => format!("{e}: {why}"),
        None => e.to_string(),
    }
}

/// Why no system BLAS is loaded, and whether `PESPECTRA_BLAS` named the library that failed.
struct Unloaded {
    reason: String,
    requested: bool,
}

fn loaded() -> &'static Result<SystemBlas, Unloaded> {
    static BLAS: OnceLock<Result<SystemBlas, Unloaded>> = OnceLock::new();
    BLAS.get_or_init(|| {
        let (names, explicit): (Vec<String>, bool) = match std::env::var("PESPECTRA_BLAS") {
            Ok(v) if v == "faer" || v == "off" => {
                return Err(Unloaded {
                    reason: format!("PESPECTRA_BLAS={v} selects faer"),
                    requested: false,
                })
            }
            Ok(v) if !v.is_empty() => (vec![v], true),
            _ => (
                ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]
                    .map(String::from)
                    .to_vec(),
                false,
            ),
        };
        let mut errors = Vec::new();
        for name in &names {
            match SystemBlas::open(name, explicit) {
                Ok(b) => return Ok(b),
                Err(e) => errors.push(e),
            }
        }
        Err(Unloaded {
            reason: errors.join("; "),
            requested: explicit,
        })
    })
}

fn system_blas() -> Result<&'static SystemBlas, BlasUnavailable> {
    loaded()
        .as_ref()
        .map_err(|e| BlasUnavailable(e.reason.clone()))
}

/// Why the library named in `PESPECTRA_BLAS` could not be loaded (`None` when none was named,
/// or it loaded): the products then run on faer, which a caller may want to warn about.
pub fn requested_blas_error() -> Option<BlasUnavailable> {
    match loaded() {
        Err(e) if e.requested => Some(BlasUnavailable(e.reason.clone())),
        _ => None,
    }
}

/// Whether OpenBLAS's kernel family `core` uses the vector units of a CPU that has (or lacks)
/// AVX2+FMA. An unknown family (no `openblas_get_corename`) is given the benefit of the doubt.
fn kernels_fit(core: &str, cpu_has_avx2: bool) -> bool {
    const AVX2_OR_WIDER: [&str; 5] = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"];
    !cpu_has_avx2 || core.is_empty() || AVX2_OR_WIDER.contains(&core.to_ascii_lowercase().as_str())
}

#[cfg(target_arch = "x86_64")]
fn cpu_has_avx2() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx2() -> bool {
    false
}

/// The system BLAS when unforced products should run on it (see `SystemBlas::preferred`).
fn preferred_blas() -> Option<&'static SystemBlas> {
    system_blas().ok().filter(|b| b.preferred)
}

/// Whether the system BLAS could be loaded, and why not (it may load and still not be
/// preferred: see [`gemm_description`]).
pub fn system_blas_status() -> Result<(), BlasUnavailable> {
    system_blas().map(|_| ())
}

/// What computes the products of large parallel verifications in this process, for reports:
/// e.g. `"OpenBLAS 0.3.21 … SkylakeX … from libopenblas.so.0"`, `"faer"`, or `"faer (…)"` naming
/// an OpenBLAS that loaded but whose kernels do not fit the CPU.
pub fn gemm_description() -> String {
    match (preferred_blas(), system_blas()) {
        (Some(b), _) => b.description.clone(),
        (None, Ok(b)) => format!(
            "faer ({} not used: its {} kernels predate this CPU's vector units; \
             OPENBLAS_CORETYPE selects another kernel family)",
            b.description, b.core
        ),
        (None, Err(_)) => "faer".to_string(),
    }
}

thread_local! {
    static FORCED: Cell<Option<Backend>> = const { Cell::new(None) };
}

/// Runs `f` with every product issued from this thread on `backend`, whatever its size or
/// parallelism (tests and paired measurements use it to pin a path).
///
/// # Errors
/// [`BlasUnavailable`] when `backend` is the system BLAS and it cannot be loaded.
pub fn with_backend<T>(backend: Backend, f: impl FnOnce() -> T) -> Result<T, BlasUnavailable> {
    if backend == Backend::SystemBlas {
        system_blas()?;
    }
    let previous = FORCED.with(|c| c.replace(Some(backend)));
    struct Restore(Option<Backend>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(previous);
    Ok(f())
}

/// The operand layout BLAS needs: (pointer, transpose flag, leading dimension).
fn operand(m: MatRef<'_, f64>) -> Option<(*const f64, c_int, c_int)> {
    let (r, c) = (m.nrows(), m.ncols());
    let (rs, cs) = (m.row_stride(), m.col_stride());
    let fits = |ld: isize, rows: usize| ld >= rows.max(1) as isize && ld <= c_int::MAX as isize;
    if rs == 1 && fits(cs, r) {
        Some((m.as_ptr(), NO_TRANS, cs as c_int))
    } else if cs == 1 && fits(rs, c) {
        Some((m.as_ptr(), TRANS, rs as c_int))
    } else {
        None
    }
}

/// Which backend a product of this shape and parallelism runs on. Sequential products stay on
/// faer unless forced: callers that run many small checks in parallel would otherwise queue on
/// the BLAS lock.
fn choose(m: usize, n: usize, k: usize, par: Par) -> Backend {
    if let Some(b) = FORCED.with(Cell::get) {
        return b;
    }
    match par {
        Par::Rayon(_) if m.min(n).min(k) >= 32 && preferred_blas().is_some() => Backend::SystemBlas,
        _ => Backend::Faer,
    }
}

/// `dst = a·b` (`Accum::Replace`) or `dst += a·b` (`Accum::Add`) on the chosen backend. Falls back
/// to faer when a view's strides do not fit BLAS (or a dimension does not fit its `int`).
pub(super) fn multiply(
    mut dst: MatMut<'_, f64>,
    acc: Accum,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    par: Par,
) {
    let (m, n, k) = (dst.nrows(), dst.ncols(), a.ncols());
    if choose(m, n, k, par) == Backend::SystemBlas && blas_multiply(dst.rb_mut(), acc, a, b, par) {
        return;
    }
    matmul(dst, acc, a, b, 1.0, par);
}

fn blas_multiply(
    dst: MatMut<'_, f64>,
    acc: Accum,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    par: Par,
) -> bool {
    let (m, n, k) = (dst.nrows(), dst.ncols(), a.ncols());
    let int = |x: usize| c_int::try_from(x).ok().filter(|&x| x > 0);
    let (Some(mi), Some(ni), Some(ki)) = (int(m), int(n), int(k)) else {
        return false;
    };
    let (Some((pa, ta, lda)), Some((pb, tb, ldb))) = (operand(a), operand(b)) else {
        return false;
    };
    let cs = dst.col_stride();
    if dst.row_stride() != 1 || cs < m as isize || cs > c_int::MAX as isize {
        return false;
    }
    let Ok(blas) = system_blas() else {
        return false;
    };
    let threads = match par {
        Par::Seq => 1,
        Par::Rayon(t) => c_int::try_from(t.get()).unwrap_or(c_int::MAX),
    };
    let beta = match acc {
        Accum::Replace => 0.0,
        Accum::Add => 1.0,
    };
    let pc = dst.as_ptr_mut();
    let _guard = blas.lock.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: the shapes and leading dimensions describe exactly the views' memory (checked
    // above), `dst` is borrowed mutably and does not alias the shared borrows of `a` and `b`.
    unsafe {
        (blas.set_threads)(threads);
        (blas.dgemm)(
            COL_MAJOR,
            ta,
            tb,
            mi,
            ni,
            ki,
            1.0,
            pa,
            lda,
            pb,
            ldb,
            beta,
            pc,
            cs as c_int,
        );
    }
    true
}

/// The lower triangle (with diagonal) of `dst = a·b` or `dst += a·b` for square `dst`; entries
/// above the diagonal are unspecified. On BLAS it is a sequence of full GEMMs on block columns
/// (each entry still one sum of the `k` products in some order), about `(n + nb)/(2n)` of a full
/// product's work.
pub(super) fn multiply_lower(
    mut dst: MatMut<'_, f64>,
    acc: Accum,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    par: Par,
) {
    let (n, k) = (dst.nrows(), a.ncols());
    if choose(n, n, k, par) == Backend::SystemBlas {
        const NB: usize = 256;
        for j0 in (0..n).step_by(NB) {
            let w = NB.min(n - j0);
            let d = dst.rb_mut().submatrix_mut(j0, j0, n - j0, w);
            multiply(
                d,
                acc,
                a.submatrix(j0, 0, n - j0, k),
                b.submatrix(0, j0, k, w),
                par,
            );
        }
        return;
    }
    triangular::matmul(
        dst,
        BlockStructure::TriangularLower,
        acc,
        a,
        BlockStructure::Rectangular,
        b,
        BlockStructure::Rectangular,
        1.0,
        par,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn operands_map_to_blas_layouts() {
        let m = Mat::<f64>::zeros(5, 3);
        let (_, t, ld) = operand(m.as_ref()).unwrap();
        assert_eq!((t, ld), (NO_TRANS, m.col_stride() as c_int));
        let (_, t, ld) = operand(m.transpose()).unwrap();
        assert_eq!((t, ld), (TRANS, m.col_stride() as c_int));
        let sub = m.as_ref().submatrix(1, 1, 3, 2);
        let (p, t, _) = operand(sub).unwrap();
        assert_eq!((p, t), (&m[(1, 1)] as *const f64, NO_TRANS));
        // every other row and every other column: no BLAS layout, so faer takes it
        let big = Mat::<f64>::zeros(8, 8);
        // SAFETY: a 3×3 view inside the 8×8 allocation.
        let both = unsafe { MatRef::from_raw_parts(big.as_ptr(), 3, 3, 2, 2 * big.col_stride()) };
        assert!(operand(both).is_none());
    }

    #[test]
    fn only_kernels_as_wide_as_the_cpu_are_preferred() {
        // what Debian's 0.3.21 picks on a family 6 model 207 Xeon, and its pre-AVX2 families
        for old in ["Prescott", "Core2", "Nehalem", "Sandybridge", "Barcelona"] {
            assert!(!kernels_fit(old, true), "{old}");
            assert!(kernels_fit(old, false), "{old} on a CPU without AVX2");
        }
        for wide in ["Haswell", "Zen", "SkylakeX", "COOPERLAKE", "SapphireRapids"] {
            assert!(kernels_fit(wide, true), "{wide}");
        }
        assert!(kernels_fit("", true), "no corename: unknown, not refused");
    }

    #[test]
    fn sequential_products_stay_on_faer_unless_forced() {
        assert_eq!(choose(512, 512, 512, Par::Seq), Backend::Faer);
        let wide = choose(512, 512, 512, Par::rayon(2));
        assert_eq!(wide == Backend::SystemBlas, preferred_blas().is_some());
        assert_eq!(choose(512, 16, 512, Par::rayon(2)), Backend::Faer);
        let forced = with_backend(Backend::Faer, || choose(512, 512, 512, Par::rayon(2)));
        assert_eq!(forced, Ok(Backend::Faer));
        assert_eq!(
            FORCED.with(Cell::get),
            None,
            "the override ends with the closure"
        );
    }
}
