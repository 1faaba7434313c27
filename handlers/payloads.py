"""Button payloads: short strings every channel can carry (``MAX_PAYLOAD_BYTES``).

Format ``<verb>:<arg>[:<arg>]``. Reminders (bot/scheduler) and the conversation both build
task buttons here, so a tap means the same thing wherever the message came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.types import MAX_PAYLOAD_BYTES, Button
from kernel.i18n import _

# Actions on one assignment: "a:<assignment_id>:<action>".
VIEW = "view"
PROGRESS = "progress"
DONE = "done"  # the same words as AssignmentStatus, so a payload reads naturally
BLOCKED = "blocked"
NOTE = "note"
EVIDENCE = "evidence"
TASK_ACTIONS = (VIEW, PROGRESS, DONE, BLOCKED, NOTE, EVIDENCE)

# A page of the task list: "l:<page>"; the commune view of a chair: "x:<page>".
LIST_PAGE = "l"
COMMUNE_PAGE = "x"
# A chair hands assignment A to official O: "g:<A>:<O>"; O = 0 shows the pick list.
ASSIGN = "g"
# Apply the quick reply waiting in the conversation state to assignment A: "q:<A>".
PICK = "q"
# Reminders and notices go to channel C (/kenh): "k:<C>"; "k:auto": the channel last written.
CHANNEL = "k"
CHANNEL_AUTO = "auto"


# Ids and page numbers fit a signed 8-byte database integer: at most 18 ASCII digits. isdigit()
# alone accepts "²" or "٣", which int() then refuses or the database cannot hold.
MAX_NUMBER_DIGITS = 18


def is_number(text: str) -> bool:
    """True for a whole number this bot could have sent: ASCII digits, not too many."""
    return 0 < len(text) <= MAX_NUMBER_DIGITS and text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class Payload:
    verb: str
    args: tuple[str, ...]


def task_action(assignment_id: int, action: str) -> str:
    if action not in TASK_ACTIONS:
        raise ValueError(f"unknown task action {action!r}")
    return f"a:{assignment_id}:{action}"


def list_page(page: int) -> str:
    return f"{LIST_PAGE}:{page}"


def assign(assignment_id: int, official_id: int) -> str:
    return f"{ASSIGN}:{assignment_id}:{official_id}"


def pick(assignment_id: int) -> str:
    return f"{PICK}:{assignment_id}"


def channel_choice(channel: str) -> str:
    return f"{CHANNEL}:{channel}"


def parse(payload: str) -> Payload | None:
    """The payload's parts, or None for something this bot never sent (forged or stale)."""
    if not payload or len(payload.encode()) > MAX_PAYLOAD_BYTES:
        return None
    verb, *args = payload.split(":")
    well_formed = {
        "a": len(args) == 2 and is_number(args[0]) and args[1] in TASK_ACTIONS,
        LIST_PAGE: len(args) == 1 and is_number(args[0]),
        COMMUNE_PAGE: len(args) == 1 and is_number(args[0]),
        ASSIGN: len(args) == 2 and all(is_number(arg) for arg in args),
        PICK: len(args) == 1 and is_number(args[0]),
        CHANNEL: len(args) >= 1 and all(args),  # a channel name may itself hold a ':'
    }
    if not verb or not well_formed.get(verb, True):
        return None
    return Payload(verb, tuple(args))


def task_buttons(assignment_id: int) -> tuple[tuple[Button, ...], ...]:
    """The one-tap actions on a task, in the current locale."""
    return (
        (
            Button(_("In progress"), task_action(assignment_id, PROGRESS)),
            Button(_("Done"), task_action(assignment_id, DONE)),
        ),
        (
            Button(_("Blocked"), task_action(assignment_id, BLOCKED)),
            Button(_("Add a note"), task_action(assignment_id, NOTE)),
        ),
        (Button(_("Send evidence"), task_action(assignment_id, EVIDENCE)),),
    )
