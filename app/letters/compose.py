"""Compose letters: lay out each kind of letter as pages of operations, and draw them.

A kind is its wording file (resources/letters/<kind>.toml, declared in wording.SCHEMA),
its data (model.LetterKind, LetterData) and its body here (``LetterRenderer.bodies``).
Batches (files, chunks) are in batch.py; the alignment sheet in alignment.py.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.core.era import format_era_date, format_western_date
from app.domain.channels import Channel, PayoutKind
from app.domain.money import format_yen
from app.letters import layout as L
from app.letters.errors import LetterDataError, UnprintableCharacterError
from app.letters.fonts import FontBook, font_book
from app.letters.ink import Ink, new_canvas
from app.letters.layout import (
    BODY,
    BODY_TIGHT,
    CONTENT_W,
    LABEL,
    LEFT,
    PAGE_H,
    PAGE_W,
    RIGHT,
    SMALL,
    SMALL_GOTHIC,
    TITLE,
    Column,
    Composer,
    LineBreaker,
    Op,
    QROp,
    Style,
    TextOp,
)
from app.letters.model import (
    FIRST_FOLD_MM,
    REFUND,
    BankPayout,
    CardPayout,
    LetterData,
    LetterKind,
    LetterSettings,
    NanacoPayout,
    PostalOrderPayout,
)
from app.letters.qr import qr_matrix
from app.letters.shortcuts import Shortcuts, check
from app.letters.wording import Wording, load_wording

Pages = list[list[Op]]


def _yen(amount: int | None) -> str | None:
    return format_yen(amount) if amount is not None else None


def format_date(day: date, style: str) -> str:
    return format_era_date(day) if style == "era" else format_western_date(day)


@dataclass
class _Ctx:
    letter: LetterData
    values: dict[str, object]
    title: str


class LetterRenderer:
    """Turns LetterData into pages and pages into PDF. One per batch; not thread-safe.

    ``shortcuts`` says which library shortcuts to use; by default they are self-checked
    here (shortcuts.check), as at the start of a batch."""

    def __init__(self, settings: LetterSettings | None = None,
                 wording: Wording | None = None, *,
                 shortcuts: Shortcuts | None = None) -> None:
        self.settings = settings or LetterSettings()
        self.book: FontBook = font_book(self.settings.fallback_font)
        self.wording = wording or load_wording(self.settings.wording_dir, book=self.book)
        self.breaker = LineBreaker(self.book)  # shared by the batch's letters
        self.shortcuts = shortcuts if shortcuts is not None else check(self.book)
        self._ink: Ink | None = None

    def bodies(self) -> dict[LetterKind, Callable[[Composer, _Ctx], None]]:
        """Each kind's body, below the common first-page head: a new kind adds one here."""
        return {
            LetterKind.GUIDANCE: self._guidance,
            LetterKind.DEFICIENCY: self._deficiency,
            LetterKind.PAYMENT_NOTICE: self._payment_notice,
            LetterKind.REFUND_CONFIRMATION: self._refund_confirmation,
            LetterKind.REFUND_REFUSAL: self._refund_refusal,
            LetterKind.REFUND_PAYMENT: self._refund_payment,
        }

    # -- helpers -------------------------------------------------------------
    def date(self, day: date) -> str:
        return format_date(day, self.settings.date_style)

    def w(self, file: str, key: str, ctx: _Ctx, **extra: object) -> str:
        return self.wording.fill(file, key, {**ctx.values, **extra})

    def c(self, key: str, ctx: _Ctx, **extra: object) -> str:
        return self.w("common", key, ctx, **extra)

    # -- checks --------------------------------------------------------------
    def _check_data(self, letter: LetterData) -> None:
        """Refuse early, naming the field, a character no bundled font has."""
        r = letter.recipient
        fields: list[tuple[str, str]] = [
            ("recipient.name", r.name), ("recipient.address", r.address.replace("\n", "")),
            ("recipient.building", r.building), ("recipient.postal_code", r.postal_code),
            ("deficiency_note", letter.deficiency_note.replace("\n", "")),
            ("letter_code", letter.letter_code), ("case_number", letter.case_number),
            ("application_id", letter.application_id),
        ]
        for index, incident in enumerate(letter.incidents):
            fields.append((f"incidents[{index}].merchant", incident.merchant or ""))
        p = letter.payout
        if isinstance(p, BankPayout):
            fields += [("payout.bank_name", p.bank_name), ("payout.branch_name", p.branch_name),
                       ("payout.account_type", p.account_type_label),
                       ("payout.account_number", p.masked_account)]
        elif isinstance(p, NanacoPayout):
            fields.append(("payout.nanaco_number", p.masked_number))
        elif isinstance(p, CardPayout):
            fields += [("payout.issuer", p.issuer), ("payout.last4", p.last4)]
        elif isinstance(p, PostalOrderPayout):
            fields.append(("payout.certificate_number", p.masked_number))
        for name, text in fields:
            self.book.check(text, name, case_number=letter.reference)

    def _values(self, letter: LetterData) -> dict[str, object]:
        s = self.settings
        values: dict[str, object] = {
            "name": letter.recipient.name,
            "case_number": letter.case_number,
            "letter_code": letter.letter_code,
            "issue_date": self.date(letter.issue_date),
            "organization": s.organization,
            "support_centre": s.support_centre,
            "hotline": s.hotline,
            "hotline_hours": s.hotline_hours,
            "channel": letter.channel.label_ja if letter.channel else None,
            "claimed_total": format_yen(letter.total) if letter.total else None,
            "incident_count": len(letter.incidents),
            "item_count": len(letter.deficiency_items),
            "reply_by": self.date(letter.reply_by) if letter.reply_by else None,
            "paid_amount": format_yen(letter.paid_amount) if letter.paid_amount else None,
            "paid_date": self.date(letter.paid_date) if letter.paid_date else None,
        }
        if letter.programme == REFUND:
            values.update(
                application_id=letter.application_id,
                applied_on=self.date(letter.applied_on) if letter.applied_on else None,
                balance=_yen(letter.balance), refund_amount=_yen(letter.refund_amount),
                from_charges=format_yen(letter.from_charges) if letter.from_charges else None,
                closed_on=self.date(letter.closed_on) if letter.closed_on else None)
        p = letter.payout
        if isinstance(p, BankPayout):
            values.update(bank_name=p.bank_name, branch_name=p.branch_name,
                          account_type=p.account_type_label, account_number=p.masked_account)
        elif isinstance(p, NanacoPayout):
            values.update(nanaco_number=p.masked_number)
        elif isinstance(p, CardPayout):
            values.update(card_issuer=p.issuer, card_last4=p.last4)
        elif isinstance(p, PostalOrderPayout):
            values.update(certificate_number=p.masked_number or None,
                          cash_by=self.date(p.cash_by) if p.cash_by else None)
        return values

    def reference_label(self, letter: LetterData) -> str:
        """案件番号, or 申出番号 on a refund letter."""
        key = "labels.application_id" if letter.programme == REFUND else "labels.case_number"
        return self.wording.raw("common", key)

    def refusal_text(self, letter: LetterData) -> str:
        """The reason a refusal letter prints, in the wording's words (the service
        records the same text in the audit trail)."""
        if f"reasons.{letter.refusal_reason}" not in self.wording.texts["refund_refusal"]:
            raise LetterDataError(
                "refusal_reason", f"不明な払戻不可の理由です: {letter.refusal_reason}",
                f"unknown refusal reason code {letter.refusal_reason!r}")
        return self.wording.fill("refund_refusal", f"reasons.{letter.refusal_reason}",
                                 self._values(letter))

    # -- layout --------------------------------------------------------------
    def compose(self, letter: LetterData) -> Pages:
        """Validate and lay out one letter. Raises LetterDataError or
        UnprintableCharacterError (nothing is drawn then)."""
        letter.validate()
        self._check_data(letter)
        if letter.kind is LetterKind.DEFICIENCY:
            unknown = [c for c in letter.deficiency_items if self.wording.item(c) is None]
            if unknown:
                raise LetterDataError(
                    "deficiency_items", f"不明な不備項目です: {', '.join(unknown)}",
                    f"unknown deficiency item codes: {', '.join(unknown)}")
        values = self._values(letter)
        ctx = _Ctx(letter, values, self.wording.raw(letter.kind.value, "title"))
        masked = [str(values[k]) for k in ("account_number", "nanaco_number",
                                            "certificate_number") if values.get(k)]
        protect = tuple(p for p in (letter.case_number, letter.application_id,
                                    letter.letter_code,
                                    self.settings.hotline, letter.recipient.name, *masked)
                        if p)
        continued = self.c("labels.continued", ctx, title=ctx.title)

        def continuation(comp: Composer) -> float:
            comp.text(LEFT, L.TOP, continued, SMALL_GOTHIC)
            comp.rule(LEFT, L.TOP - 5, RIGHT, L.TOP - 5, width=0.4, gray=0.5)
            return L.TOP - 16

        comp = Composer(self.book, protect=protect, on_new_page=continuation,
                        breaker=self.breaker)
        comp.new_page(continuation=False)
        try:
            self._first_page_head(comp, ctx)
            self.bodies()[letter.kind](comp, ctx)
        except UnprintableCharacterError as exc:
            exc.case_number = letter.case_number
            raise
        return comp.pages

    def _first_page_head(self, comp: Composer, ctx: _Ctx) -> None:
        s, letter = self.settings, ctx.letter
        # fold marks on the left edge for the three-fold into a 長形3号 envelope
        for at in (FIRST_FOLD_MM, FIRST_FOLD_MM * 2):
            y = PAGE_H - at * mm
            comp.rule(6 * mm, y, 10 * mm, y, width=0.4, gray=0.55)
        self._window(comp, ctx)
        # date, numbers and sender at the top right
        y = PAGE_H - 19 * mm
        comp.text(RIGHT, y, ctx.values["issue_date"], BODY, align="right")
        y -= 16
        comp.text(RIGHT, y, f"{self.reference_label(letter)}　{letter.reference}",
                  BODY_TIGHT, align="right", field_name="application_id"
                  if letter.programme == REFUND else "wording")
        y -= 14
        comp.text(RIGHT, y, f"{self.c('labels.letter_code', ctx)}　{letter.letter_code}",
                  BODY_TIGHT, align="right")
        y -= 24
        comp.text(RIGHT, y, s.organization, Style(L.MINCHO, 11.5, 16), align="right")
        y -= 16
        comp.text(RIGHT, y, s.support_centre, Style(L.MINCHO, 10.5, 15), align="right")
        if s.sender_address:
            for line in filter(None, [f"〒{s.sender_postal_code}" if s.sender_postal_code
                                      else "", *s.sender_address.split("\n")]):
                y -= 12
                comp.text(RIGHT, y, line, SMALL, align="right")
        y -= 15
        comp.text(RIGHT, y, f"フリーダイヤル {s.hotline}（{s.hotline_hours}）",
                  Style(L.GOTHIC, 9.0, 12), align="right")
        # title, below the window and the sender block
        comp.text(PAGE_W / 2, PAGE_H - 67 * mm, ctx.title, TITLE, align="center")
        comp.y = PAGE_H - 71 * mm

    def address_window(self, comp: Composer, letter: LetterData) -> None:
        """The recipient block, in the envelope window, as every letter prints it."""
        self._window(comp, _Ctx(letter, self._values(letter), ""))

    def _window(self, comp: Composer, ctx: _Ctx) -> None:
        s, r = self.settings, ctx.letter.recipient
        pad_x, pad_top = 5 * mm, 5 * mm
        x = s.window_x_mm * mm + pad_x
        top = PAGE_H - s.window_y_mm * mm - pad_top
        bottom = PAGE_H - (s.window_y_mm + s.window_height_mm) * mm + 3 * mm
        width = s.window_width_mm * mm - 2 * pad_x
        name = f"{r.name}　{self.c('labels.honorific', ctx)}"
        address_parts = [p for p in (*r.address.split("\n"), r.building) if p.strip()]
        for scale in (1.0, 0.92, 0.85, 0.78):
            addr = Style(L.MINCHO, 10.5 * scale, 14.5 * scale)
            name_style = Style(L.MINCHO, 14 * scale, 20 * scale)
            while comp.width(name, name_style) > width and name_style.size > 9:
                name_style = Style(L.MINCHO, name_style.size - 0.5, name_style.leading - 0.5)
            lines = [line for part in address_parts for line in comp.wrap(part, addr, width)]
            needed = addr.size + (1 + len(lines)) * addr.leading + name_style.leading + 10
            if needed <= top - bottom:
                break
        else:
            raise LetterDataError("recipient.address",
                                  "宛名が封筒の窓に収まりません。住所を短くしてください。",
                                  "the address block does not fit in the envelope window")
        y = top - addr.size
        comp.text(x, y, f"〒{r.postal_code_display}", addr, field_name="recipient.postal_code")
        y -= addr.leading
        for part in address_parts:
            field = "recipient.building" if part == r.building else "recipient.address"
            y = comp.lines_at(x + addr.size, y, part, addr, width - addr.size,
                              field_name=field)
        y -= name_style.leading - addr.leading + 6
        comp.text(x + addr.size, y, name, name_style, field_name="recipient.name")
        comp.text(x, bottom, f"{self.reference_label(ctx.letter)} {ctx.letter.reference}",
                  Style(L.GOTHIC, 7.5, 9, 0.2))

    def _opening(self, comp: Composer, ctx: _Ctx, kind: str) -> None:
        comp.paragraph(self.w(kind, "apology", ctx))
        comp.paragraph(self.w(kind, "body", ctx))
        comp.ensure(BODY.leading * 4)
        comp.line(self.c("labels.record", ctx), align="center")

    def _end(self, comp: Composer, ctx: _Ctx) -> None:
        comp.line(self.c("labels.end", ctx), align="right")
        comp.space(BODY.leading * 0.3)

    def _closing(self, comp: Composer, ctx: _Ctx) -> None:
        """Whom to call, and the warning against fraudsters, kept together."""
        refund = ctx.letter.programme == REFUND
        closing_text = self.c("closing.refund_text" if refund else "closing.text", ctx)
        gap = 4 * mm
        widths = (CONTENT_W * 0.40, CONTENT_W * 0.60 - gap)
        inner_l, inner_r = widths[0] - 7 * mm, widths[1] - 7 * mm
        contact = self.c("closing.contact", ctx)
        ask = self.c("closing.ask_application_id" if refund else "closing.ask_case_number", ctx)
        notice = self.c("security.notice", ctx)
        code_line = self.c("security.letter_code", ctx)
        text_style = Style(L.MINCHO, 8.5, 12)
        contact_lines = [ln for part in contact.split("\n")
                         for ln in comp.wrap(part, Style(L.GOTHIC, 9.5, 14), inner_l)]
        ask_lines = comp.wrap(ask, text_style, inner_l)
        notice_lines = comp.wrap(notice, text_style, inner_r) + comp.wrap(
            code_line, text_style, inner_r)
        left_h = 14 * 2 + len(contact_lines) * 14 + 3 + len(ask_lines) * text_style.leading + 5
        right_h = 14 * 2 + len(notice_lines) * text_style.leading + 5
        height = max(left_h, right_h)
        closing_h = len(comp.wrap(closing_text, BODY, CONTENT_W, first_indent=BODY.size)) * (
            BODY.leading) + 4
        comp.ensure(closing_h + height)
        comp.paragraph(closing_text, after=0)
        comp.space(4)
        top = comp.y
        x = LEFT
        for heading, fill, box_w in ((self.c("closing.heading", ctx), None, widths[0]),
                                     (self.c("security.heading", ctx), 0.94, widths[1])):
            comp.rect(x, top - height, box_w, height, width=0.8, fill_gray=fill)
            comp.text(x + 3.5 * mm, top - 15, heading, Style(L.GOTHIC_BOLD, 10, 14))
            x += box_w + gap
        first = top - 15 - 15
        y, x = first, LEFT + 3.5 * mm
        for part in contact.split("\n"):
            y = comp.lines_at(x, y, part, Style(L.GOTHIC, 9.5, 14), inner_l)
        y -= 3
        comp.lines_at(x, y, ask, text_style, inner_l, align="justify")
        x = LEFT + widths[0] + gap + 3.5 * mm
        y = comp.lines_at(x, first, notice, text_style, inner_r, align="justify")
        comp.lines_at(x, y, code_line, text_style, inner_r, align="justify")
        comp.y = top - height - 6

    # -- guidance ------------------------------------------------------------
    def _guidance(self, comp: Composer, ctx: _Ctx) -> None:
        letter, g = ctx.letter, "guidance"
        self._opening(comp, ctx, g)
        comp.heading(self.w(g, "damage.heading", ctx))
        columns = [
            Column(9 * mm, self.w(g, "damage.number", ctx), "center"),
            Column(29 * mm, self.w(g, "damage.date", ctx), "center"),
            Column(46 * mm, self.w(g, "damage.channel", ctx)),
            Column(CONTENT_W - 113 * mm, self.w(g, "damage.merchant", ctx)),
            Column(29 * mm, self.w(g, "damage.amount", ctx), "right"),
        ]
        rows = [(str(n), self.date(i.occurred_at), i.channel.label_ja,
                 i.merchant or self.w(g, "damage.no_merchant", ctx), format_yen(i.amount))
                for n, i in enumerate(letter.incidents, 1)]
        names = ["", "", "", "incidents.merchant", ""]
        comp.table(columns, rows, field_names=names,
                   footer=("", self.w(g, "damage.total", ctx), "", "", format_yen(letter.total)))
        comp.space(BODY.leading * 0.25)
        comp.paragraph(self.w(g, "damage.summary", ctx), indent=0)
        comp.heading(self.w(g, "next_steps.heading", ctx))
        comp.paragraph(self.w(g, f"next_steps.{self._next_steps_key(letter)}", ctx))
        comp.heading(self.w(g, "reply.heading", ctx))
        comp.paragraph(self.w(g, "reply.items", ctx), after=0)
        comp.space(BODY.leading * 0.3)
        key = "reply.with_deadline" if letter.reply_by else "reply.without_deadline"
        comp.paragraph(self.w(g, key, ctx))
        self._end(comp, ctx)
        self._closing(comp, ctx)
        self._claim_form(comp, ctx)

    @staticmethod
    def _next_steps_key(letter: LetterData) -> str:
        if letter.channel is Channel.CREDIT_CHARGE and letter.payout_kind is (
                PayoutKind.BANK_ACCOUNT):
            return "credit_charge_transfer"
        return letter.channel.value

    def _claim_form(self, comp: Composer, ctx: _Ctx) -> None:
        letter, g = ctx.letter, "guidance"

        def f(key: str) -> str:
            return self.w(g, f"form.{key}", ctx)

        comp.new_page(continuation=False)
        top = PAGE_H - 16 * mm
        # QR code of the case number, top right; the white around it is its quiet zone
        matrix = qr_matrix(letter.case_number, fast=self.shortcuts.qr)
        size = 20 * mm
        qr_x, qr_y = RIGHT - size, top - size
        comp.ops.append(QROp(qr_x, qr_y, size, matrix))
        comp.text(qr_x + size / 2, qr_y - 10, letter.case_number, Style(L.GOTHIC, 8, 10),
                  align="center")
        comp.text(qr_x + size / 2, top + 4, f("qr_note"), Style(L.GOTHIC, 7, 9, 0.3),
                  align="center")
        comp.text(LEFT, top - 10, f("addressee"), Style(L.MINCHO, 10.5, 15))
        comp.text(PAGE_W / 2, top - 42, f("title"), Style(L.GOTHIC_BOLD, 18, 24),
                  align="center")
        comp.y = qr_y - 18
        comp.paragraph(f("declaration"), BODY_TIGHT, indent=0, after=0)
        blank_date = ("令和　　年　　月　　日" if self.settings.date_style == "era"
                      else "　　　　年　　月　　日")
        comp.line(f"{f('filled_date')}　{blank_date}", BODY_TIGHT, align="right")
        comp.space(3)
        r = letter.recipient
        address = "\n".join(p for p in (f"〒{r.postal_code_display}", r.address, r.building)
                            if p.strip())
        total_text = f"{format_yen(letter.total)}　{f('total_note')}"
        rows: list[tuple[str, str, float]] = [
            (f("case_number"), letter.case_number, 0),
            (f("name"), r.name, 0),
            (f("address"), address, 0),
            (f("incidents"), f("incident_count"), 0),
            (f("total"), total_text, 0),
            (f("signature"), "", 15 * mm),
            (f("phone"), "（　　　　　）　　　　　　－", 0),
        ]
        self._form_rows(comp, rows)
        comp.space(26)
        kind = letter.payout_kind
        if kind is PayoutKind.BANK_ACCOUNT:
            self._form_heading(comp, f("bank_heading"))
            self._form_rows(comp, [
                (f("bank_name"), "　" * 14 + "銀行・信用金庫・信用組合", 0),
                (f("branch_name"), "　" * 14 + "本店・支店・出張所", 0),
                (f("account_type"), f("account_type_choices"), 0),
                (f("account_number"), "", 0),
                (f("holder_kana"), "", 10 * mm),
            ], boxes={3: 7})
            note = f("bank_note")
        elif kind is PayoutKind.NANACO:
            self._form_heading(comp, f("nanaco_heading"))
            self._form_rows(comp, [(f("nanaco_number"), "", 0)], boxes={0: 16})
            note = f("nanaco_note")
        else:
            card = letter.payout if isinstance(letter.payout, CardPayout) else None
            self._form_heading(comp, f("card_heading"))

            def when(day: date | None) -> str:
                return self.date(day) if day else blank_date

            self._form_rows(comp, [
                (f("card_issuer"), card.issuer if card else "", 0),
                (f("card_last4"), "", 0),
                (f("billing_confirmation_date"),
                 when(card.billing_confirmation_date if card else None), 0),
                (f("payment_date"), when(card.payment_date if card else None), 0),
            ], boxes={1: 4}, box_text={1: card.last4 if card else ""}, box_prefix={1: "**** " * 3})
            note = f("card_note")
        comp.space(3)
        comp.paragraph(note, SMALL, indent=0, after=2)
        comp.space(6)
        comp.paragraph(f("return_note"), BODY_TIGHT, indent=0)
        if self.settings.sender_address:
            s = self.settings
            comp.paragraph(f"〒{s.sender_postal_code}　{s.sender_address.replace(chr(10), '　')}"
                           f"　{s.organization}　{s.support_centre}", SMALL, indent=0)
        # office use: three stamp boxes at the bottom right
        stamps = [x.strip() for x in f("office_stamps").split(",") if x.strip()]
        box = 16 * mm
        bottom = L.BOTTOM + 2 * mm
        x0 = RIGHT - box * len(stamps)
        comp.text(x0 - 3 * mm, bottom + box + 3, f("office_use"), Style(L.GOTHIC, 7.5, 9, 0.3),
                  align="right")
        for index, label in enumerate(stamps):
            x = x0 + index * box
            comp.rect(x, bottom, box, box, width=0.5, stroke_gray=0.4)
            comp.rect(x, bottom + box, box, 11, width=0.5, stroke_gray=0.4, fill_gray=0.93)
            comp.text(x + box / 2, bottom + box + 3, label, Style(L.GOTHIC, 7.5, 9, 0.3),
                      align="center")
        if comp.y < bottom + box + 14:
            raise LetterDataError("guidance", "補償申請書が1ページに収まりません。",
                                  "the claim form does not fit on one page")

    def _form_heading(self, comp: Composer, text: str) -> None:
        height = 17
        comp.rect(LEFT, comp.y - height, CONTENT_W, height, stroke_gray=None, fill_gray=0.2)
        comp.text(LEFT + 3 * mm, comp.y - height + 5, text, Style(L.GOTHIC_BOLD, 10, 14, 1.0))
        comp.y -= height

    def _form_rows(self, comp: Composer, rows: Sequence[tuple[str, str, float]], *,
                   boxes: dict[int, int] | None = None, box_text: dict[int, str] | None = None,
                   box_prefix: dict[int, str] | None = None,
                   emphasis: Sequence[int] = ()) -> None:
        """Label | value rows of a form. ``boxes`` maps a row to a count of digit boxes;
        rows in ``emphasis`` show their value in bold."""
        label_w = 36 * mm
        value_w = CONTENT_W - label_w
        pad = 2.4 * mm
        for index, (label, value, min_h) in enumerate(rows):
            style = Style(L.GOTHIC_BOLD, 12, 16) if index in emphasis else BODY_TIGHT
            lines = [ln for part in value.split("\n") if part
                     for ln in comp.wrap(part, style, value_w - 2 * pad)] if value else []
            height = max(min_h, max(1, len(lines)) * style.leading + 2 * pad,
                         9 * mm if boxes and index in boxes else 0)
            top = comp.y
            comp.rect(LEFT, top - height, label_w, height, width=0.6, fill_gray=0.92)
            comp.rect(LEFT + label_w, top - height, value_w, height, width=0.6)
            comp.text(LEFT + pad, top - height / 2 - LABEL.size * 0.35, label, LABEL)
            if boxes and index in boxes:
                count = boxes[index]
                cell = 6.5 * mm
                prefix = (box_prefix or {}).get(index, "")
                x = LEFT + label_w + pad
                if prefix:
                    x += comp.text(x, top - height / 2 - 3.5, prefix, style) + 2
                filled = (box_text or {}).get(index, "")
                for n in range(count):
                    gap = 2 * mm if count == 16 and n and n % 4 == 0 else 0
                    x += gap
                    comp.rect(x, top - height + 1.5 * mm, cell, height - 3 * mm, width=0.5,
                              stroke_gray=0.3)
                    if n < len(filled):
                        comp.text(x + cell / 2, top - height / 2 - 3.5, filled[n], style,
                                  align="center", field_name="payout")
                    x += cell
            else:
                y = top - pad - style.size * 0.9
                if len(lines) == 1:
                    y = top - height / 2 - style.size * 0.35
                for line in lines:
                    comp._line(LEFT + label_w + pad, y, line, style, value_w - 2 * pad, "left",
                               "form")
                    y -= style.leading
            comp.y = top - height

    # -- deficiency ----------------------------------------------------------
    def _deficiency(self, comp: Composer, ctx: _Ctx) -> None:
        letter, d = ctx.letter, "deficiency"
        self._opening(comp, ctx, d)
        comp.heading(self.w(d, "heading", ctx))
        columns = [Column(10 * mm, self.w(d, "col_number", ctx), "center"),
                   Column(72 * mm, self.w(d, "col_item", ctx)),
                   Column(CONTENT_W - 82 * mm, self.w(d, "col_action", ctx))]
        rows = []
        for number, code in enumerate(letter.deficiency_items, 1):
            item = self.wording.item(code)
            assert item is not None  # checked in compose
            rows.append((str(number), item.label.format_map(ctx.values),
                         item.action.format_map(ctx.values)))
        comp.table(columns, rows)
        comp.space(BODY.leading * 0.6)
        if letter.deficiency_note.strip():
            comp.heading(self.w(d, "note_heading", ctx))
            comp.paragraph(letter.deficiency_note, field_name="deficiency_note")
        comp.heading(self.w(d, "return_heading", ctx))
        comp.paragraph(self.w(d, "return_text", ctx))
        key = "with_deadline" if letter.reply_by else "without_deadline"
        comp.paragraph(self.w(d, key, ctx))
        self._end(comp, ctx)
        self._closing(comp, ctx)

    # -- payment notice ------------------------------------------------------
    def _payment_notice(self, comp: Composer, ctx: _Ctx) -> None:
        letter, p = ctx.letter, "payment_notice"
        self._opening(comp, ctx, p)
        comp.heading(self.w(p, "heading", ctx))
        section = {PayoutKind.BANK_ACCOUNT: "bank", PayoutKind.NANACO: "nanaco",
                   PayoutKind.CARD_CANCELLATION: "card"}[letter.payout_kind]
        self._form_rows(comp, [
            (self.w(p, "amount", ctx), str(ctx.values["paid_amount"]), 0),
            (self.w(p, "date", ctx), str(ctx.values["paid_date"]), 0),
            (self.w(p, "method", ctx), self.w(p, f"{section}.method", ctx), 0),
            (self.w(p, "destination", ctx), self.w(p, f"{section}.destination", ctx), 0),
        ], emphasis=(0,))
        comp.space(BODY.leading * 0.9)
        comp.paragraph(self.w(p, f"{section}.text", ctx))
        comp.paragraph(self.w(p, "closing", ctx))
        self._end(comp, ctx)
        self._closing(comp, ctx)

    # -- the balance-refund programme ---------------------------------------
    def _refund_rows(self, ctx: _Ctx, file: str) -> list[tuple[str, str, float]]:
        """お申出日, the first row of a refund letter's table (the application number is
        at the top right, in the window and at the foot of every page)."""
        rows: list[tuple[str, str, float]] = []
        if ctx.values.get("applied_on"):
            rows.append((self.w(file, "applied_on", ctx), str(ctx.values["applied_on"]), 0))
        return rows

    @staticmethod
    def _refund_section(letter: LetterData) -> str:
        return "postal" if isinstance(letter.payout, PostalOrderPayout) else "bank"

    def _refund_confirmation(self, comp: Composer, ctx: _Ctx) -> None:
        letter, f = ctx.letter, "refund_confirmation"
        section = self._refund_section(letter)
        self._opening(comp, ctx, f)
        comp.heading(self.w(f, "heading", ctx))
        rows = self._refund_rows(ctx, f)
        rows.append((self.w(f, "balance", ctx), str(ctx.values["balance"]), 0))
        if letter.from_charges:
            rows.append((self.w(f, "from_charges", ctx), f"−{ctx.values['from_charges']}", 0))
        amount_row = len(rows)
        rows += [(self.w(f, "amount", ctx), str(ctx.values["refund_amount"]), 0),
                 (self.w(f, "method", ctx), self.w(f, f"{section}.method", ctx), 0),
                 (self.w(f, "destination", ctx), self.w(f, f"{section}.destination", ctx), 0)]
        self._form_rows(comp, rows, emphasis=(amount_row,))
        comp.space(BODY.leading * 0.9)
        if letter.from_charges:
            comp.paragraph(self.w(f, "from_charges_note", ctx))
        comp.paragraph(self.w(f, f"{section}.text", ctx))
        comp.paragraph(self.w(f, "closing", ctx))
        self._end(comp, ctx)
        self._closing(comp, ctx)

    def _refund_refusal(self, comp: Composer, ctx: _Ctx) -> None:
        f = "refund_refusal"
        reason = self.refusal_text(ctx.letter)
        self._opening(comp, ctx, f)
        comp.heading(self.w(f, "heading", ctx))
        rows = self._refund_rows(ctx, f)
        rows.append((self.w(f, "reason", ctx), reason, 0))
        self._form_rows(comp, rows)
        comp.space(BODY.leading * 0.9)
        comp.paragraph(self.w(f, "closing", ctx))
        self._end(comp, ctx)
        self._closing(comp, ctx)

    def _refund_payment(self, comp: Composer, ctx: _Ctx) -> None:
        letter, f = ctx.letter, "refund_payment"
        section = self._refund_section(letter)
        self._opening(comp, ctx, f)
        comp.heading(self.w(f, "heading", ctx))
        rows = [(self.w(f, "amount", ctx), str(ctx.values["paid_amount"]), 0)]
        if section == "bank":
            rows.append((self.w(f, "date", ctx), str(ctx.values["paid_date"]), 0))
        else:
            rows.append((self.w(f, "postal.cash_by", ctx), str(ctx.values["cash_by"]), 0))
        rows += [(self.w(f, "method", ctx), self.w(f, f"{section}.method", ctx), 0),
                 (self.w(f, "destination", ctx), self.w(f, f"{section}.destination", ctx), 0)]
        self._form_rows(comp, rows, emphasis=(0, 1) if section == "postal" else (0,))
        comp.space(BODY.leading * 0.9)
        comp.paragraph(self.w(f, f"{section}.text", ctx))
        if section == "postal":
            comp.paragraph(self.w(f, "postal.how", ctx))
        comp.paragraph(self.w(f, "closing", ctx))
        self._end(comp, ctx)
        self._closing(comp, ctx)

    # -- drawing -------------------------------------------------------------
    def draw(self, canvas: Canvas, pages: Pages, letter: LetterData) -> None:
        """Draw a composed letter, one canvas page per page, with "n / N" footers."""
        if self._ink is None or self._ink.canvas is not canvas:
            # what it remembers is only good on its own canvas
            self._ink = Ink(canvas, remember=self.shortcuts.ink)
        values = self._values(letter)
        for number, ops in enumerate(pages, 1):
            for op in (*ops, *self.footer(letter, number, len(pages), values)):
                self._ink.draw(op)
            canvas.showPage()

    def footer(self, letter: LetterData, number: int, total: int,
               values: dict[str, object] | None = None) -> list[TextOp]:
        """The foot of page ``number`` of ``total``: "n / N", the letter code, the case."""
        values = values if values is not None else self._values(letter)
        style = Style(L.GOTHIC, 7.5, 9, 0.35)
        page_text = self.wording.fill("common", "labels.page",
                                      {**values, "page": number, "pages": total})
        ops = []
        for x, text, align in (
                (PAGE_W / 2, page_text, "center"),
                (LEFT, f"{self.wording.raw('common', 'labels.letter_code')} "
                       f"{letter.letter_code}", "left"),
                (RIGHT, f"{self.reference_label(letter)} {letter.reference}", "right")):
            width = self.book.width(text, style.font, style.size)
            start = {"left": x, "right": x - width, "center": x - width / 2}[align]
            ops.append(TextOp(start, 10 * mm, self.book.runs(text, style.font), style.size,
                              gray=style.gray))
        return ops

    def pdf_bytes(self, letter: LetterData) -> tuple[bytes, int]:
        pages = self.compose(letter)
        buffer = io.BytesIO()
        canvas = self.new_canvas(buffer)
        self.draw(canvas, pages, letter)
        canvas.save()
        return buffer.getvalue(), len(pages)

    def new_canvas(self, target) -> Canvas:
        """A canvas for this renderer's letters (a file path or a binary buffer)."""
        return new_canvas(target, author=self.settings.organization, initial_font=L.MINCHO)


