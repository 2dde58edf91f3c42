"""Every literal header line of formats/whatsapp.md, with its expected local time and author."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from tests.whatsapp.helpers import read_text

A = "Alice"
# (line, date order of its locale, expected local time, expected sender_name)
HEADER_CASES: list[tuple[str, str, datetime, str | None]] = [
    # Android, no brackets
    ("23/03/2022, 13:31 - Alice: Hello", "auto", datetime(2022, 3, 23, 13, 31), A),
    (
        "01/07/19, 08:31 - Messages and calls are end-to-end encrypted. No one outside of this "
        "chat, not even WhatsApp, can read or listen to them. Tap to learn more.",
        "dmy",
        datetime(2019, 7, 1, 8, 31),
        None,
    ),
    ("1/31/22, 15:49 - Alice: hi", "auto", datetime(2022, 1, 31, 15, 49), A),
    ("2/12/20, 6:28 PM - Alice: hi", "mdy", datetime(2020, 2, 12, 18, 28), A),
    ("1/4/23, 7:02\u202fPM - Bob: <Media omitted>", "mdy", datetime(2023, 1, 4, 19, 2), "Bob"),
    (
        "09/10/2023, 11:11\u202fam - +44 7123 456789: hi",
        "dmy",
        datetime(2023, 10, 9, 11, 11),
        "+44 7123 456789",
    ),
    ("29/07/2022, 2:21 pm - Alice: hi", "auto", datetime(2022, 7, 29, 14, 21), A),
    ("23.03.2022, 13:31 - Alice: …", "auto", datetime(2022, 3, 23, 13, 31), A),
    ("23.03.22 13:31 - Alice: …", "auto", datetime(2022, 3, 23, 13, 31), A),
    ("29.01.18, 23:33 - Alice: …", "auto", datetime(2018, 1, 29, 23, 33), A),
    ("23-03-2022 13:31 - Alice: …", "auto", datetime(2022, 3, 23, 13, 31), A),
    ("2021/11/18, 11:35 - Alice: …", "auto", datetime(2021, 11, 18, 11, 35), A),
    ("2023/12/20, 5:46 pm - Alice: 👋🏼", "auto", datetime(2023, 12, 20, 17, 46), A),
    ("2019-08-06, 7:03 a.m. - Alice: …", "auto", datetime(2019, 8, 6, 7, 3), A),
    ("20/6/2017 8:28 p.\u00a0m. - Alice: test", "auto", datetime(2017, 6, 20, 20, 28), A),
    ("23/06/2018, 01:55 p.m. - Alice: one", "auto", datetime(2018, 6, 23, 13, 55), A),
    (
        "05/01/2021, 3:07 in the afternoon - Alice: …",
        "dmy",
        datetime(2021, 1, 5, 15, 7),
        A,
    ),
    ("05/01/2021, 3:07 in the morning - Alice: …", "dmy", datetime(2021, 1, 5, 3, 7), A),
    ("01.03.24, 3:00 nachm. - Alice: c", "dmy", datetime(2024, 3, 1, 15, 0), A),
    ("30/08/25 18.00 - Alice: …", "auto", datetime(2025, 8, 30, 18, 0), A),
    ("2/1/21\u060c 10:00 م - Alice: x", "dmy", datetime(2021, 1, 2, 22, 0), A),
    ("19:23, 28 Aug 2013 - Alice: …", "auto", datetime(2013, 8, 28, 19, 23), A),
    # iOS, brackets
    ("[3/27/22, 21:41:35] Alice: Hello World", "auto", datetime(2022, 3, 27, 21, 41, 35), A),
    (
        "\u200e[3/27/22, 21:41:55] Alice: \u200eimage omitted",
        "auto",
        datetime(2022, 3, 27, 21, 41, 55),
        A,
    ),
    ("[3/27/22 21:41:35] Alice: Hello World", "auto", datetime(2022, 3, 27, 21, 41, 35), A),
    ("[3/27/22 21.41.35] Alice: Hello World", "auto", datetime(2022, 3, 27, 21, 41, 35), A),
    ("[21:41:35, 3/27/22] Alice: Hello World", "auto", datetime(2022, 3, 27, 21, 41, 35), A),
    (
        "[\u200f27\u200f/3\u200f/2022\u060c 21:41:35] Alice: Hello World",
        "auto",
        datetime(2022, 3, 27, 21, 41, 35),
        A,
    ),
    (
        "[٢٧\u200f/٣\u200f/٢٠٢٢\u060c ٩:٤١:٣٥\u00a0م] Alice: Hello World",
        "auto",
        datetime(2022, 3, 27, 21, 41, 35),
        A,
    ),
    ("[3/27/2565 BE, 21:41:35] Alice: Hello World", "auto", datetime(2022, 3, 27, 21, 41, 35), A),
    ("[3/27/R4, 21:41:35] Alice: Hello World", "auto", datetime(2022, 3, 27, 21, 41, 35), A),
    (
        "[13/11/2025, 12:25:55\u202fPM] Shop: \u200eThis business uses a secure service from "
        "Meta to manage this chat. Tap to learn more.",
        "auto",
        datetime(2025, 11, 13, 12, 25, 55),
        None,  # a notice with the chat name as author is a system message
    ),
    ("[16/03/2022, 03:10:17 PM] Alice: …", "auto", datetime(2022, 3, 16, 15, 10, 17), A),
    ("[07/12/17, 4:58:10 PM] Alice: …", "dmy", datetime(2017, 12, 7, 16, 58, 10), A),
    ("[20.06.19, 15:58:47] Alice: Hey 👋", "auto", datetime(2019, 6, 20, 15, 58, 47), A),
    ("[23.09.2016 17:00:28] Alice: …", "auto", datetime(2016, 9, 23, 17, 0, 28), A),
    ("[2023/5/4, 16:17:13] ~ Carol: 🥺", "auto", datetime(2023, 5, 4, 16, 17, 13), "~ Carol"),
    ("[1.1.2019, 12.00.00] Alice: Hello 😄", "dmy", datetime(2019, 1, 1, 12, 0, 0), A),
    ("[12.3.2022 klo 14.08.18] Alice: …", "dmy", datetime(2022, 3, 12, 14, 8, 18), A),
    ("[3/6/18 1:55:00 p. m.] Alice: m", "dmy", datetime(2018, 6, 3, 13, 55, 0), A),
    # legacy iOS: no brackets, ": " after the time
    (
        "4/26/16, 16:23:03: \u202a+55\u00a061\u00a08121\u20113457\u202c: <\u200eimage omitted>",
        "auto",
        datetime(2016, 4, 26, 16, 23, 3),
        "\u202a+55\u00a061\u00a08121\u20113457\u202c",
    ),
    ("7/11/16, 2:33:08 PM: Alice: Hello", "mdy", datetime(2016, 7, 11, 14, 33, 8), A),
    (
        "7/1/16, 4:56:55 PM: \u200eAlice created this group",
        "mdy",
        datetime(2016, 7, 1, 16, 56, 55),
        None,
    ),
    (
        "13/06/15 10:59:59: Alice's Phone: <\u200eaudio omitted>",
        "auto",
        datetime(2015, 6, 13, 10, 59, 59),
        "Alice's Phone",
    ),
    ("13. 6. 2018. 21:25:15 Alice: m", "auto", datetime(2018, 6, 13, 21, 25, 15), A),
]


def _ts_text(line: str) -> str:
    """The date-time text as the SPEC wants it in ``sent_at_source``."""
    s = line.lstrip("\u200e")
    if s.startswith("["):
        return s[1 : s.index("]")]
    for sep in (" - ", ": "):
        if sep in s:
            head = s.split(sep, 1)[0]
            if any(c.isdigit() for c in head[-2:]) or head.endswith(("M", "m", ".", "م")):
                return head
    return " ".join(s.split(" ")[:5])


@pytest.mark.parametrize(("line", "order", "local", "author"), HEADER_CASES)
def test_header_line(
    tmp_path: Path, line: str, order: str, local: datetime, author: str | None
) -> None:
    msgs, ctx = read_text(tmp_path, line + "\n", date_order=order)
    assert len(msgs) == 1, ctx.report
    (m,) = msgs
    assert m.sent_at.replace(tzinfo=None) == local
    assert m.sender_name == author
    assert m.raw == line + "\n"
    assert ctx.report.lines_rejected == 0


def test_header_sent_at_source_is_verbatim(tmp_path: Path) -> None:
    cases = {
        "[\u200f27\u200f/3\u200f/2022\u060c 21:41:35] Alice: x": (
            "\u200f27\u200f/3\u200f/2022\u060c 21:41:35"
        ),
        "\u200e[3/27/22, 21:41:55] Alice: x": "3/27/22, 21:41:55",
        "1/4/23, 7:02\u202fPM - Bob: x": "1/4/23, 7:02\u202fPM",
        "7/11/16, 2:33:08 PM: Alice: Hello": "7/11/16, 2:33:08 PM",
        "13. 6. 2018. 21:25:15 Alice: m": "13. 6. 2018. 21:25:15",
        "19:23, 28 Aug 2013 - Alice: x": "19:23, 28 Aug 2013",
    }
    for line, expected in cases.items():
        (m,), _ = read_text(tmp_path, line + "\n")
        assert m.sent_at_source == expected


def test_yearless_legacy_header_takes_the_file_year(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat with Team.txt"
    path.write_text(
        "18 Mar 12:14 - Alice changed the subject to “X”\n20 Dec 09:00 - Alice: from last year\n",
        encoding="utf-8",
    )
    stamp = datetime(2024, 6, 1, 12, 0).timestamp()
    os.utime(path, (stamp, stamp))
    from imarchive.sources.base import ReadOptions
    from tests.support import read_all
    from tests.whatsapp.helpers import READER

    msgs, ctx = read_all(READER, path, ReadOptions(timezone="UTC"))
    assert msgs[0].sent_at.replace(tzinfo=None) == datetime(2024, 3, 18, 12, 14)
    assert msgs[0].sender_name is None
    # a day after the file's date cannot be in the file's year: it is the year before
    assert msgs[1].sent_at.replace(tzinfo=None) == datetime(2023, 12, 20, 9, 0)
    assert ctx.report.facts["year_assumed"] == 2024


@pytest.mark.parametrize(
    "text",
    [
        "01.04.2015 - 16:00:27; ME: hello\n01.04.2015 - 16:00:29; Bob: hi\n",
        "2023. 5. 10. 오전 9:23, 홍길동 : 안녕\n2023. 5. 10. 오전 9:24, 김철수 : 네\n",
    ],
)
def test_lookalikes_score_zero_and_are_rejected(tmp_path: Path, text: str) -> None:
    from imarchive.errors import SourceError
    from tests.support import candidate_for
    from tests.whatsapp.helpers import READER

    path = tmp_path / "chat.txt"
    path.write_text(text, encoding="utf-8")
    assert READER.score(candidate_for(path)) == 0.0
    with pytest.raises(SourceError, match="not a WhatsApp export"):
        read_text(tmp_path, text, name="chat.txt")
    # the same reason without --format: detection names the look-alike
    from imarchive.sources import registry

    with pytest.raises(SourceError, match=r"^looks like .+, not a WhatsApp export$"):
        registry.detect(candidate_for(path))
