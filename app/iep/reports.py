"""IEP progress reports: for one student, or a caseload, per goal active in a reporting
period: the goal, its probes of the period, a chart of every probe to date with the aim
line, the latest value, percent to target and the progress code (app.iep.progress, the
rule IepGoal.progress answers with), and the teacher's narrative.

`gather` reads everything in a constant number of statements, whatever the number of
students, goals and probes; `render_pdf` and `render_docx` are pure. PDFs embed DejaVu Sans
(subset) and shape complex scripts (Arabic) with HarfBuzz, so names print correctly and
stay real, selectable text; charts are vector drawings (PDF) or PNGs with alt text (DOCX).
"""

from __future__ import annotations

import asyncio
import enum
import io
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.config import Settings
from app.core.errors import ErrorCode, ServiceError, Validator
from app.db import Database
from app.exports.students import csv_bytes
from app.iep.models import IepGoal, IepNarrative, IepProbe
from app.iep.progress import CODE_MEANINGS, Point, Progress, ProgressCode, progress
from app.orgs.models import Org
from app.orgs.policy import policy_from_settings
from app.records import files
from app.records.models import FileKind, FileStatus, GeneratedFile
from app.students.models import Student

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
REGULAR, BOLD = FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf"


class ReportFormat(enum.StrEnum):
    PDF = "PDF"
    DOCX = "DOCX"


MEDIA = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
NO_NARRATIVE = "No narrative was written for this goal and period."
NO_PROBES = "No probe was taken in this period."
NO_GOALS = "No IEP goal was active in this period."


@dataclass(frozen=True)
class ProbeLine:
    day: date  # in the school's time zone
    value: float
    note: str | None


@dataclass(frozen=True)
class GoalReport:
    area: str
    title: str
    baseline: float
    target: float
    unit: str
    direction: str
    start_date: date
    due_date: date
    status: str
    period_probes: list[ProbeLine]
    history: list[ProbeLine]  # every probe up to the period's end, oldest first
    progress: Progress  # as of the period's end
    narrative: str | None


@dataclass(frozen=True)
class StudentReport:
    student_id: uuid.UUID
    school: str
    name: str
    external_id: str
    year_group: int | None
    class_code: str | None
    case_manager: str | None
    period_start: date
    period_end: date
    generated_at: datetime
    goals: list[GoalReport] = field(default_factory=list)


