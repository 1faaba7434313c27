"""/kenh: the channels an official is linked on, and the one reminders and notices go to.

``/kenh`` alone lists them with a menu (buttons, or the numbered menu where a channel has
none); ``/kenh zalo``, a menu choice, or "tự động" (automatic: the channel they last wrote
from) sets it. Names match without diacritics, case or underscores, and a unique beginning is
enough ("tele"). The choice is stored as a channel name (``Official.preferred_channel``);
where messages then go, with fallbacks, is ``bot.routing``'s part. No channel is named here:
the names are those of the official's own linked accounts.
"""

from __future__ import annotations

from handlers import payloads
from handlers.context import HandlerContext
from handlers.types import Button, Outbound
from kernel.i18n import _
from kernel.textnorm import fold, nfc
from storage.identities import choose_channel, linked_identities
from storage.models import ChannelIdentity

AUTO = payloads.CHANNEL_AUTO
_AUTO_WORDS = {"tu dong", "tudong", "auto", "automatic", "mac dinh", "default"}
_ECHO_LIMIT = 30  # characters of an unknown name repeated back


def channel_label(name: str) -> str:
    """A channel name as people read it: "some_oa" → "Some OA", "chat" → "Chat"."""
    words = [w for w in name.replace("-", "_").split("_") if w]
    return " ".join(w.upper() if len(w) <= 2 else w.capitalize() for w in words) or name


def _keys(name: str) -> set[str]:
    spaced = fold(name.replace("_", " ").replace("-", " "))
    return {fold(name), spaced, spaced.replace(" ", ""), fold(channel_label(name))}


def match_channel(names: list[str], typed: str) -> str | None:
    """The one linked channel ``typed`` names: exactly, else by a unique beginning."""
    key = fold(typed)
    if not key:
        return None
    compact = key.replace(" ", "")
    exact = [n for n in names if key in _keys(n) or compact in _keys(n)]
    if exact:
        return exact[0] if len(exact) == 1 else None
    started = [n for n in names if any(k.startswith(key) for k in _keys(n))]
    return started[0] if len(started) == 1 else None


def _linked(ctx: HandlerContext) -> list[ChannelIdentity]:
    assert ctx.official is not None and ctx.official.id is not None
    return linked_identities(ctx.session, [ctx.official.id]).get(ctx.official.id, [])


def _names(identities: list[ChannelIdentity]) -> list[str]:
    return list(dict.fromkeys(identity.channel for identity in identities))  # link order


def show(ctx: HandlerContext, note: str | None = None) -> list[Outbound]:
    """The linked channels, which one is current, and a menu to choose."""
    assert ctx.official is not None
    identities = _linked(ctx)
    names = _names(identities)
    lines = [note] if note else []
    lines.append(_("Your linked channels:"))
    for name in names:
        reachable = any(i.unreachable_at is None for i in identities if i.channel == name)
        label = channel_label(name)
        if reachable:
            lines.append(f"• {label}")
        else:
            lines.append("• " + _("%(channel)s — cannot be reached") % {"channel": label})
    preferred = ctx.official.preferred_channel
    if preferred in names:
        lines.append(_("Now: %(channel)s (your choice).") % {"channel": channel_label(preferred)})
    else:
        written = channel_label(ctx.inbound.channel)  # they are writing from it right now
        lines.append(
            _("Now: automatic — the channel you last wrote from (%(channel)s).")
            % {"channel": written}
        )
    lines.append(
        _(
            "Reminders and notices go there; an answer to a message of yours comes back "
            "where you wrote it. Choose:"
        )
    )
    rows = [(Button(channel_label(name), payloads.channel_choice(name)),) for name in names]
    rows.append((Button(_("Automatic"), payloads.channel_choice(AUTO)),))
    buttons = tuple(rows)
    return [Outbound("\n".join(lines), buttons=buttons)]


def command(ctx: HandlerContext, args: str) -> list[Outbound]:
    """``/kenh`` (show) or ``/kenh <name | tự động>`` (set)."""
    if not args.strip():
        return show(ctx)
    if fold(args) in _AUTO_WORDS:
        return choose(ctx, AUTO)
    names = _names(_linked(ctx))
    found = match_channel(names, args)
    if found is None:
        typed = nfc(args)[:_ECHO_LIMIT]
        return show(ctx, _("You have not linked the channel %(channel)s.") % {"channel": typed})
    return choose(ctx, found)


def choose(ctx: HandlerContext, name: str) -> list[Outbound]:
    """Set the channel (a menu choice or a matched name); AUTO: the last written."""
    assert ctx.official is not None
    if name == AUTO:
        choose_channel(ctx.session, ctx.official.id, None)
        return [
            Outbound(_("From now on, reminders and notices go to the channel you last wrote from."))
        ]
    if name not in _names(_linked(ctx)):  # a forged or stale button
        label = channel_label(name)[:_ECHO_LIMIT]
        return show(ctx, _("You have not linked the channel %(channel)s.") % {"channel": label})
    choose_channel(ctx.session, ctx.official.id, name)
    return [
        Outbound(
            _("From now on, reminders and notices go to %(channel)s.")
            % {"channel": channel_label(name)}
        )
    ]
