//! PNG plots that can be read without the JSON: layer × head heatmaps (Toeplitz share,
//! ablation effect), the spectra of the most positional heads, and E2 against n.
//!
//! plotters' bitmap backend draws text with `ab_glyph` (pure Rust, no system C libraries); it
//! needs a TrueType font file at run time: `$PESPECTRA_FONT`, else DejaVu Sans from the usual
//! Debian/Arch/Fedora paths (Debian package `fonts-dejavu-core`, installed by
//! `scripts/prereqs.sh`).

use crate::report::{most_positional, AuditReport, GrowthRow};
use crate::{AuditError, HeadAudit};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FONT: &str = "sans-serif";
const FONT_PATHS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
];

fn plot_err<E: std::fmt::Debug>(what: &Path) -> impl Fn(E) -> AuditError + '_ {
    move |e| AuditError::Plot {
        path: what.display().to_string(),
        message: format!("{e:?}"),
    }
}

/// Registers the font once; a clear error names what to install when none is found.
fn ensure_font() -> Result<(), AuditError> {
    static DONE: OnceLock<Result<(), AuditError>> = OnceLock::new();
    DONE.get_or_init(|| {
        let candidates: Vec<PathBuf> = std::env::var_os("PESPECTRA_FONT")
            .map(PathBuf::from)
            .into_iter()
            .chain(FONT_PATHS.iter().map(PathBuf::from))
            .collect();
        let path = candidates
            .iter()
            .find(|p| p.is_file())
            .ok_or(AuditError::NoFont)?;
        let bytes = std::fs::read(path).map_err(|e| AuditError::FontUnreadable {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        plotters::style::register_font(FONT, FontStyle::Normal, Box::leak(bytes.into_boxed_slice()))
            .map_err(|_| AuditError::BadFont {
                path: path.display().to_string(),
            })
    })
    .clone()
}

/// `count` labelled cells 0..count (plotters' segmented range `0..m` has m + 1 segments).
fn segments(
    count: u32,
) -> plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordu32> {
    (0..count.saturating_sub(1).max(1)).into_segmented()
}

/// A layer × head heatmap of `value(head)` (None: grey cell) with a colour bar.
pub fn heatmap(
    path: &Path,
    title: &str,
    bar_label: &str,
    heads: &[HeadAudit],
    value: impl Fn(&HeadAudit) -> Option<f64>,
) -> Result<(), AuditError> {
    let nl = heads.iter().map(|h| h.layer + 1).max().unwrap_or(1);
    let nh = heads.iter().map(|h| h.head + 1).max().unwrap_or(1);
    grid_heatmap(path, title, bar_label, nl, nh, |l, h| {
        heads
            .iter()
            .find(|a| a.layer == l && a.head == h)
            .and_then(&value)
    })
}

/// A `layers × heads` heatmap of `value(layer, head)` (None: grey cell) with a colour bar, for
/// any per-head quantity (the audit's, or an experiment's ablation drops).
pub fn grid_heatmap(
    path: &Path,
    title: &str,
    bar_label: &str,
    layers: usize,
    heads: usize,
    value: impl Fn(usize, usize) -> Option<f64>,
) -> Result<(), AuditError> {
    ensure_font()?;
    let e = plot_err(path);
    let (nl, nh) = (layers.max(1) as u32, heads.max(1) as u32);
    let cells: Vec<(u32, u32, Option<f64>)> = (0..nl)
        .flat_map(|l| (0..nh).map(move |h| (l, h)))
        .map(|(l, h)| (l, h, value(l as usize, h as usize)))
        .collect();
    let vals: Vec<f64> = cells
        .iter()
        .filter_map(|c| c.2)
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo, if hi > lo { hi } else { lo + 1.0 })
    } else {
        (0.0, 1.0)
    };
    let height = (160 + 22 * nl).min(1400);
    let root = BitMapBackend::new(path, (760, height)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (main, bar) = root.split_horizontally(640);
    let mut chart = ChartBuilder::on(&main)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(segments(nh), segments(nl))
        .map_err(&e)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("head")
        .y_desc("layer")
        .x_labels(nh as usize)
        .y_labels(nl as usize)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(&e)?;
    let cell = |&(y, x, v): &(u32, u32, Option<f64>)| {
        let colour = match v.filter(|v| v.is_finite()) {
            Some(v) => ViridisRGB.get_color_normalized(v, lo, hi),
            None => RGBColor(200, 200, 200),
        };
        Rectangle::new(
            [
                (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
            ],
            colour.filled(),
        )
    };
    chart.draw_series(cells.iter().map(cell)).map_err(&e)?;
    let mut cb = ChartBuilder::on(&bar)
        .margin_top(44)
        .margin_bottom(52)
        .margin_right(8)
        .y_label_area_size(62)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(&e)?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(bar_label)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(&e)?;
    let steps = 100;
    cb.draw_series((0..steps).map(|s| {
        let a = lo + (hi - lo) * s as f64 / steps as f64;
        let b = lo + (hi - lo) * (s + 1) as f64 / steps as f64;
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            ViridisRGB.get_color_normalized(a, lo, hi).filled(),
        )
    }))
    .map_err(&e)?;
    root.present().map_err(&e)
}

/// Sorted eigenvalues of sym L and sym L_content for up to three heads, one panel each.
pub fn spectra(path: &Path, heads: &[&HeadAudit], metric: &str) -> Result<(), AuditError> {
    ensure_font()?;
    let e = plot_err(path);
    let root = BitMapBackend::new(path, (1500, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (top, body) = root.split_vertically(40);
    top.draw(&Text::new(
        format!(
            "Spectra of the symmetric logits of the {} most positional heads ({metric})",
            heads.len()
        ),
        (20, 10),
        (FONT, 20),
    ))
    .map_err(&e)?;
    let panels = body.split_evenly((1, heads.len().max(1)));
    for (h, area) in heads.iter().zip(&panels) {
        let all = h.spectrum_logits.iter().chain(&h.spectrum_content);
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
        let pad = 0.05 * (hi - lo).max(1e-12);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "layer {} head {} (Toeplitz share {:.2})",
                    h.layer, h.head, h.toeplitz_share
                ),
                (FONT, 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0usize..h.n, (lo - pad)..(hi + pad))
            .map_err(&e)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("index k (eigenvalues in decreasing order)")
            .y_desc("eigenvalue of (M + M^T)/2")
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(&e)?;
        for (data, colour, label) in [
            (&h.spectrum_logits, RED, "logits (with positions)"),
            (&h.spectrum_content, BLUE, "content-only logits"),
        ] {
            chart
                .draw_series(LineSeries::new(
                    data.iter().enumerate().map(|(k, v)| (k, *v)),
                    colour.stroke_width(2),
                ))
                .map_err(&e)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(&e)?;
    }
    root.present().map_err(&e)
}

/// E2 medians against n (log scale).
pub fn growth(path: &Path, rows: &[GrowthRow], model: &str) -> Result<(), AuditError> {
    ensure_font()?;
    let e = plot_err(path);
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let finite = |v: f64| if v.is_finite() { v } else { 1.0 };
    let ymax = rows
        .iter()
        .flat_map(|r| [finite(r.norm_ratio), finite(r.spread_ratio)])
        .fold(1.0f64, f64::max)
        * 1.1;
    let (n0, n1) = (
        rows.first().map_or(64, |r| r.n) as f64,
        rows.last().map_or(1024, |r| r.n) as f64,
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{model}: contraction against sequence length (medians over heads)"),
            (FONT, 18),
        )
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(60)
        .build_cartesian_2d((n0..n1.max(n0 * 2.0)).log_scale(), 0.0..ymax)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("n (tokens)")
        .y_desc("ratio with positions / content only")
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .draw()
        .map_err(&e)?;
    type Series = (&'static str, RGBColor, fn(&GrowthRow) -> f64);
    let series: [Series; 2] = [
        ("‖L‖₂ / ‖L_content‖₂", RED, |r| r.norm_ratio),
        ("spread(sym L) / spread(sym L_content)", BLUE, |r| {
            r.spread_ratio
        }),
    ];
    for (label, colour, get) in series {
        chart
            .draw_series(
                LineSeries::new(
                    rows.iter().map(|r| (r.n as f64, get(r))),
                    colour.stroke_width(2),
                )
                .point_size(4),
            )
            .map_err(&e)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(&e)?;
    root.present().map_err(&e)
}

/// Writes every plot of a report into `dir`; returns the files written.
pub fn write_all(report: &AuditReport, dir: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let mut out = Vec::new();
    let p = dir.join("toeplitz_share.png");
    heatmap(
        &p,
        &format!(
            "{}: Toeplitz share of logit energy (n = {})",
            report.model, report.n
        ),
        "Toeplitz share",
        &report.heads,
        |h| Some(h.toeplitz_share),
    )?;
    out.push(p);
    let p = dir.join("toeplitz_share_centred.png");
    heatmap(
        &p,
        &format!(
            "{}: Toeplitz share, rows centred (n = {})",
            report.model, report.n
        ),
        "Toeplitz share (rows centred)",
        &report.heads,
        |h| Some(h.toeplitz_share_centred),
    )?;
    out.push(p);
    if let Some(metric) = &report.ablation_metric {
        let p = dir.join("ablation.png");
        heatmap(
            &p,
            &format!(
                "{}: effect of ablating each head (n = {})",
                report.model, report.n
            ),
            metric,
            &report.heads,
            |h| h.ablation,
        )?;
        out.push(p);
    }
    let top = most_positional(&report.heads, 3);
    if !top.is_empty() {
        let p = dir.join("spectra_top3.png");
        spectra(&p, &top, &report.model)?;
        out.push(p);
    }
    if report.growth.len() >= 2 {
        let p = dir.join("growth.png");
        growth(&p, &report.growth, &report.model)?;
        out.push(p);
    }
    Ok(out)
}
