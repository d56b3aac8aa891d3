"""The rules the phone intake and the import share: which victim, which case, and when not."""

from __future__ import annotations

from datetime import datetime

from app.core.clock import JST
from app.domain.channels import Channel
from app.domain.intake_rules import CaseBook, NewVictim, Person, VictimMatcher, victim_fields

NOW = datetime(2019, 8, 20, 10, 0, tzinfo=JST)


def test_the_same_member_id_is_the_same_victim():
    matcher = VictimMatcher()
    first = matcher.victim_for(Person("佐藤 花子", member_id="7i1", email="h@example.jp"), NOW)
    again = matcher.victim_for(Person("佐藤 華子", member_id="7i1", phone="080-9999-0000"), NOW)
    assert isinstance(first, NewVictim) and again is first


def test_a_name_written_differently_with_the_same_phone_is_the_same_victim():
    matcher = VictimMatcher()
    first = matcher.victim_for(Person("山田 太郎", phone="090-1111-2222"), NOW)
    assert matcher.victim_for(Person("山田　太郎", phone="09011112222"), NOW) is first
    assert matcher.victim_for(Person("ﾔﾏﾀﾞ ﾀﾛｳ", name_kana="ヤマダ タロウ",
                                     phone="090-1111-2222"), NOW) is not first


def test_a_name_alone_or_another_member_id_is_someone_else():
    matcher = VictimMatcher()
    matcher.know(41, "7i1", "山田太郎", "", "09011112222", "")
    assert matcher.match(Person("山田 太郎", phone="090-1111-2222")) == 41
    assert matcher.match(Person("山田 太郎", phone="090-0000-0000")) is None
    assert matcher.match(Person("山田 太郎", member_id="7i2", phone="090-1111-2222")) is None


def test_one_case_per_victim_and_channel_opens_with_its_claim():
    book = CaseBook()
    victim = NewVictim(Person("山田 太郎"), ())
    first, _ = book.take(victim, Channel.NANACO_CHARGE, 1000)
    second, _ = book.take(victim, Channel.NANACO_CHARGE, 2000)
    other, _ = book.take(victim, Channel.DEBIT_CHARGE, 500)
    assert first is second and other is not first
    assert [(s.status, s.added, s.count) for s in book.opened()] == [
        ("received", 3000, 2), ("received", 500, 1)]


def test_a_verified_case_takes_no_more_incidents():
    book = CaseBook()
    book.know(7, "nanaco_charge", 70, "verified", "H-0000070-1")
    slot, refused = book.take(7, Channel.NANACO_CHARGE, 1000)
    assert slot.id == 70 and slot.count == 0 and book.grown() == []
    assert "H-0000070-1" in refused[0] and "verified" in refused[1]
    book.know(8, "nanaco_charge", 80, "contacted")
    assert book.take(8, Channel.NANACO_CHARGE, 1000)[1] is None
    assert [(s.id, s.added) for s in book.grown()] == [(80, 1000)]


def test_a_victim_is_stored_with_its_search_keys():
    values = victim_fields(Person("山田　太郎", name_kana="ﾔﾏﾀﾞ ﾀﾛｳ", phone="０９０-1111-2222",
                                  email="Taro@Example.JP"), NOW)
    assert values["phone_digits"] == "09011112222"
    assert values["email_key"] == "taro@example.jp"
    assert values["name_key"] and values["kana_key"]
    assert (values["version"], values["created_at"]) == (1, NOW)
