"""统一社会信用代码 (unified social credit code), GB 32100-2015.

18 characters from a 31-character alphabet (digits and capitals without I, O, Z, S, V); the last is a
check character: C18 = 31 − (Σ Wi·Ci mod 31), with 31 written as 0. No library on PyPI covers this with
upkeep, and the rule is a dozen lines.
"""
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=False))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """None when the code is valid, else a reason code."""
    if len(code) != 18:
        return "credit_code_length"
    if any(c not in ALPHABET for c in code):
        return "credit_code_characters"
    if code[17] != check_character(code[:17]):
        return "credit_code_check"
    return None


def normalise(text: str) -> str:
    return (text or "").strip().upper()


def complete(first17: str) -> str:
    """Append the check character (used to make demo and test codes)."""
    return first17 + check_character(first17)
