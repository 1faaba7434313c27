"""The whole conversation: one ``Inbound`` in, the ``Outbound``s to send back.

Order of questions: stranger or not (a stranger may only register); a button; a file
(evidence); a command; the text a previous step is waiting for; a quick reply; else a hint.
Everything runs in the official's language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handlers import (
    chair,
    channel_choice,
    evidence,
    payloads,
    progress,
    quickreply,
    registration,
    reports,
    state,
    tasks,
)
from handlers import settings as user_settings
from handlers.context import HandlerContext
from handlers.texts import my_tasks_button
from handlers.types import Outbound, Reply
from kernel.i18n import _, use_locale
from kernel.textnorm import fold
from storage.conversation import ChatState
from storage.invites import has_invite_format, looks_like_invite_code

Command = Callable[[HandlerContext, str], Sequence[Reply]]

# Typed words that open the task list, like the menu button.
_MENU_WORDS = {"nhiem vu", "menu", "tasks", "my tasks", "nhiem vu cua toi", "danh sach"}


def _summary(ctx: HandlerContext, _args: str) -> list[Reply]:
    return reports.province_summary(ctx)


def _report_files(ctx: HandlerContext, args: str) -> list[Reply]:
    return reports.report_files(ctx, args)  # it checks who may have which report


def _cancel(ctx: HandlerContext, _args: str) -> list[Outbound]:
    return [Outbound(_("Cancelled."), buttons=((my_tasks_button(),),))]


def _start(ctx: HandlerContext, args: str) -> list[Outbound]:
    assert ctx.official is not None
    if args.strip():
        return [already_linked(ctx)]
    return user_settings.show_help(ctx)


COMMANDS: dict[str, Command] = {
    "start": _start,
    "nhiemvu": lambda ctx, args: tasks.my_tasks(ctx),
    "tasks": lambda ctx, args: tasks.my_tasks(ctx),
    "menu": lambda ctx, args: tasks.my_tasks(ctx),
    "xa": lambda ctx, args: chair.commune_view(ctx),
    "giao": chair.assign_command,
    "assign": chair.assign_command,
    "tonghop": _summary,
    "summary": _summary,
    "baocao": _report_files,
    "report": _report_files,
    "lang": user_settings.change_language,
    "kenh": channel_choice.command,
    "channel": channel_choice.command,
    "help": lambda ctx, args: user_settings.show_help(ctx),
    "trogiup": lambda ctx, args: user_settings.show_help(ctx),
    "huy": _cancel,
    "cancel": _cancel,
}


def already_linked(ctx: HandlerContext) -> Outbound:
    assert ctx.official is not None
    return Outbound(_("This chat is already linked to %(name)s.") % {"name": ctx.official.name})


def split_command(text: str) -> tuple[str, str] | None:
    """'/nhiemvu@papi_bot 2' → ('nhiemvu', '2'); None if not a command."""
    if not text.startswith("/"):
        return None
    head, _sep, args = text[1:].partition(" ")
    return fold(head.split("@", 1)[0]), args.strip()


def _stranger(ctx: HandlerContext) -> list[Outbound]:
    text = (ctx.inbound.text or "").strip()
    command = split_command(text)
    if command is not None and command[0] == "start" and command[1]:
        return registration.register(ctx, command[1])
    if command is None and looks_like_invite_code(text):
        return registration.register(ctx, text)
    return registration.stranger()


def _button(ctx: HandlerContext, raw: str) -> list[Outbound]:
    parsed = payloads.parse(raw)
    if parsed is None:
        return [Outbound(_("This button is no longer valid."), buttons=((my_tasks_button(),),))]
    verb, args = parsed.verb, parsed.args
    if verb == "a":
        return progress.button_action(ctx, int(args[0]), args[1])
    if verb == payloads.LIST_PAGE:
        return tasks.my_tasks(ctx, int(args[0]))
    if verb == payloads.COMMUNE_PAGE:
        return chair.commune_view(ctx, int(args[0]))
    if verb == payloads.ASSIGN:
        if args[1] == "0":
            return chair.assign_menu(ctx, int(args[0]))
        return chair.assign(ctx, int(args[0]), [int(args[1])])
    if verb == payloads.PICK:
        return progress.apply_pending(ctx, int(args[0]))
    if verb == payloads.CHANNEL:
        return channel_choice.choose(ctx, ":".join(args))
    return [Outbound(_("This button is no longer valid."), buttons=((my_tasks_button(),),))]


def _text(ctx: HandlerContext, text: str, current: ChatState | None) -> Sequence[Reply]:
    inbound = ctx.inbound
    command = split_command(text)
    if command is not None:
        name, args = command
        state.clear_state(ctx.session, inbound.channel, inbound.chat_id)
        action = COMMANDS.get(name)
        if action is None:
            return [Outbound(_("Unknown command. Send /help to see what you can do."))]
        return action(ctx, args)
    parsed = quickreply.parse_quick_reply(text)
    explicit = isinstance(parsed, quickreply.QuickReply) and parsed.task_number is not None
    if current is not None and not explicit:
        awaited = progress.answer_awaited(ctx, current, text)
        if awaited is not None:
            return awaited
    if isinstance(parsed, quickreply.Ambiguous):
        return [progress.ambiguous(parsed)]
    if parsed is not None:
        return progress.apply_quick(ctx, parsed, current)
    folded = fold(text)
    if folded in _MENU_WORDS:
        return tasks.my_tasks(ctx)
    if has_invite_format(text):
        assert ctx.official is not None
        return [already_linked(ctx)]
    return [
        Outbound(
            _(
                'I did not understand. Reply e.g. "12 xong", "12 50%%" or "12 vướng: reason", '
                "or send /help."
            )
            % {},
            buttons=((my_tasks_button(),),),
        )
    ]


def _dispatch(ctx: HandlerContext) -> Sequence[Reply]:
    inbound = ctx.inbound
    if ctx.official is None:
        return _stranger(ctx)
    if inbound.payload:
        return _button(ctx, inbound.payload)
    current = state.get_state(ctx.session, inbound.channel, inbound.chat_id, ctx.now)
    if inbound.attachments:
        return evidence.receive(ctx, current)
    text = (inbound.text or "").strip()
    if not text:
        return [Outbound(_("Send /help to see what you can do."))]
    if inbound.is_forwarded:  # evidence may be forwarded (above); progress may not
        return [_forwarded()]
    return _text(ctx, text, current)


def _forwarded() -> Outbound:
    return Outbound(
        _(
            "This message was forwarded, so it was not recorded as your progress. "
            'To report, type it yourself, e.g. "12 xong".'
        ),
        buttons=((my_tasks_button(),),),
    )


def handle(ctx: HandlerContext) -> list[Reply]:
    """The conversation's answer to one inbound message (changes go into ``ctx.session``):
    messages to send, and reports for the edge to render."""
    locale = ctx.official.locale if ctx.official else ctx.settings.default_locale
    with use_locale(locale):
        replies = list(_dispatch(ctx))
    return replies
