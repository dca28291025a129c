"""How many SMS segments a text takes: GSM-7 where every character is in its
alphabet (the basic set, and the extension table at two septets each), else
UCS-2 (UTF-16 code units).

A single message holds 160 septets or 70 UCS-2 units; a concatenated one
holds 153 or 67 per part (the rest of each part is its user data header). A
character is never split between parts: an extension character's two
septets, or a UTF-16 surrogate pair, go whole into the next part.
"""

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    """Whether every character of the text is in GSM-7 (basic set or extension)."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _units(text: str) -> tuple[list[int], int, int]:
    """Each character's size in the text's encoding, and the single and part sizes."""
    if is_gsm7(text):
        return [2 if char in GSM7_EXTENSION else 1 for char in text], GSM7_SINGLE, GSM7_PART
    return [2 if ord(char) > 0xFFFF else 1 for char in text], UCS2_SINGLE, UCS2_PART


def segments(text: str) -> int:
    """The number of SMS segments the text is sent as (an empty text is one)."""
    sizes, single, part = _units(text)
    if sum(sizes) <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


def encoding(text: str) -> str:
    """``"GSM-7"`` or ``"UCS-2"``: how a gateway sends the text."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"
