//! Tests of the charts: layout, escaping, fitted axes, hidden values,
//! legends and colours, checked in the SVG text.

use super::*;

const EVIL: &str = r#"<script>alert(1)</script> & "x""#;

/// A one-series Primary trend over 2019.. with a ±5 band around each value.
fn trend(values: &[Option<f64>]) -> TrendChart {
    let periods: Vec<String> = (2019..2019 + values.len()).map(|y| y.to_string()).collect();
    let point = |(p, v): (&String, &Option<f64>)| TrendPoint {
        period: p.clone(),
        value: *v,
        ci_low: v.map(|v| v - 5.0),
        ci_high: v.map(|v| v + 5.0),
        hidden: false,
    };
    let points = periods.iter().zip(values).map(point).collect();
    let label = "Interne".to_string();
    let series = vec![TrendSeries {
        label,
        band: true,
        points,
        ..Default::default()
    }];
    TrendChart {
        title: "Supervisie".into(),
        periods,
        series,
        ..Default::default()
    }
}

/// Polylines in the primary blue (plotters writes upper-case hex), less
/// the one that is the legend swatch.
fn primary_lines(svg: &str) -> usize {
    let blue = |l: &&str| l.starts_with("<polyline") && l.contains("stroke=\"#0072B2\"");
    svg.lines().filter(blue).count() - 1
}

#[test]
fn gap_breaks_the_line_into_two_segments() {
    let gap = [Some(60.0), Some(65.0), None, Some(70.0), Some(72.0)];
    let svg = trend_svg(&trend(&gap), 720, 360);
    assert_eq!(primary_lines(&svg), 2);
    // Four values, four points (plus the legend's); none in the gap.
    assert_eq!(svg.matches("<circle").count(), 4 + 1);
    let whole = trend_svg(&trend(&[Some(60.0), Some(65.0), Some(66.0)]), 720, 360);
    assert_eq!(primary_lines(&whole), 1);
    let expected = vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]];
    assert_eq!(runs(&[Some(1.0), None, Some(2.0), Some(3.0)]), expected);
}

#[test]
fn nan_never_reaches_the_svg() {
    let mut c = trend(&[Some(f64::NAN), Some(65.0), Some(f64::INFINITY), Some(70.0)]);
    c.series[0].points[1].ci_low = Some(f64::NAN);
    let svg = trend_svg(&c, 720, 360);
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    assert_eq!(primary_lines(&svg), 0, "isolated points draw no line");
    assert_eq!(svg.matches("<circle").count(), 2 + 1);
}

#[test]
fn version_break_is_a_dashed_line_with_its_label() {
    let mut c = trend(&[Some(60.0), Some(65.0), Some(70.0)]);
    c.version_breaks = vec![(1, "D-RECT 2016".into()), (9, "buiten bereik".into())];
    let svg = trend_svg(&c, 720, 360);
    assert!(svg.contains("D-RECT 2016") && !svg.contains("buiten bereik"));
    // One polyline in INK, dashed, from the top of the plot to its bottom.
    let line = svg
        .split("<polyline")
        .find(|p| p.contains("stroke=\"#333333\"") && p.contains("stroke-dasharray=\"5 4\""))
        .expect("a dashed ink line");
    let points: Vec<(i32, i32)> = line
        .split("points=\"")
        .nth(1)
        .and_then(|p| p.split('"').next())
        .map(|p| {
            p.split_whitespace()
                .filter_map(|xy| xy.split_once(','))
                .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
                .collect()
        })
        .unwrap();
    assert_eq!(points.len(), 2, "{line}");
    assert_eq!(points[0].0, points[1].0, "vertical: {line}");
    assert!((points[1].1 - points[0].1).abs() > 100, "{line}");
    // No opacity mark is left, and no other element is dashed.
    assert!(!svg.contains(super::svg::DASH_MARK));
    assert_eq!(svg.matches("stroke-dasharray").count(), 1);
}

