"""What a WhatsApp body means: media, deletions, calls, polls, system notices.

Tables, not code: each marker is written once per language as it appears in exports
(English, German, Spanish, French, Portuguese, Italian, Dutch, Russian at least). The
body itself is never changed; classification looks at a copy without the leading LRM/RLM
that iOS puts before markers. Unknown markers stay text (``kind=unknown`` only for a lone
``<…>`` line, which is how WhatsApp writes markers).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from imarchive.model import MessageKind

K = MessageKind

# Android media-less export: one marker for every media type.
MEDIA_OMITTED = frozenset(
    {
        "<Media omitted>",
        "<Medien ausgeschlossen>",
        "<Multimedia omitido>",
        "<Archivo omitido>",
        "<Médias omis>",
        "<Fichier omis>",
        "<Mídia oculta>",
        "<Arquivo de mídia oculto>",
        "<Media omessi>",
        "<Media weggelaten>",
        "<Без медиафайлов>",
        "<Медиафайлы удалены>",
    }
)

# iOS media-less export: the type is named. Keys are the text after any LRM.
IOS_OMITTED: dict[str, MessageKind] = {}
for _kind, _words in (
    (
        K.IMAGE,
        "image omitted|Bild weggelassen|imagen omitida|image absente|imagem ocultada"
        "|immagine omessa|afbeelding weggelaten|изображение отсутствует",
    ),
    (
        K.VIDEO,
        "video omitted|Video weggelassen|video omitido|vidéo absente|vídeo ocultado"
        "|video omesso|video weggelaten|видео отсутствует",
    ),
    (
        K.AUDIO,
        "audio omitted|Audio weggelassen|audio omitido|audio omis|áudio ocultado"
        "|audio omesso|audio weggelaten|аудиофайл отсутствует",
    ),
    (
        K.STICKER,
        "sticker omitted|Sticker weggelassen|sticker omitido|autocollant omis"
        "|figurinha omitida|sticker omesso|sticker weggelaten|стикер отсутствует",
    ),
    (
        K.GIF,
        "GIF omitted|GIF weggelassen|GIF omitido|GIF retiré|GIF omesso|GIF weggelaten"
        "|GIF отсутствует",
    ),
    (
        K.CONTACT,
        "Contact card omitted|Kontaktkarte weggelassen|tarjeta de contacto omitida"
        "|fiche contact omise|cartão de contato omitido|scheda contatto omessa"
        "|contactkaart weggelaten|карточка контакта отсутствует",
    ),
):
    for _w in _words.split("|"):
        IOS_OMITTED[_w] = _kind
_DOC_OMITTED = re.compile(
    r"(?P<name>.*?)\s*(?:\u200e)?(?:document omitted|Dokument weggelassen|documento omitido"
    r"|document omis|documento ocultado|documento omesso|document weggelaten"
    r"|документ отсутствует)$"
)

# a body can only be a "document omitted" line if it holds one of these (cheap test first)
_DOC_OMITTED_WORDS = ("omi", "weggel", "ocult", "omess", "отсутству")

# Android "(file attached)" after the file name; the caption follows on the next line.
_ATTACHED_ANDROID = re.compile(
    r"\u200e?(?P<name>[^\n]*?) \((?:file attached|Datei angehängt|archivo adjunto"
    r"|fichier joint|arquivo anexado|file allegato|bestand bijgevoegd|файл добавлен"
    r"|soubor byl přiložen)\)(?=\r?\n|$)"
)
# iOS "<attached: 00000035-PHOTO-….jpg>", caption or document info before it.
_ATTACHED_IOS = re.compile(
    r"<\u200e?(?:attached|Anhang|adjunto|pièce jointe|anexo|allegato|bijlage|вложение"
    r"|附件|添付ファイル)\s?[:：] ?(?P<name>[^<>\n]+)>"
)
_IOS_TYPES: dict[str, MessageKind] = {
    "PHOTO": K.IMAGE,
    "VIDEO": K.VIDEO,
    "AUDIO": K.AUDIO,
    "STICKER": K.STICKER,
    "GIF": K.GIF,
}
_ANDROID_TYPES: dict[str, MessageKind] = {
    "IMG": K.IMAGE,
    "VID": K.VIDEO,
    "PTT": K.VOICE,
    "AUD": K.AUDIO,
    "STK": K.STICKER,
    "GIF": K.GIF,
}
_ANDROID_NAME = re.compile(r"(IMG|VID|PTT|AUD|STK|GIF)-\d{8}-WA\d+")
_IOS_NAME = re.compile(r"\d+-(PHOTO|VIDEO|AUDIO|STICKER|GIF)-")

DELETED = frozenset(
    {
        "This message was deleted",
        "This message was deleted.",
        "You deleted this message",
        "You deleted this message.",
        "Diese Nachricht wurde gelöscht",
        "Diese Nachricht wurde gelöscht.",
        "Du hast diese Nachricht gelöscht",
        "Du hast diese Nachricht gelöscht.",
        "Se eliminó este mensaje",
        "Se eliminó este mensaje.",
        "Eliminaste este mensaje",
        "Eliminaste este mensaje.",
        "Ce message a été supprimé",
        "Ce message a été supprimé.",
        "Vous avez supprimé ce message",
        "Vous avez supprimé ce message.",
        "Mensagem apagada",
        "Esta mensagem foi apagada",
        "Esta mensagem foi apagada.",
        "Você apagou esta mensagem",
        "Você apagou esta mensagem.",
        "Questo messaggio è stato eliminato",
        "Questo messaggio è stato eliminato.",
        "Hai eliminato questo messaggio",
        "Hai eliminato questo messaggio.",
        "Dit bericht is verwijderd",
        "Dit bericht is verwijderd.",
        "Je hebt dit bericht verwijderd",
        "Je hebt dit bericht verwijderd.",
        "Данное сообщение удалено",
        "Данное сообщение удалено.",
        "Вы удалили данное сообщение",
        "Вы удалили это сообщение",
    }
)
_DELETED_BY_ADMIN = ("This message was deleted by admin ", "Diese Nachricht wurde von Admin")
VIEW_ONCE = frozenset({"null"})
WAITING = frozenset(
    {
        "Waiting for this message",
        "Waiting for this message. This may take a while.",
        "Warten auf diese Nachricht",
        "Esperando el mensaje",
        "En attente de ce message",
        "Aguardando mensagem",
        "In attesa del messaggio",
        "Wachten op dit bericht",
        "Ожидание сообщения",
    }
)
_EDITED = (
    "<This message was edited>",
    "<Diese Nachricht wurde bearbeitet>",
    "<Se editó este mensaje.>",
    "<Ce message a été modifié>",
    "<Mensagem editada>",
    "<Questo messaggio è stato modificato>",
    "<Dit bericht is bewerkt>",
    "<Сообщение изменено>",
)
# after a space; iOS puts an LRM between the space and the marker
EDITED_SUFFIXES = tuple(" " + e for e in _EDITED) + tuple(" \u200e" + e for e in _EDITED)
_CALL = re.compile(
    r"(?:Missed (?:group )?(?:voice|video) call|(?:Voice|Video) call\.|"
    r"(?:Verpasster|Entgangener) (?:Sprach|Video)anruf|Llamada perdida|Appel (?:vocal|vidéo) manqué"
    r"|Chamada (?:de voz|de vídeo) perdida|Chiamata (?:vocale|video) persa"
    r"|Gemiste (?:spraak|video)oproep|Пропущенный (?:аудио|видео)звонок)"
)
_LOCATION = re.compile(
    r"(?:location|Location|Standort|ubicación|Ubicación|Position|localização|Localização"
    r"|posizione|Posizione|locatie|Locatie|геопозиция|Местоположение|местоположение)"
    r" ?: ?https?://"
)
_POLL = re.compile(r"(?:POLL|UMFRAGE|ENCUESTA|SONDAGE|ENQUETE|SONDAGGIO|PEILING|ОПРОС) ?:")
_LONE_MARKER = re.compile(r"<[^<>\n]{1,80}>")

# iOS notices that carry the chat (or group) name as author, recognised by their text; a
# media line is never one (a file named "Items added in Q1.pdf").
_NOT_MEDIA = (
    r"(?!.*<\u200e?(?:attached|Anhang|adjunto|pièce jointe|anexo|allegato|bijlage|вложение"
    r"|附件|添付ファイル)\s?[:：])"
    r"(?!.*[\s\u200e](?:omitted|weggelassen|omitido|omis|ocultado|omesso|weggelaten|отсутствует)$)"
)
SYSTEM_NOTICE = re.compile(
    _NOT_MEDIA
    + r"(?:Messages and calls are end-to-end encrypted|Messages to this group are now secured"
    r"|Messages you send to this (?:group|chat)|This business uses a secure service"
    r"|This chat is with a business account|Your security code with .* changed"
    r"|.* changed their phone number|You updated the message timer|.* updated the message timer"
    r"|.* turned (?:on|off) disappearing messages|You turned (?:on|off) disappearing messages"
    r"|.* created (?:this )?group|You created (?:this )?group|.* added |You were added"
    r"|.* removed |.* left$|.* joined using this group|.* changed the (?:subject|group )"
    r"|.* changed this group's|You're now an admin|You are now an admin"
    r"|.* deleted this group's icon|You deleted this group's icon"
    r"|Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt"
    r"|Los mensajes y las llamadas están cifrados de extremo a extremo"
    r"|Les messages et les appels sont chiffrés de bout en bout"
    r"|As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta"
    r"|I messaggi e le chiamate sono crittografati end-to-end"
    r"|Berichten en oproepen worden end-to-end versleuteld"
    r"|Сообщения и звонки защищены сквозным шифрованием)"
)
# Phrases that show a ``Name: `` prefix is really part of an authorless event line (a
# subject with ": " in it), not an author.
SYSTEM_IN_AUTHOR = re.compile(
    r" (?:changed the subject|changed the group (?:description|name)|created group"
    r"|hat den Betreff|hat die Gruppe|cambió el asunto|creó el grupo|a modifié le sujet"
    r"|a créé le groupe|mudou o assunto|criou o grupo|ha cambiato l'oggetto|ha creato il gruppo"
    r"|heeft het onderwerp|heeft groep|изменил\S* тему|создал\S* групп)"
)
# Whole-file evidence that a chat is a group (SPEC conversation_type).
GROUP_EVENT = re.compile(
    r"Messages to this group are now secured| created group | created this group|"
    r" added | removed |You were added| joined using this group's invite link|"
    r"changed the subject |changed this group's|changed the group description|"
    r" left$|^You left$|deleted this group's icon|now an admin$|"
    r"hat die Gruppe .* erstellt|hat .* hinzugefügt|creó el grupo|a créé le groupe|criou o grupo"
    r"|ha creato il gruppo|heeft groep|создал\S* групп"
)


class Meaning(NamedTuple):
    kind: MessageKind
    native_type: str | None
    media: str | None  # None, "omitted" (media-less export) or "ref" (look the file up)
    media_name: str | None
    deleted: bool
    edited: bool


TEXT = Meaning(K.TEXT, None, None, None, False, False)
_STRIP = "\u200e\u200f"


def _kind_of_name(name: str) -> tuple[MessageKind, str]:
    m = _ANDROID_NAME.match(name)
    if m:
        return _ANDROID_TYPES[m.group(1)], m.group(1)
    m = _IOS_NAME.match(name)
    if m:
        return _IOS_TYPES[m.group(1)], m.group(1)
    if name.lower().endswith(".vcf"):
        return K.CONTACT, "vcf"
    return K.DOCUMENT, "document"


def classify(body: str) -> Meaning:
    """The meaning of a user message body (system lines are classified by the reader)."""
    edited = False
    core = body
    if core.endswith(">"):
        for suffix in EDITED_SUFFIXES:
            if core.endswith(suffix):
                edited = True
                core = core[: -len(suffix)]
                break
    core = core.lstrip(_STRIP)
    if not core:
        return Meaning(K.UNKNOWN, None, None, None, False, edited) if not body else TEXT
    if core in DELETED or core.startswith(_DELETED_BY_ADMIN):
        return Meaning(K.UNKNOWN, "deleted", None, None, True, edited)
    if core in VIEW_ONCE:
        return Meaning(K.UNKNOWN, "null", None, None, False, edited)
    if core in WAITING:
        return Meaning(K.UNKNOWN, "waiting", None, None, False, edited)
    if core in MEDIA_OMITTED:
        return Meaning(K.UNKNOWN, core, "omitted", None, False, edited)
    ios_kind = IOS_OMITTED.get(core)
    if ios_kind is None and core.startswith("<") and core.endswith(">"):
        ios_kind = IOS_OMITTED.get(core[1:-1].lstrip(_STRIP))  # legacy iOS "<\u200eimage omitted>"
    if ios_kind is not None:
        return Meaning(ios_kind, core, "omitted", None, False, edited)
    if "<" in core:
        m = _ATTACHED_IOS.search(core)
        if m:
            name = m.group("name").strip()
            kind, code = _kind_of_name(name)
            return Meaning(kind, code, "ref", name, False, edited)
    if ")" in core:
        m = _ATTACHED_ANDROID.match(core)
        if m:
            name = m.group("name")
            kind, code = _kind_of_name(name)
            return Meaning(kind, code, "ref", name, False, edited)
    if any(w in core for w in _DOC_OMITTED_WORDS):
        m = _DOC_OMITTED.match(core)
        if m and "\n" not in core:
            name = m.group("name").split(" • ")[0].strip(_STRIP + " ") or None
            return Meaning(K.DOCUMENT, "document omitted", "omitted", name, False, edited)
    if _LOCATION.match(core):
        return Meaning(K.LOCATION, "location", None, None, False, edited)
    if _POLL.match(core):
        return Meaning(K.POLL, "poll", None, None, False, edited)
    if _CALL.match(core) and "\n" not in core:
        return Meaning(K.CALL, "call", None, None, False, edited)
    if core[0] == "<" and _LONE_MARKER.fullmatch(core):
        return Meaning(K.UNKNOWN, core, None, None, False, edited)
    if edited:
        return Meaning(K.TEXT, None, None, None, False, True)
    return TEXT
