"""The claim workflow: which moves exist and which rules each must pass.

This module is the single source of truth. Services call ``check_move``
before changing anything; the GUI calls ``open_moves`` to show only what the
operator may do now. Neither Qt nor SQL is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.core.errors import MoveNotAllowed, PermissionDenied
from app.domain.channels import Channel
from app.domain.roles import Actor, Role
from app.domain.states import Status

S = Status


@dataclass(frozen=True)
class Move:
    """One edge of the move table."""

    source: Status
    target: Status
    name: str
    label_ja: str
    needs_reason: bool = False
    supervisor_only: bool = False
    # A step of a payout rail: made only by the rail itself (the release of a batch,
    # the bank's result, a list handed over, a confirmation), never by hand.
    rail_only: bool = False
    # Made only when a case's payout details change after approval (the rules send it
    # back to documents_received): never offered, never by hand.
    on_payout_change: bool = False


def _m(source: Status, target: Status, name: str, label: str, **kw: bool) -> Move:
    return Move(source, target, name, label, **kw)


_EDGES: tuple[Move, ...] = (
    _m(S.RECEIVED, S.CONTACTED, "contact", "案内済にする"),
    _m(S.RECEIVED, S.UNREACHABLE, "mark_unreachable", "連絡不能にする"),
    _m(S.CONTACTED, S.DOCUMENTS_RECEIVED, "receive_documents", "書類受領にする"),
    _m(S.CONTACTED, S.UNREACHABLE, "mark_unreachable", "連絡不能にする"),
    _m(S.DOCUMENTS_RECEIVED, S.VERIFIED, "verify", "確認済にする"),
    _m(S.DOCUMENTS_RECEIVED, S.CONTACTED, "deficiency", "書類不備で差し戻す", needs_reason=True),
    _m(S.VERIFIED, S.APPROVED, "approve", "承認する", supervisor_only=True),
    _m(S.VERIFIED, S.DOCUMENTS_RECEIVED, "send_back", "書類確認に差し戻す", needs_reason=True),
    _m(S.APPROVED, S.PAYOUT_REQUESTED, "request_payout", "支払手続きを開始する", rail_only=True),
    _m(
        S.APPROVED, S.VERIFIED, "withdraw_approval", "承認を取り消す",
        needs_reason=True, supervisor_only=True,
    ),
    _m(S.PAYOUT_REQUESTED, S.PAID, "mark_paid", "補償済にする", rail_only=True),
    _m(S.PAYOUT_REQUESTED, S.APPROVED, "payout_failed", "支払不能で戻す", needs_reason=True,
       rail_only=True),
    _m(S.APPROVED, S.DOCUMENTS_RECEIVED, "payout_changed", "支払先変更で書類確認に戻す",
       needs_reason=True, on_payout_change=True),
    _m(S.PAID, S.CLOSED, "close", "完了にする"),
    _m(S.UNREACHABLE, S.RECEIVED, "reached", "受付に戻す"),
    _m(S.UNREACHABLE, S.CONTACTED, "reached", "案内済にする"),
    _m(S.REJECTED, S.RECEIVED, "reopen", "再開する", needs_reason=True, supervisor_only=True),
)

_HOLDABLE = (S.RECEIVED, S.CONTACTED, S.DOCUMENTS_RECEIVED, S.VERIFIED, S.APPROVED)
_REJECTABLE = (S.RECEIVED, S.CONTACTED, S.DOCUMENTS_RECEIVED, S.VERIFIED)
_MERGEABLE = (S.RECEIVED, S.CONTACTED, S.DOCUMENTS_RECEIVED)

MOVES: dict[tuple[Status, Status], Move] = {(m.source, m.target): m for m in _EDGES}
for _s in _HOLDABLE:
    MOVES[(_s, S.ON_HOLD)] = Move(_s, S.ON_HOLD, "hold", "保留にする", needs_reason=True)
    # Leaving hold returns to the state the case left; the edge exists per state.
    MOVES[(S.ON_HOLD, _s)] = Move(S.ON_HOLD, _s, "resume", "保留を解除する")
for _s in _REJECTABLE:
    MOVES[(_s, S.REJECTED)] = Move(
        _s, S.REJECTED, "reject", "不支給にする", needs_reason=True, supervisor_only=True
    )
for _s in _MERGEABLE:
    MOVES[(_s, S.MERGED)] = Move(_s, S.MERGED, "merge", "他の案件に統合する", needs_reason=True)


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about one case, read by the service."""

    channel: Channel
    status: Status
    claimed_amount: int
    held_from: Status | None = None
    verified_by: int | None = None
    payout_complete: bool = False
    # The case holds a live place on a payout rail (a transfer in a batch, a line of a
    # card or nanaco list): only the rail may move it until that place is let go.
    on_rail: bool = False


@dataclass(frozen=True)
class Circumstances:
    """Who is acting and when, and the settings that bear on the rules."""

    actor: Actor
    today: date
    outreach_start: date


def targets_from(status: Status) -> frozenset[Status]:
    return frozenset(target for (source, target) in MOVES if source == status)


def _structural(facts: CaseFacts, target: Status) -> Move:
    move = MOVES.get((facts.status, target))
    if move is None:
        raise MoveNotAllowed(
            f"{facts.status.label_ja}から{target.label_ja}へは移せません。",
            f"A case cannot move from {facts.status} to {target}.",
        )
    if move.name == "resume" and facts.held_from != target:
        held = facts.held_from.label_ja if facts.held_from else "不明"
        raise MoveNotAllowed(
            f"保留の解除は保留前の状態（{held}）に戻すことしかできません。",
            f"A case on hold resumes only in the state it left ({facts.held_from}).",
        )
    return move