#[test]
fn svg_is_self_contained_scales_and_uses_sans_serif() {
    let svg = trend_svg(&trend(&[Some(60.0), Some(65.0)]), 720, 360);
    assert!(svg.contains("viewBox=\"0 0 720 360\""));
    assert!(svg.contains("font-family=\"sans-serif\""));
    assert!(!svg.contains("<image") && !svg.contains("@font-face") && !svg.contains("href"));
    assert!(svg.trim_end().ends_with("</svg>"));
}

#[test]
fn data_text_is_escaped_everywhere() {
    let mut c = trend(&[Some(60.0), Some(65.0)]);
    (c.title, c.y_label, c.periods[0]) = (EVIL.into(), EVIL.into(), EVIL.into());
    c.series[0].points[0].period = EVIL.into();
    c.series[0].label = EVIL.into();
    c.version_breaks = vec![(1, EVIL.into())];
    let row = DistributionRow {
        label: EVIL.into(),
        counts: vec![1, 2],
        not_applicable: 0,
    };
    let point_labels = vec![EVIL.into(), "eens".into()];
    let d = Distribution {
        title: EVIL.into(),
        point_labels,
        rows: vec![row],
        ..Default::default()
    };
    let empty = TrendChart {
        title: EVIL.into(),
        ..Default::default()
    };
    for svg in [
        trend_svg(&c, 900, 360),
        diverging_svg(&d, 900),
        trend_svg(&empty, 400, 200),
    ] {
        assert!(
            !svg.contains("<script") && !svg.contains("</script"),
            "{svg}"
        );
        assert!(!svg.contains(r#"& "x""#));
        // The title fits, so it is there whole and escaped once (not "&amp;lt;").
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
    }
}

#[test]
fn a_fitted_axis_shows_a_small_drop_and_the_thresholds() {
    let mut c = trend(&[Some(71.0), Some(66.0)]);
    // 0-100 by default.
    assert_eq!(c.y_range(&prepare(&c).0), (0.0, 100.0));
    c.fit_y = true;
    // Values 66-71 with a band of ±5: 61-76, padded and rounded to tens.
    assert_eq!(c.y_range(&prepare(&c).0), (50.0, 80.0));
    c.thresholds = vec![
        (62.5, "verbeterpunt".into(), false),
        (75.0, "sterk".into(), true),
    ];
    assert_eq!(c.y_range(&prepare(&c).0), (50.0, 80.0));
    let svg = trend_svg(&c, 720, 360);
    assert!(
        svg.contains("\nverbeterpunt\n") && svg.contains("\nsterk\n"),
        "{svg}"
    );
    assert!(svg.contains("#B35806") || svg.contains("#b35806"));
    // A flat series still gets an axis at least 20 wide, within 0-100.
    let mut flat = trend(&[Some(99.0), Some(99.0)]);
    flat.fit_y = true;
    let (lo, hi) = flat.y_range(&prepare(&flat).0);
    assert!(hi - lo >= 20.0 && hi <= 100.0 && lo >= 0.0, "{lo} {hi}");
}

#[test]
fn values_from_60_to_75_get_an_axis_that_does_not_start_at_zero() {
    let mut c = trend(&[Some(60.0), Some(68.0), Some(75.0)]);
    c.fit_y = true;
    // By hand: band 55-80, padded by 3 and rounded out to tens: 50-90.
    assert_eq!(c.y_range(&prepare(&c).0), (50.0, 90.0));
    let svg = trend_svg(&c, 720, 360);
    assert!(svg.contains(">\n50\n<") && svg.contains(">\n90\n<"));
    assert!(!svg.contains(">\n0\n<"), "no tick at 0");
    // Every period is labelled under the axis.
    for y in ["2019", "2020", "2021"] {
        assert!(svg.contains(&format!(">\n{y}\n<")), "{y}");
    }
    // A grade on its own 1-10 scale: rounded to whole points, at least
    // 20% of the scale wide; by hand 6.9-7.7 padded by 0.27 is 6-8.
    let mut grade = trend(&[Some(7.2), Some(7.4)]);
    grade.series[0]
        .points
        .iter_mut()
        .for_each(|p| (p.ci_low, p.ci_high) = (p.value.map(|v| v - 0.3), p.value.map(|v| v + 0.3)));
    (grade.fit_y, grade.y_domain) = (true, Some((1.0, 10.0)));
    assert_eq!(grade.y_range(&prepare(&grade).0), (6.0, 8.0));
    let svg = trend_svg(&grade, 560, 240);
    assert!(svg.contains(">\n6\n<") && svg.contains(">\n8\n<"), "{svg}");
    assert!(
        svg.contains("2019 7.2, 2020 7.4"),
        "the grade keeps its decimal"
    );
    // A change of one point stays small: the axis is still 20 wide.
    let mut tiny = trend(&[Some(70.0), Some(71.0)]);
    (tiny.fit_y, tiny.series[0].band) = (true, false);
    let (lo, hi) = tiny.y_range(&prepare(&tiny).0);
    assert!(hi - lo >= MIN_SPAN, "{lo} {hi}");
}

#[test]
fn a_hidden_year_is_a_hollow_marker_with_a_word_and_never_its_number() {
    let mut c = trend(&[Some(70.0), Some(33.0), Some(72.0)]);
    c.fit_y = true;
    // The value arrives marked hidden: it must not be drawn or count.
    c.series[0].points[1].hidden = true;
    let (lines, _) = prepare(&c);
    assert_eq!(lines[0].values, [Some(70.0), None, Some(72.0)]);
    assert_eq!(lines[0].lows[1], None);
    let mut without = trend(&[Some(70.0), None, Some(72.0)]);
    without.fit_y = true;
    assert_eq!(
        c.y_range(&lines),
        without.y_range(&prepare(&without).0),
        "the hidden value does not stretch the axis"
    );
    let svg = trend_svg(&c, 720, 360);
    assert!(svg.contains(">\nniet getoond\n<"), "{svg}");
    assert!(!svg.contains(">\n33\n<"));
    // Two dots, the legend's dot, and the hollow marker (a white disc
    // and a ring).
    assert_eq!(svg.matches("<circle").count(), 2 + 1 + 2);
    assert_eq!(primary_lines(&svg), 0, "the line breaks at the hidden year");
    // The text alternative says which year is hidden, not its value.
    let desc = &svg[svg.find("<desc>").unwrap()..svg.find("</desc>").unwrap()];
    assert!(
        desc.contains("niet getoond 2020") && !desc.contains("33"),
        "{desc}"
    );
    // A line with only hidden values still gets its chart, not "no data".
    let mut all = trend(&[Some(50.0)]);
    all.series[0].points[0].hidden = true;
    let svg = trend_svg(&all, 720, 360);
    assert!(svg.contains("niet getoond") && !svg.contains("geen gegevens"));
}

#[test]
fn a_legend_apart_is_drawn_once_with_the_thresholds_and_the_hidden_marker() {
    let mut c = trend(&[Some(60.0), Some(65.0), Some(70.0)]);
    c.series[0].label = "Interne geneeskunde".into();
    c.series.push(TrendSeries {
        label: "Regio Noorderveld".into(),
        style: SeriesStyle::Benchmark,
        points: c.series[0].points.clone(),
        ..Default::default()
    });
    c.thresholds = vec![
        (62.5, "drempel verbeterpunt".into(), false),
        (75.0, "drempel sterk punt".into(), true),
    ];
    (c.fit_y, c.legend_apart) = (true, true);
    let svg = trend_svg(&c, 560, 240);
    // The chart draws neither the legend nor the thresholds' names,
    // but their lines (dotted, in the heatmap's orange and blue).
    for word in ["Interne geneeskunde", "Regio Noorderveld", "drempel", "95%"] {
        assert!(!svg.contains(&format!("\n{word}")), "{word} in the chart");
    }
    assert!(svg.contains("#B35806") && svg.contains("#2166AC"));
    let mut hidden = c.clone();
    hidden.series[0].points[2].hidden = true;
    let legend = legend_svg(&[&c, &hidden], 720);
    assert!(legend.starts_with("<svg") && legend.contains(" role=\"img\"><title>legenda</title>"));
    for word in [
        "Interne geneeskunde",
        "Regio Noorderveld",
        "95%-betrouwbaarheidsinterval",
        "drempel verbeterpunt",
        "drempel sterk punt",
        "niet getoond",
    ] {
        assert!(
            legend.contains(&format!(">\n{word}\n<")),
            "{word}: {legend}"
        );
    }
    // Small multiples share one axis: the union of their own.
    let mut low = c.clone();
    low.series[0].points[0].value = Some(20.0);
    assert_eq!(c.y_range(&prepare(&c).0), (50.0, 80.0));
    let shared = shared_y_range(&[&c, &low]).unwrap();
    assert_eq!(shared, (10.0, 80.0));
    let mut fixed = c.clone();
    fixed.y_fixed = Some(shared);
    assert_eq!(fixed.y_range(&prepare(&fixed).0), shared);
    // Without a hidden value anywhere, no hidden entry.
    assert!(!legend_svg(&[&c], 720).contains("niet getoond"));
    assert_eq!(legend_svg(&[], 720), "");
}

#[test]
fn the_band_reads_on_paper_and_the_line_reads_on_the_band() {
    let band = band_rgb(PRIMARY[0]);
    // By hand: 255 - 0.35 * (255 - (0, 114, 178)) = (166, 206, 228).
    assert_eq!((band.0, band.1, band.2), (0xa6, 0xce, 0xe4));
    let ratio = |a: f64, b: f64| (a.max(b) + 0.05) / (a.min(b) + 0.05);
    let (page, band, line) = (
        luminance([0xff; 3]),
        luminance([band.0, band.1, band.2]),
        luminance([0x00, 0x72, 0xb2]),
    );
    // WCAG 2 ratios (second source, Python): 1.68 and 3.09.
    assert!(ratio(page, band) >= 1.6, "{}", ratio(page, band));
    assert!(ratio(band, line) >= 3.0, "{}", ratio(band, line));
}

#[test]
fn lines_differ_in_a_second_cue_besides_colour() {
    let looks: Vec<(RGBColor, u32, Marker)> = (0..6)
        .map(|i| look_of(SeriesStyle::Secondary, i))
        .map(|l| (l.colour, l.dash, l.marker))
        .collect();
    for (i, a) in looks.iter().enumerate() {
        for b in &looks[i + 1..] {
            // Two lines of the same colour differ in marker or dash.
            if a.0 == b.0 {
                assert!(a.1 != b.1 || a.2 != b.2, "{a:?} {b:?}");
            }
        }
        // Every line has a marker as well as its colour.
        assert_ne!(a.2, Marker::Plain);
    }
    let primary = look_of(SeriesStyle::Primary, 0);
    let region = look_of(SeriesStyle::Benchmark, 0);
    assert_eq!(primary.marker, Marker::Dot);
    assert!(region.dash > 0, "the region line is dashed");
}

#[test]
fn empty_inputs_give_a_small_no_data_chart() {
    let periods = vec!["2024".to_string()];
    let no_series = TrendChart {
        periods,
        ..Default::default()
    };
    let no_rows = Distribution {
        point_labels: vec!["a".into()],
        ..Default::default()
    };
    let all_missing = trend_svg(&trend(&[None, None]), 0, 0);
    for svg in [
        trend_svg(&no_series, 720, 360),
        all_missing,
        diverging_svg(&no_rows, 720),
    ] {
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(" role=\"img\"><title>"), "{svg}");
        assert!(svg.contains("geen gegevens") && svg.contains("viewBox=\"0 0 "));
    }
}

#[test]
fn diverging_segments_sum_to_100_and_centre_the_middle() {
    // Five points at 10, 20, 30, 20, 20%: the left extent is 10 + 20 + 30/2 = 45.
    let odd = diverging_segments(&[1, 2, 3, 2, 2]).expect("answers");
    assert!((odd[0].0 + 45.0).abs() < 1e-9 && (odd[4].1 - 55.0).abs() < 1e-9);
    assert!(
        (odd[2].0 + odd[2].1).abs() < 1e-9,
        "middle straddles zero evenly"
    );
    // Four points: the boundary between the halves lies at zero.
    let even = diverging_segments(&[3, 1, 0, 6]).expect("answers");
    assert!((even[1].1).abs() < 1e-9);
    for segs in [odd, even, diverging_segments(&[7, 0, 0]).expect("answers")] {
        let total: f64 = segs.iter().map(|(a, b)| b - a).sum();
        assert!((total - 100.0).abs() < 1e-9);
        assert!(segs.windows(2).all(|w| w[0].1 == w[1].0), "segments touch");
    }
    assert_eq!(diverging_segments(&[0, 0, 0]), None);
}

#[test]
fn diverging_rows_without_answers_or_with_short_counts_still_draw() {
    let row = |label: &str, counts: Vec<u64>, not_applicable| DistributionRow {
        label: label.into(),
        counts,
        not_applicable,
    };
    let rows = vec![row("Geen", vec![0, 0, 0], 4), row("Kort", vec![2], 0)];
    let point_labels = ["oneens", "neutraal", "eens"].map(String::from).to_vec();
    let svg = diverging_svg(
        &Distribution {
            point_labels,
            rows,
            ..Default::default()
        },
        600,
    );
    assert!(svg.contains("geen antwoorden") && svg.contains("n.v.t. 4"));
    assert!(svg.contains(">\n100%\n<"), "the short row is one full bar");
}

#[test]
fn band_colours_follow_the_thresholds_and_read_with_black() {
    let (lo, hi) = (62.5, 75.0);
    assert_eq!(band_colour(70.0, lo, hi), "#f4f4f2", "between: neutral");
    assert_eq!(
        band_colour(62.5, lo, hi),
        "#f4f4f2",
        "the threshold itself is not below it"
    );
    assert_eq!(band_colour(62.4, lo, hi).len(), 7);
    assert_ne!(
        band_colour(52.0, lo, hi),
        band_colour(62.0, lo, hi),
        "deeper further below"
    );
    assert_eq!(band_colour(30.0, lo, hi), "#f1a340", "capped");
    assert_eq!(band_colour(75.0, lo, hi), "#d1e5f0");
    assert_eq!(band_colour(100.0, lo, hi), "#67a9cf");
    assert_eq!(band_colour(f64::NAN, lo, hi), "#dddddd");
    for p in [0.0, 40.0, 62.0, 70.0, 75.0, 90.0, 100.0] {
        let c = band_colour(p, lo, hi);
        let v = |i: usize| u8::from_str_radix(&c[i..i + 2], 16).unwrap();
        assert!(dark_text_on([v(1), v(3), v(5)]), "{p}: {c}");
    }
}

#[test]
fn heat_colour_is_hex_clamped_and_readable_with_black() {
    for v in [0.0, 50.0, 100.0, -10.0, 250.0, f64::NAN] {
        let c = heat_colour(v);
        assert!(c.len() == 7 && c.starts_with('#'), "{c}");
        assert!(c[1..].chars().all(|h| h.is_ascii_hexdigit()), "{c}");
    }
    assert_eq!(heat_colour(0.0), "#e66101");
    assert_eq!(heat_colour(50.0), "#f7f7f7");
    assert_eq!(heat_colour(100.0), "#4393c3");
    assert_eq!(heat_colour(-10.0), heat_colour(0.0));
    assert_eq!(heat_colour(250.0), heat_colour(100.0));
    // Halfway between the 0 and 25 stops, by hand: (e6+fd)/2, (61+b8)/2, (01+63)/2.
    assert_eq!(heat_colour(12.5), "#f28d32");
    assert!((0..=100).all(|v| heat_text_colour(v as f64) == "#000000"));
    // Second source (Python, WCAG 2 formula): #4393c3 has luminance 0.2600, contrast
    // with black 6.2 (AA needs 4.5); #2166ac gives white 5.9 against black 3.6.
    assert!((luminance([0x43, 0x93, 0xc3]) - 0.2597).abs() < 1e-3);
    assert!(
        !dark_text_on([0x21, 0x66, 0xac]),
        "the strong Likert blue takes white text"
    );
}
