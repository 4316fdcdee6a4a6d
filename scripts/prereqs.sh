# Sourced by run.sh and test.sh: installs what a fresh Debian machine lacks.
# m4 is needed by the bundled GMP build of rug (gmp-mpfr-sys); the build is cached in
# GMP_MPFR_SYS_CACHE so only the first build pays its ~3 minutes.
if ! command -v m4 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq m4 >/dev/null
  else
    echo "pespectra needs m4 to build GMP: sudo apt-get install -y m4" >&2
    exit 2
  fi
fi
export GMP_MPFR_SYS_CACHE="${GMP_MPFR_SYS_CACHE:-$HOME/.cache/gmp-mpfr-sys}"
# The audit's PNG plots draw text with a TrueType font read at run time (pure-Rust ab_glyph,
# no fontconfig/freetype): DejaVu Sans from fonts-dejavu-core.
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ -z "${PESPECTRA_FONT:-}" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null
  else
    echo "pespectra's audit plots need a font: sudo apt-get install -y fonts-dejavu-core (or set PESPECTRA_FONT)" >&2
    exit 2
  fi
fi
# The f64 verification GEMMs run on the system OpenBLAS when it is installed (loaded at run time,
# faer otherwise: crates/pespectra-arith/src/gemm/backend.rs); the tests then check both paths.
if ! ldconfig -p 2>/dev/null | grep 'libopenblas\.so\.0' >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq libopenblas0-pthread >/dev/null
  else
    echo "optional, for faster verified eig/svd: sudo apt-get install -y libopenblas0-pthread" >&2
  fi
fi
if ldconfig -p 2>/dev/null | grep 'libopenblas\.so\.0' >/dev/null; then
  export PESPECTRA_EXPECT_BLAS=1
fi
# The Python oracles of the tests and benches (python-flint/Arb, NumPy, the gguf reader), in .venv.
oracle_venv() {
  if ! .venv/bin/python -c "import flint, gguf, numpy" >/dev/null 2>&1; then
    python3 -m venv .venv
    .venv/bin/pip install -q python-flint==0.9.0 numpy gguf==0.19.0
  fi
}