async def gather(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Sequence[uuid.UUID] | None = None,
    class_code: str | None = None,
    period_start: date,
    period_end: date,
    now: datetime,
) -> list[StudentReport]:
    """The reports of the students asked for (by id, or a class), in name order, each with
    the goals active in the period (started by its end, due after its start). Five
    statements, whatever the number of students, goals and probes."""
    org = (await session.execute(select(Org).where(Org.id == org_id))).scalar_one()
    zone = ZoneInfo(policy_from_settings(org.settings).timezone)
    stmt = select(Student).where(Student.org_id == org_id)
    if student_ids is not None:
        stmt = stmt.where(Student.id.in_(list(student_ids)))
    if class_code is not None:
        stmt = stmt.where(Student.class_code == class_code)
    students = list((await session.execute(stmt.order_by(Student.name, Student.id))).scalars())
    ids = [s.id for s in students]
    goals = list(
        (
            await session.execute(
                select(IepGoal)
                .where(
                    IepGoal.org_id == org_id,
                    IepGoal.student_id.in_(ids),
                    IepGoal.start_date <= period_end,
                    IepGoal.due_date >= period_start,
                )
                .order_by(IepGoal.student_id, IepGoal.due_date, IepGoal.area, IepGoal.id)
            )
        ).scalars()
    )
    goal_ids = [g.id for g in goals]
    # The period's days are the school's: its end is the next day's local midnight.
    end = datetime.combine(period_end + timedelta(days=1), time(0), tzinfo=zone)
    probes: dict[uuid.UUID, list[IepProbe]] = {gid: [] for gid in goal_ids}
    for probe in (
        await session.execute(
            select(IepProbe)
            .where(
                IepProbe.org_id == org_id,
                IepProbe.goal_id.in_(goal_ids),
                IepProbe.taken_at < end,
            )
            .order_by(IepProbe.goal_id, IepProbe.taken_at)
        )
    ).scalars():
        probes[probe.goal_id].append(probe)
    narratives = {
        n.goal_id: n.text
        for n in (
            await session.execute(
                select(IepNarrative).where(
                    IepNarrative.org_id == org_id,
                    IepNarrative.goal_id.in_(goal_ids),
                    IepNarrative.period_start == period_start,
                    IepNarrative.period_end == period_end,
                )
            )
        ).scalars()
    }
    by_student: dict[uuid.UUID, list[GoalReport]] = {sid: [] for sid in ids}
    for goal in goals:
        rows = probes[goal.id]
        history = [
            ProbeLine(p.taken_at.astimezone(zone).date(), float(p.value), p.note) for p in rows
        ]
        by_student[goal.student_id].append(
            GoalReport(
                area=goal.area,
                title=goal.title,
                baseline=float(goal.baseline),
                target=float(goal.target),
                unit=goal.unit,
                direction=goal.direction.value,
                start_date=goal.start_date,
                due_date=goal.due_date,
                status=goal.status.value,
                period_probes=[p for p in history if p.day >= period_start],
                history=history,
                progress=progress(goal, [Point(p.taken_at, float(p.value)) for p in rows], zone),
                narrative=narratives.get(goal.id),
            )
        )
    return [
        StudentReport(
            student_id=s.id,
            school=org.name,
            name=s.name,
            external_id=s.external_id,
            year_group=s.year_group,
            class_code=s.class_code,
            case_manager=s.case_manager,
            period_start=period_start,
            period_end=period_end,
            generated_at=now,
            goals=by_student[s.id],
        )
        for s in students
    ]


