"""The dashboard as a one-page PDF (fpdf2): the headline figures with their trend, the channel
table and the volume over time drawn as bars. The standard PDF fonts carry Latin-1 only, so
text is brought to it (a narrow space becomes a space, "œ" becomes "oe") rather than embedding
a font file."""

from __future__ import annotations

from fpdf import FPDF

from filrouge.core.indicators.dashboard import COLUMNS, Dashboard
from filrouge.core.indicators.display import Display

LATIN_1 = str.maketrans(
    {"\u202f": "\u00a0", "\u2019": "'", "\u2026": "...", "œ": "oe", "Œ": "OE", "€": "EUR"}
)
PAGE_WIDTH = 277  # A4 landscape, less the margins (mm)
NAME_WIDTH = 53
CHART_HEIGHT = 45


def latin_1(text: str) -> str:
    return text.translate(LATIN_1).encode("latin-1", "replace").decode("latin-1")


def dashboard_pdf(dashboard: Dashboard, display: Display, workspace: str) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, margin=10)
    pdf.add_page()
    _title(pdf, dashboard, display, workspace)
    _headline(pdf, dashboard, display)
    _channels(pdf, dashboard, display)
    _volume_chart(pdf, dashboard, display)
    return bytes(pdf.output())


def _write(pdf: FPDF, width: float, text: str, **options: object) -> None:
    pdf.cell(width, 7, latin_1(text), **options)  # type: ignore[arg-type]


def _title(pdf: FPDF, dashboard: Dashboard, display: Display, workspace: str) -> None:
    pdf.set_font("Helvetica", "B", 16)
    _write(pdf, 0, display._("Customer service report"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    period = display._(
        "{workspace}, from {first} to {last} (compared with the {days} days before)",
        workspace=workspace,
        first=display.day(dashboard.first_day),
        last=display.day(dashboard.last_day),
        days=(dashboard.last_day - dashboard.first_day).days + 1,
    )
    _write(pdf, 0, period, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _headline(pdf: FPDF, dashboard: Dashboard, display: Display) -> None:
    width = PAGE_WIDTH / max(1, len(dashboard.headline))
    pdf.set_font("Helvetica", "", 8)
    for figure in dashboard.headline:
        _write(pdf, width, display.label(figure.metric), border="LTR")
    pdf.ln()
    pdf.set_font("Helvetica", "B", 14)
    for figure in dashboard.headline:
        _write(pdf, width, display.value(figure.metric, figure.value), border="LR")
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for figure in dashboard.headline:
        _write(pdf, width, display.change(figure), border="LBR")
    pdf.ln(11)


def _channels(pdf: FPDF, dashboard: Dashboard, display: Display) -> None:
    """fpdf2's table: headers wrap in their column, figures aligned right."""
    widths = (NAME_WIDTH, *((PAGE_WIDTH - NAME_WIDTH) / len(COLUMNS),) * len(COLUMNS))
    rows = [(row.name, row.figures) for row in dashboard.rows]
    rows.append((display._("All channels"), dashboard.total))
    pdf.set_font("Helvetica", "", 8)
    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", *("RIGHT",) * len(COLUMNS)),
        borders_layout="HORIZONTAL_LINES",
        line_height=5,
        first_row_as_headings=True,
    ) as table:
        heading = table.row()
        for title in (display._("Channel"), *(display.label(m) for m in COLUMNS)):
            heading.cell(latin_1(title))
        for name, figures in rows:
            row = table.row()
            row.cell(latin_1(name[:40]))
            for metric in COLUMNS:
                row.cell(latin_1(display.value(metric, getattr(figures, metric))))
    if not dashboard.rows:
        _write(
            pdf, PAGE_WIDTH, display._("No data for this period."), new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(6)


def _volume_chart(pdf: FPDF, dashboard: Dashboard, display: Display) -> None:
    """Conversations per day, week or month as bars, the tallest labelled."""
    points = dashboard.series["conversations"]
    pdf.set_font("Helvetica", "B", 10)
    _write(pdf, 0, display.label("conversations"), new_x="LMARGIN", new_y="NEXT")
    left, top = pdf.get_x(), pdf.get_y()
    if top + CHART_HEIGHT + 12 > pdf.h - pdf.b_margin:
        pdf.add_page()
        left, top = pdf.get_x(), pdf.get_y()
    highest = max((value or 0 for _, value in points), default=0)
    step = PAGE_WIDTH / max(1, len(points))
    pdf.set_draw_color(120, 120, 120)
    pdf.line(left, top + CHART_HEIGHT, left + PAGE_WIDTH, top + CHART_HEIGHT)
    pdf.set_fill_color(37, 99, 235)
    for index, (_, value) in enumerate(points):
        height = CHART_HEIGHT * (value or 0) / highest if highest else 0
        if height:
            x = left + index * step + step * 0.15
            pdf.rect(x, top + CHART_HEIGHT - height, step * 0.7, height, style="F")
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(left, top + CHART_HEIGHT + 1)
    if points:
        first, last = points[0][0], points[-1][0]
        _write(pdf, PAGE_WIDTH / 2, display.period_day(first, dashboard.interval))
        _write(pdf, PAGE_WIDTH / 2, display.period_day(last, dashboard.interval), align="R")
    pdf.set_xy(left, top - 1)
    _write(pdf, PAGE_WIDTH, display._("highest: {count}", count=highest), align="R")
