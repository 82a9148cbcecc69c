//! The Trace view: one action's spans from every node as a waterfall (node, the span indented
//! under the one it ran in, offset, duration, and a bar on the trace's time line), over the
//! tabs (the footer keeps its keys), scrolled with the arrows; `r` gathers the spans again (a checkout still paying adds
//! its last spans when it ends).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ringshop_shared::trace::{SpanStatus, TraceId};

use crate::client::trace::{Row, Waterfall, bar};
use crate::screen::app::App;
use crate::screen::theme::Theme;

fn ms(ns: u64) -> String {
    let ms = ns as f64 / 1e6;
    if ms >= 1_000.0 {
        format!("{:.2} s", ms / 1_000.0)
    } else {
        format!("{ms:.2} ms")
    }
}

fn row_line(
    r: &Row,
    w: &Waterfall,
    theme: &Theme,
    name_width: usize,
    bar_width: usize,
) -> Line<'static> {
    let name = format!("{}{}", "  ".repeat(r.depth), r.name);
    let (from, len) = bar(r, w.total_ns, bar_width);
    let mut spans = vec![
        Span::raw(format!(
            "{:<6} {name:<name_width$} {:>10} {:>10} ",
            r.node,
            ms(r.offset_ns),
            ms(r.duration_ns)
        )),
        Span::raw(" ".repeat(from)),
        Span::styled("█".repeat(len), theme.bar()),
    ];
    if let SpanStatus::Error(e) = &r.status {
        spans.push(Span::styled(format!(" error: {e}"), theme.error()));
    }
    Line::from(spans)
}

/// The lines of the view for `trace` (gathered as `w`, if it is yet) in `width` columns.
pub fn lines(app: &App, theme: &Theme, trace: TraceId, width: usize) -> Vec<Line<'static>> {
    let Some(w) = app.trace.as_ref().filter(|w| w.trace == trace) else {
        return vec![Line::from(format!(
            "Gathering the spans of trace {} from every node…",
            trace.short()
        ))];
    };
    if w.rows.is_empty() {
        return vec![
            Line::from(format!("No node kept a span of trace {trace}.")),
            Line::styled(
                "Only actions are traced, and each node keeps its most recent spans.",
                theme.dim(),
            ),
        ];
    }
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("trace {}", trace), theme.title()),
        Span::raw(format!(
            "  {} spans on {}  {}",
            w.rows.len(),
            w.nodes().join(", "),
            ms(w.total_ns)
        )),
    ])];
    for (node, why) in &w.unreachable {
        lines.push(Line::styled(
            format!("{node} was not asked: {why}"),
            theme.warn(),
        ));
    }
    let name_width = w.name_width();
    let fixed = 6 + 1 + name_width + 1 + 10 + 1 + 10 + 1;
    let bar_width = width.saturating_sub(fixed).max(8);
    lines.push(Line::styled(
        format!(
            "{:<6} {:<name_width$} {:>10} {:>10} timeline",
            "node", "span", "offset", "duration"
        ),
        theme.dim(),
    ));
    lines.extend(
        w.rows
            .iter()
            .skip(app.trace_scroll)
            .map(|r| row_line(r, w, theme, name_width, bar_width)),
    );
    lines
}

/// Over everything but the header's first line and the footer (which shows the view's keys).
pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, trace: TraceId) {
    let rect = Rect::new(
        area.x,
        area.y + 1,
        area.width,
        area.height.saturating_sub(2),
    );
    if rect.width < 20 || rect.height < 3 {
        return;
    }
    let mut body = lines(app, theme, trace, usize::from(rect.width.saturating_sub(2)));
    body.truncate(usize::from(rect.height.saturating_sub(2)));
    frame.render_widget(Clear, rect);
    let block = Block::default().borders(Borders::ALL).title(" Trace ");
    frame.render_widget(Paragraph::new(body).block(block), rect);
}