def _check_role(move: Move, facts: CaseFacts, actor: Actor) -> None:
    if move.supervisor_only and actor.role is not Role.SUPERVISOR:
        raise PermissionDenied(
            f"「{move.label_ja}」はスーパーバイザーだけが行えます。",
            f"Only a supervisor may {move.name.replace('_', ' ')}.",
        )
    if move.name == "approve" and facts.verified_by is not None \
            and actor.operator_id == facts.verified_by:
            raise PermissionDenied(
                "この案件を確認した本人は承認できません（二者確認）。",
                "The operator who verified a case cannot approve it (four eyes).",
            )


def _check_rail(move: Move, facts: CaseFacts, by_rail: bool,
                payout_change: bool = False) -> None:
    if move.on_payout_change and not payout_change:
        raise MoveNotAllowed(
            f"「{move.label_ja}」は支払先の変更でだけ行われます。",
            f"'{move.name}' happens only when the payout details change.",
        )
    if move.rail_only and not by_rail:
        raise MoveNotAllowed(
            f"「{move.label_ja}」は手で行えません。振込バッチの承認・振込結果の入力、"
            "またはカード会社・nanacoへの依頼リストと確認の入力で行われます。",
            f"'{move.name}' is never made by hand: only a batch's release, the bank's "
            "result, a card or nanaco list and its confirmation make it.",
        )
    if facts.on_rail and not move.rail_only and move.name != "close":
        raise MoveNotAllowed(
            "この案件は支払の手続き（振込バッチまたは依頼リスト）に入っています。"
            "バッチの取消か結果の入力が先です。",
            "This case holds a place on a payout rail (a batch or a list): cancel the batch "
            "or enter the result first.",
        )


def _check_rules(move: Move, facts: CaseFacts, when: Circumstances) -> None:
    if (
        move.target is S.CONTACTED
        and facts.channel.guided_from_outreach_date
        and when.today < when.outreach_start
    ):
        raise MoveNotAllowed(
            f"{facts.channel.label_ja}の案内は{when.outreach_start:%Y-%m-%d}から開始します。",
            f"{facts.channel} cases cannot be contacted before {when.outreach_start}.",
        )
    if move.name in ("receive_documents", "verify") and not facts.payout_complete:
        raise MoveNotAllowed(
            "支払先の情報がそろっていません。先に支払先を登録してください。",
            "The payout details this channel needs are not complete.",
        )


def check_move(
    facts: CaseFacts, target: Status, when: Circumstances, reason: str | None = None,
    *, by_rail: bool = False, payout_change: bool = False,
) -> Move:
    """Return the move if it is allowed now; raise with the reason if not.

    ``by_rail`` is passed only by the payout rails (app.services.payouts), and
    ``payout_change`` only by a change of payout details (app.services.payout_details)."""
    move = _structural(facts, target)
    _check_rail(move, facts, by_rail, payout_change)
    _check_role(move, facts, when.actor)
    _check_rules(move, facts, when)
    if move.needs_reason and not (reason and reason.strip()):
        raise MoveNotAllowed(
            f"「{move.label_ja}」には理由の入力が必要です。",
            f"The move '{move.name}' needs a reason.",
        )
    return move


def _offered_here(facts: CaseFacts, when: Circumstances):
    """The moves from this state that the actor's role may make by hand."""
    for (source, target), move in MOVES.items():
        if source != facts.status:
            continue
        try:
            _structural(facts, target)
            _check_rail(move, facts, by_rail=False)
            _check_role(move, facts, when.actor)
        except (MoveNotAllowed, PermissionDenied):
            continue
        yield move


def open_moves(facts: CaseFacts, when: Circumstances) -> list[Move]:
    """The moves this actor may make on this case now (reasons still to be given).
    A rail's own steps are never offered: no one makes them by hand."""
    allowed = []
    for move in _offered_here(facts, when):
        try:
            _check_rules(move, facts, when)
        except MoveNotAllowed:
            continue
        allowed.append(move)
    return allowed


@dataclass(frozen=True)
class BlockedMove:
    """A move this actor could make but for a rule of the case now (e.g. 書類受領
    before the payout details): shown beside the moves with its reason."""

    move: Move
    ja: str
    en: str


def blocked_moves(facts: CaseFacts, when: Circumstances) -> list[BlockedMove]:
    """The moves the actor's role allows from here that a rule of the case refuses."""
    blocked = []
    for move in _offered_here(facts, when):
        try:
            _check_rules(move, facts, when)
        except MoveNotAllowed as refusal:
            blocked.append(BlockedMove(move, refusal.ja, refusal.en))
    return blocked


def check_verified_amount(
    claimed: int, verified: int, actor: Actor, reason: str | None
) -> bool:
    """Verified amount at most the claimed one; more needs a supervisor and a reason.

    Returns True when the amount is an override (above the claim).
    """
    if isinstance(verified, bool) or not isinstance(verified, int) or verified <= 0:
        raise MoveNotAllowed(
            "確認金額は1円以上の整数で入力してください。",
            "The verified amount must be a whole number of yen above zero.",
        )
    if verified <= claimed:
        return False
    if actor.role is not Role.SUPERVISOR:
        raise PermissionDenied(
            f"確認金額（{verified:,}円）が請求額（{claimed:,}円）を超えています。"
            "超える場合はスーパーバイザーの承認が必要です。",
            f"The verified amount {verified} exceeds the claim {claimed}: supervisor only.",
        )
    if not (reason and reason.strip()):
        raise MoveNotAllowed(
            "請求額を超える確認金額には理由が必要です。",
            "A verified amount above the claim needs a written reason.",
        )
    return True
