"""Tab-separated text: an appendix table copied out of Word (seed 000, the appendices at the
end of seeds 003 and 004). Lines without a tab are running text, not rows."""

from __future__ import annotations

from bot.planimport.table import RawRow


def tab_rows(lines: list[str]) -> list[RawRow]:
    """One row per line that has a tab; a blank line is kept as an empty row (page break)."""
    rows: list[RawRow] = []
    for number, line in enumerate(lines, start=1):
        if "\t" in line:
            rows.append(RawRow(cells=line.split("\t"), where=f"line {number}"))
        elif not line.strip():
            rows.append(RawRow(cells=[], where=f"line {number}"))
    return rows


def has_tab_table(lines: list[str]) -> bool:
    from bot.planimport.table import header_roles

    return any("\t" in line and header_roles(line.split("\t")) for line in lines)
