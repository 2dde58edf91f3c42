"""Display names as the WeChat client shows them: the owner's remark for a contact, else
the member's group nickname (in groups), else the contact's nickname, else the id."""

from __future__ import annotations

from dataclasses import dataclass, field

from imarchive.model import ConversationType

# Built-in service accounts that are not people (WeChat's own notice channels).
SYSTEM_IDS = frozenset({"fmessage", "notifymessage", "floatbottle", "medianote", "newsapp"})


def conversation_type(conversation_id: str) -> ConversationType:
    if conversation_id.endswith(("@chatroom", "@im.chatroom")):
        return ConversationType.GROUP
    if conversation_id.startswith("gh_"):
        return ConversationType.OFFICIAL
    if conversation_id in SYSTEM_IDS:
        return ConversationType.SYSTEM
    return ConversationType.DIRECT


@dataclass(frozen=True, slots=True)
class Contact:
    nickname: str | None = None
    remark: str | None = None
    alias: str | None = None


@dataclass
class Directory:
    contacts: dict[str, Contact] = field(default_factory=dict)
    group_nicks: dict[str, dict[str, str]] = field(default_factory=dict)

    def add_contact(
        self, user: str | None, nickname: str | None, remark: str | None, alias: str | None
    ) -> None:
        if not user:
            return
        old = self.contacts.get(user)
        if old is not None:  # contact beats stranger: keep what we had, fill the gaps
            nickname, remark, alias = (
                old.nickname or nickname,
                old.remark or remark,
                old.alias or alias,
            )
        self.contacts[user] = Contact(nickname or None, remark or None, alias or None)

    def add_group_nicks(self, room: str, members: dict[str, str]) -> None:
        if members:
            self.group_nicks.setdefault(room, {}).update(members)

    def conversation_name(self, conversation_id: str) -> str | None:
        c = self.contacts.get(conversation_id)
        if c is None:
            return None
        return c.remark or c.nickname

    def sender(self, user: str, room: str | None) -> tuple[str, dict[str, str]]:
        """(display name, the other names found) for a sender."""
        c = self.contacts.get(user)
        group_nick = self.group_nicks.get(room, {}).get(user) if room else None
        ranked = [
            ("remark", c.remark if c else None),
            ("group_nickname", group_nick),
            ("nickname", c.nickname if c else None),
        ]
        name = next((v for _, v in ranked if v), user)
        chosen = next((k for k, v in ranked if v), None)
        others = {k: v for k, v in ranked if v and k != chosen}
        if c is not None and c.alias:
            others["alias"] = c.alias
        return name, others
