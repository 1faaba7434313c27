"""How the report's subject line names the plan: "Kế hoạch số 99/KH-UBND ngày 12/03/2024
về duy trì, cải thiện, nâng cao Chỉ số PAPI năm 2024" — as the province's own reports do,
never "Kết quả thực hiện Duy trì, cải thiện…"."""

from __future__ import annotations

import re

from kernel.dates import short_date
from kernel.i18n import _
from storage.models import Plan

_PLAN_WORD = re.compile(r"^\s*(?:kế hoạch|ke hoach|plan)\b[\s:,-]*", re.IGNORECASE)


_ACRONYMS = ("PAPI", "PAR INDEX", "SIPAS", "UBND", "HĐND", "CCHC", "MTTQ")
_PLACE = re.compile(r"\b(tỉnh|thành phố) ((?:\w+ ){0,2}?\w+)(?= năm\b|,|;|$)")


def sentence_case(text: str) -> str:
    """A title typed in capitals ("PHÂN CÔNG … CHỈ SỐ PAPI TỈNH BẮC GIANG NĂM 2024") as
    the body of a sentence: small letters, acronyms and the province's name kept."""
    text = text.lower()
    for acronym in _ACRONYMS:
        text = re.sub(rf"\b{re.escape(acronym.lower())}\b", acronym, text)
    text = re.sub(r"\bchỉ số\b", "Chỉ số", text)
    return _PLACE.sub(lambda m: f"{m.group(1)} {m.group(2).title()}", text)


def _about(title: str) -> str:
    """The plan's title as the object of "về …": without a leading "Kế hoạch", and with a
    small first letter unless it starts an acronym ("PAPI")."""
    text = _PLAN_WORD.sub("", " ".join(title.split()))
    if text.isupper():
        return sentence_case(text)
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def plan_reference(plan: Plan) -> str:
    """The plan as the subject line names it (current locale)."""
    about = _about(plan.title)
    if plan.number:
        issued = (
            _(" dated %(date)s") % {"date": short_date(plan.issued_on)} if plan.issued_on else ""
        )
        return _("Plan No. %(number)s%(issued)s on %(about)s") % {
            "number": plan.number,
            "issued": issued,
            "about": about,
        }
    return _("Plan %(about)s") % {"about": about}