@dataclass(frozen=True)
class ReportRequest:
    """What a report job makes, as kept in its file's params (ids resolved at request
    time: a caseload is the students of the class then)."""

    student_ids: list[uuid.UUID]
    period_start: date
    period_end: date
    format: ReportFormat
    caseload: bool
    class_code: str | None = None

    def to_params(self) -> dict[str, Any]:
        return {
            "studentIds": [str(s) for s in self.student_ids],
            "periodStart": self.period_start.isoformat(),
            "periodEnd": self.period_end.isoformat(),
            "format": self.format.value,
            "caseload": self.caseload,
            "classCode": self.class_code,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ReportRequest:
        return cls(
            student_ids=[uuid.UUID(s) for s in params["studentIds"]],
            period_start=date.fromisoformat(params["periodStart"]),
            period_end=date.fromisoformat(params["periodEnd"]),
            format=ReportFormat(params["format"]),
            caseload=bool(params["caseload"]),
            class_code=params.get("classCode"),
        )


MAX_PERIOD_DAYS = 400  # a reporting period is a term or a year, not a decade
MAX_CASELOAD = 200


async def request(
    session: AsyncSession,
    *,
    actor: Principal,
    student_ids: Sequence[uuid.UUID] | None,
    class_code: str | None,
    period_start: date,
    period_end: date,
    fmt: ReportFormat,
    caseload: bool,
) -> GeneratedFile:
    """Check a report request and queue its file (audited: who, which students, which
    period). One student's report needs the student; a caseload a class or ids."""
    v = Validator()
    if period_end < period_start:
        v.add("periodEnd", "periodEnd is before periodStart", ErrorCode.INVALID)
    elif (period_end - period_start).days > MAX_PERIOD_DAYS:
        v.add("periodEnd", f"a period is at most {MAX_PERIOD_DAYS} days", ErrorCode.OUT_OF_RANGE)
    if caseload and (class_code is None) == (not student_ids):
        v.add("classCode", "give classCode or studentIds (one of them)", ErrorCode.INVALID)
    v.raise_if_any()
    stmt = select(Student.id).where(Student.org_id == actor.org_id)
    if class_code is not None:
        stmt = stmt.where(Student.class_code == class_code)
    else:
        stmt = stmt.where(Student.id.in_(list(student_ids or [])))
    found = list((await session.execute(stmt.order_by(Student.name, Student.id))).scalars())
    if not caseload and not found:
        raise ServiceError.single("studentId", "no such student", ErrorCode.NOT_FOUND)
    missing = [s for s in (student_ids or []) if s not in set(found)]
    if missing:
        raise ServiceError.single(
            "studentIds", f"no such student: {len(missing)} of the ids", ErrorCode.NOT_FOUND
        )
    if caseload and not found:
        raise ServiceError.single("classCode", "no student in that class", ErrorCode.NOT_FOUND)
    if len(found) > MAX_CASELOAD:
        raise ServiceError.single(
            "classCode", f"at most {MAX_CASELOAD} students a caseload", ErrorCode.OUT_OF_RANGE
        )
    wanted = ReportRequest(found, period_start, period_end, fmt, caseload, class_code)
    return await files.request(
        session,
        actor=actor,
        kind=FileKind.IEP_REPORTS if caseload else FileKind.IEP_REPORT,
        student_id=None if caseload else found[0],
        params=wanted.to_params(),
    )


async def build(
    db: Database,
    *,
    org_id: uuid.UUID,
    request: ReportRequest,
    now: datetime,
    progress: Callable[[int, int], Awaitable[None]] | None = None,
) -> files.Output:
    """Read (one transaction, five statements) and render, off the event loop."""
    async with db.transaction(org_id) as session:
        found = await gather(
            session,
            org_id=org_id,
            student_ids=request.student_ids,
            period_start=request.period_start,
            period_end=request.period_end,
            now=now,
        )
    fmt = request.format
    if not request.caseload:
        if not found:
            raise LookupError("the student is gone")
        data = await asyncio.to_thread(render, found[0], fmt)
        return files.Output(data, file_name(found[0], fmt), MEDIA[fmt], "." + fmt.value.lower())
    with_goals = [r for r in found if r.goals]
    rendered: list[tuple[StudentReport, bytes]] = []
    for done, report in enumerate(with_goals, start=1):
        rendered.append((report, await asyncio.to_thread(render, report, fmt)))
        if progress is not None:
            await progress(done, len(with_goals))
    label = _ascii_slug(request.class_code or "") or "caseload"
    name = f"iep-progress-{label}-{request.period_start}-to-{request.period_end}.zip"
    return files.Output(caseload_zip(rendered, fmt), name, "application/zip", ".zip")


async def make(
    db: Database, settings: Settings, org_id: uuid.UUID, file_id: uuid.UUID
) -> FileStatus | None:
    """One run of a report's file (files.make), what and for when read from its params;
    a caseload publishes its progress (done of total students) as it goes."""

    def from_row(row: GeneratedFile) -> Awaitable[files.Output]:
        return build(
            db,
            org_id=org_id,
            request=ReportRequest.from_params(row.params),
            now=datetime.now(UTC),
            progress=lambda done, total: files.set_progress(db, org_id, file_id, done, total),
        )

    return await files.make(db, settings, org_id, file_id, from_row)


def file_name(report: StudentReport, fmt: ReportFormat) -> str:
    """e.g. iep-progress-zofia-lukasiewicz-S1-2026-09-01-to-2026-11-30.pdf (ASCII only)."""
    slug = _ascii_slug(report.name) or "student"
    ext = _ascii_slug(report.external_id) or "id"
    return (
        f"iep-progress-{slug}-{ext}-{report.period_start.isoformat()}-to-"
        f"{report.period_end.isoformat()}.{fmt.value.lower()}"
    )


def _ascii_slug(text: str) -> str:
    import unicodedata

    flat = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    kept = "".join(
        c if c.isascii() and c.isalnum() else "-" for c in flat if not unicodedata.combining(c)
    )
    return "-".join(part for part in kept.lower().split("-") if part)[:60]


def render(report: StudentReport, fmt: ReportFormat) -> bytes:
    return render_pdf(report) if fmt is ReportFormat.PDF else render_docx(report)


def caseload_zip(rendered: Sequence[tuple[StudentReport, bytes]], fmt: ReportFormat) -> bytes:
    """One file per student (as rendered), and summary.csv."""
    buffer = io.BytesIO()
    rows: list[list[Any]] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        used: set[str] = set()
        for report, data in rendered:
            name, n = file_name(report, fmt), 1
            while name in used:  # two students whose names and ids slug alike
                n += 1
                stem, dot, ext = file_name(report, fmt).rpartition(".")
                name = f"{stem}-{n}{dot}{ext}"
            used.add(name)
            archive.writestr(name, data)
            for g in report.goals:
                p = g.progress
                rows.append(
                    [
                        report.name,
                        report.external_id,
                        g.area,
                        g.title,
                        p.code.value,
                        "" if p.latest is None else p.latest,
                        "" if p.percent_to_target is None else p.percent_to_target,
                    ]
                )
        header = ["student", "external id", "area", "goal", "code", "latest", "percent to target"]
        archive.writestr("summary.csv", csv_bytes(header, rows))
    return buffer.getvalue()


# Shared wording (both formats print the same sentences).


def _number(value: float) -> str:
    return f"{value:g}"


def header_lines(r: StudentReport) -> list[tuple[str, str]]:
    grade = "not recorded" if r.year_group is None else str(r.year_group)
    return [
        ("School", r.school),
        ("Student", r.name),
        ("Grade / year group", grade + (f" (class {r.class_code})" if r.class_code else "")),
        ("Case manager", r.case_manager or "not recorded"),
        ("Reporting period", f"{r.period_start.isoformat()} to {r.period_end.isoformat()}"),
        ("Generated", r.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def goal_lines(g: GoalReport) -> list[tuple[str, str]]:
    p = g.progress
    latest = (
        "no probe yet"
        if p.latest is None
        else f"{_number(p.latest)} {g.unit}"
        + (f" on {g.history[-1].day.isoformat()}" if g.history else "")
    )
    percent = "-" if p.percent_to_target is None else f"{p.percent_to_target:g}%"
    return [
        ("Baseline", f"{_number(g.baseline)} {g.unit}"),
        ("Target", f"{_number(g.target)} {g.unit} ({g.direction.lower()}), due {g.due_date}"),
        ("Status", g.status),
        ("Latest", latest),
        ("Percent of the way to the target", percent),
        ("Progress code", f"{p.code.value}: {CODE_MEANINGS[p.code]}"),
    ]


def chart_description(g: GoalReport) -> str:
    if not g.history:
        return f"Chart: no probe yet; aim line from {_number(g.baseline)} to {_number(g.target)}."
    first, last = g.history[0], g.history[-1]
    return (
        f"Chart of {len(g.history)} probe(s) from {first.day} to {last.day}, latest "
        f"{_number(last.value)} {g.unit}; aim line from {_number(g.baseline)} on "
        f"{g.start_date} to {_number(g.target)} on {g.due_date}."
    )


@dataclass(frozen=True)
class _Scale:
    """Days and values onto a box (x0, y0 top-left; y grows downward)."""

    x0: float
    y0: float
    width: float
    height: float
    first: date
    last: date
    low: float
    high: float

    def x(self, day: date) -> float:
        span = max((self.last - self.first).days, 1)
        return self.x0 + self.width * (day - self.first).days / span

    def y(self, value: float) -> float:
        return self.y0 + self.height * (1 - (value - self.low) / (self.high - self.low))


def _scale(g: GoalReport, x0: float, y0: float, width: float, height: float) -> _Scale:
    values = [g.baseline, g.target, *(p.value for p in g.history)]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 1.0
    days = [g.start_date, g.due_date, *(p.day for p in g.history)]
    return _Scale(x0, y0, width, height, min(days), max(days), low - pad, high + pad)


# PDF (fpdf2).


def render_pdf(r: StudentReport) -> bytes:
    from fpdf import FPDF

    class Report(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", size=8)
            self.cell(
                0, 8, f"{r.name} · IEP progress report · page {self.page_no()}/{{nb}}", align="C"
            )

    pdf = Report(format="A4")
    pdf.set_title(f"IEP progress report: {r.name}")
    pdf.set_author(r.school)
    pdf.set_lang("en")
    pdf.add_font("DejaVu", "", str(REGULAR))
    pdf.add_font("DejaVu", "B", str(BOLD))
    pdf.set_text_shaping(True)  # HarfBuzz: Arabic joins and runs right to left
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, "IEP progress report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    _pdf_pairs(pdf, header_lines(r))
    pdf.ln(2)
    if not r.goals:
        pdf.multi_cell(0, 6, NO_GOALS, new_x="LMARGIN", new_y="NEXT")
    for i, g in enumerate(r.goals, start=1):
        if pdf.get_y() > 200:
            pdf.add_page()
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, f"Goal {i}: {g.area}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=10)
        pdf.multi_cell(0, 5.5, g.title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        _pdf_pairs(pdf, goal_lines(g))
        pdf.ln(1)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(0, 6, "Probes this period", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=9)
        if g.period_probes:
            _pdf_probe_table(pdf, g)
        else:
            pdf.cell(0, 6, NO_PROBES, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        if pdf.get_y() > 215:
            pdf.add_page()
        _pdf_chart(pdf, g)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(0, 6, "Teacher's narrative", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=10)
        pdf.multi_cell(0, 5.5, g.narrative or NO_NARRATIVE, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 6, "Progress codes", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    for code in ProgressCode:
        pdf.multi_cell(0, 5, f"{code.value}: {CODE_MEANINGS[code]}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _pdf_probe_table(pdf: Any, g: GoalReport) -> None:
    """Date, value and note, bordered; a row as tall as its note. Drawn cell by cell (fpdf2's
    table layout costs ten times as much for the same page)."""
    widths, line = (30.0, 34.0, pdf.epw - 64.0), 5.0
    pdf.set_font("DejaVu", "B", 9)
    for width, text in zip(widths, ("Date", f"Value ({g.unit})", "Note"), strict=True):
        pdf.cell(width, line, text, border=1)
    pdf.ln(line)
    pdf.set_font("DejaVu", size=9)
    for p in g.period_probes:
        note = p.note or ""
        lines = (
            len(pdf.multi_cell(widths[2], line, note, dry_run=True, output="LINES")) if note else 1
        )
        height = line * max(lines, 1)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        pdf.cell(widths[0], height, p.day.isoformat(), border=1)
        pdf.cell(widths[1], height, _number(p.value), border=1)
        pdf.multi_cell(widths[2], line, note, border=1, new_x="LMARGIN", new_y="NEXT")


def _pdf_pairs(pdf: Any, pairs: list[tuple[str, str]]) -> None:
    for label, value in pairs:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(55, 5.5, label + ":")
        pdf.set_font("DejaVu", size=10)
        pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")


def _pdf_chart(pdf: Any, g: GoalReport) -> None:
    """Every probe to date (line and points) and the aim line (dashed), with axis labels as
    text; 60 mm high."""
    left, top, width, height = pdf.l_margin + 14, pdf.get_y() + 2, 150, 50
    s = _scale(g, left, top, width, height)
    pdf.set_font("DejaVu", size=7)
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    pdf.rect(left, top, width, height)
    for value in (s.low, (s.low + s.high) / 2, s.high):
        pdf.text(pdf.l_margin, s.y(value) + 1, f"{value:.3g}")
    pdf.text(left, top + height + 4, s.first.isoformat())
    pdf.text(left + width - 16, top + height + 4, s.last.isoformat())
    pdf.set_draw_color(200, 80, 40)  # the aim line
    pdf.set_dash_pattern(dash=1.5, gap=1)
    pdf.line(s.x(g.start_date), s.y(g.baseline), s.x(g.due_date), s.y(g.target))
    pdf.set_dash_pattern()
    if g.history:
        pdf.set_draw_color(30, 80, 180)
        pdf.set_fill_color(30, 80, 180)
        pdf.set_line_width(0.4)
        points = [(s.x(p.day), s.y(p.value)) for p in g.history]
        if len(points) > 1:
            pdf.polyline(points)
        for x, y in points:
            pdf.circle(x, y, 0.8, style="F")
    pdf.set_line_width(0.2)
    pdf.set_y(top + height + 6)
    pdf.set_font("DejaVu", size=8)
    pdf.multi_cell(
        0,
        4,
        chart_description(g) + " Blue: probes. Orange dashes: aim line.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)


# DOCX (python-docx), its chart a PNG drawn with Pillow.


@cache
def _png_font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(REGULAR), size)


def chart_png(g: GoalReport, width: int = 1200, height: int = 480) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    left, top, w, h = 90, 20, width - 120, height - 80
    s = _scale(g, left, top, w, h)
    font = _png_font(18)
    draw.rectangle((left, top, left + w, top + h), outline=(120, 120, 120), width=2)
    for value in (s.low, (s.low + s.high) / 2, s.high):
        draw.text((8, s.y(value) - 10), f"{value:.3g}", fill="black", font=font)
    draw.text((left, top + h + 10), s.first.isoformat(), fill="black", font=font)
    draw.text((left + w - 110, top + h + 10), s.last.isoformat(), fill="black", font=font)
    # The aim line, dashed.
    x1, y1, x2, y2 = s.x(g.start_date), s.y(g.baseline), s.x(g.due_date), s.y(g.target)
    steps = 60
    for i in range(0, steps, 2):
        a, b = i / steps, (i + 1) / steps
        draw.line(
            (x1 + (x2 - x1) * a, y1 + (y2 - y1) * a, x1 + (x2 - x1) * b, y1 + (y2 - y1) * b),
            fill=(200, 80, 40),
            width=3,
        )
    points = [(s.x(p.day), s.y(p.value)) for p in g.history]
    if len(points) > 1:
        draw.line(points, fill=(30, 80, 180), width=4)
    for x, y in points:
        draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=(30, 80, 180))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def render_docx(r: StudentReport) -> bytes:
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(10)
    doc.core_properties.title = f"IEP progress report: {r.name}"
    doc.core_properties.author = r.school
    doc.add_heading("IEP progress report", level=0)
    _docx_pairs(doc, header_lines(r))
    if not r.goals:
        doc.add_paragraph(NO_GOALS)
    for i, g in enumerate(r.goals, start=1):
        doc.add_heading(f"Goal {i}: {g.area}", level=1)
        doc.add_paragraph(g.title)
        _docx_pairs(doc, goal_lines(g))
        doc.add_heading("Probes this period", level=2)
        if g.period_probes:
            table = doc.add_table(rows=1, cols=3)
            table.style = "Table Grid"
            for cell, text in zip(
                table.rows[0].cells, ("Date", f"Value ({g.unit})", "Note"), strict=True
            ):
                cell.text = text
            for p in g.period_probes:
                row = table.add_row().cells
                row[0].text, row[1].text, row[2].text = (
                    p.day.isoformat(),
                    _number(p.value),
                    p.note or "",
                )
        else:
            doc.add_paragraph(NO_PROBES)
        picture = doc.add_picture(io.BytesIO(chart_png(g)), width=Cm(16))
        # Alt text, for screen readers: wp:docPr's descr.
        picture._inline.docPr.set("descr", chart_description(g))
        doc.add_paragraph(chart_description(g) + " Blue: probes. Orange dashes: aim line.")
        doc.add_heading("Teacher's narrative", level=2)
        doc.add_paragraph(g.narrative or NO_NARRATIVE)
    doc.add_heading("Progress codes", level=1)
    for code in ProgressCode:
        doc.add_paragraph(f"{code.value}: {CODE_MEANINGS[code]}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx_pairs(doc: Any, pairs: list[tuple[str, str]]) -> None:
    for label, value in pairs:
        paragraph = doc.add_paragraph()
        paragraph.add_run(label + ": ").bold = True
        paragraph.add_run(value)
