"""Key custody: personal keys under PIN and pepper, the opening key split 2-of-3 and rebuilt."""
import os

import pytest
import shamir_mnemonic

from core import config as core_config
from core.crypto import custody, sealing
from core.crypto.custody import CustodyError

HOLDERS = ("user:1", "user:2", "user:3")  # centre, procuring unit, supervisor
PINS = {"user:1": "centre-2026", "user:2": "procuring-2026", "user:3": "supervisor-2026"}


@pytest.fixture
def personal():
    return {holder: custody.make_personal_key(holder, PINS[holder]) for holder in HOLDERS}


def split(key, personal, threshold=2):
    return custody.split_and_wrap(key.private, [(h, personal[h].public) for h in HOLDERS],
                                  f"section:12:{key.fingerprint}", threshold)


def unwrap(shares, personal, key, holders):
    return [custody.unwrap_share(s, personal[s.holder], PINS[s.holder], f"section:12:{key.fingerprint}")
            for s in shares if s.holder in holders]


@pytest.mark.parametrize("suite", list(sealing.SUITES))
def test_seal_then_open_through_two_of_three_shares(personal, suite):
    key = sealing.generate(suite)
    shares = split(key, personal)
    assert [s.holder for s in shares] == list(HOLDERS)
    ciphertext = sealing.seal(suite, key.public, b"bid", b"info")
    for pair in (("user:1", "user:2"), ("user:1", "user:3"), ("user:2", "user:3")):
        rebuilt = custody.combine(unwrap(shares, personal, key, pair))
        assert rebuilt == key.private
        assert sealing.open_(suite, rebuilt, ciphertext, b"info") == b"bid"


def test_one_share_alone_cannot_rebuild_the_key(personal):
    key = sealing.generate()
    shares = split(key, personal)
    one = unwrap(shares, personal, key, ("user:2",))
    with pytest.raises(CustodyError) as refused:
        custody.combine(one)
    assert refused.value.code == "shares_insufficient"
    # Nor does a share of another section's key complete it.
    other = sealing.generate()
    foreign = unwrap(split(other, personal), personal, other, ("user:1",))
    with pytest.raises(CustodyError) as refused:
        custody.combine(one + foreign)
    assert refused.value.code == "shares_invalid"


def test_a_wrong_pin_is_refused_with_its_code(personal):
    with pytest.raises(CustodyError) as refused:
        custody.open_personal_key(personal["user:1"], "user:1", "wrong-pin-1")
    assert refused.value.code == "pin_wrong"
    key = sealing.generate()
    share = split(key, personal)[0]
    with pytest.raises(CustodyError) as refused:
        custody.unwrap_share(share, personal["user:1"], "procuring-2026", f"section:12:{key.fingerprint}")
    assert refused.value.code == "pin_wrong"


def test_a_pin_has_at_least_eight_characters():
    with pytest.raises(CustodyError) as refused:
        custody.make_personal_key("user:1", "1234567")
    assert refused.value.code == "pin_too_short"
    assert custody.make_personal_key("user:1", "12345678").public


def test_the_stored_blobs_alone_without_the_pepper_open_nothing(app, personal):
    """Everything the database would hold — personal public keys and boxes, wrapped shares — with the
    right PINs even, but another installation's pepper: nothing opens."""
    key = sealing.generate()
    shares = split(key, personal)
    thief_pepper = os.urandom(32)
    assert thief_pepper != app.config["PEPPER"]
    for share in shares:
        with pytest.raises(CustodyError) as refused:
            custody.unwrap_share(share, personal[share.holder], PINS[share.holder],
                                 f"section:12:{key.fingerprint}", pepper=thief_pepper)
        assert refused.value.code == "pin_wrong"
    stored = b"".join(p.public + p.box for p in personal.values()) + b"".join(s.box for s in shares)
    assert key.private not in stored and key.private.hex().encode() not in stored


def test_a_share_cannot_be_moved_to_another_section_or_holder(personal):
    key = sealing.generate()
    shares = split(key, personal)
    with pytest.raises(CustodyError) as refused:
        custody.unwrap_share(shares[0], personal["user:1"], PINS["user:1"], "section:13:" + key.fingerprint)
    assert refused.value.code == "share_malformed"
    moved = custody.WrappedShare("user:2", shares[0].public, shares[0].box)
    with pytest.raises(CustodyError):
        custody.unwrap_share(moved, personal["user:1"], PINS["user:1"], f"section:12:{key.fingerprint}")


def test_changing_the_pin_keeps_the_key_and_its_shares(personal):
    key = sealing.generate()
    shares = split(key, personal)
    changed = custody.change_pin(personal["user:1"], "user:1", PINS["user:1"], "a-new-pin-2027")
    assert changed.public == personal["user:1"].public and changed.box != personal["user:1"].box
    label = f"section:12:{key.fingerprint}"
    share = custody.unwrap_share(shares[0], changed, "a-new-pin-2027", label)
    with pytest.raises(CustodyError) as refused:
        custody.unwrap_share(shares[0], changed, PINS["user:1"], label)
    assert refused.value.code == "pin_wrong"
    with pytest.raises(CustodyError) as refused:
        custody.change_pin(personal["user:1"], "user:1", "not-the-pin", "another-pin-1")
    assert refused.value.code == "pin_wrong"
    other = custody.unwrap_share(shares[1], personal["user:2"], PINS["user:2"], label)
    assert custody.combine([share, other]) == key.private


def test_a_reset_makes_a_new_key_that_takes_part_only_in_later_sections(personal):
    key = sealing.generate()
    shares = split(key, personal)
    reset = custody.make_personal_key("user:1", "fresh-pin-2027")
    assert reset.public != personal["user:1"].public
    with pytest.raises(CustodyError) as refused:
        custody.unwrap_share(shares[0], reset, "fresh-pin-2027", f"section:12:{key.fingerprint}")
    assert refused.value.code == "share_other_key"
    # The other two keyholders still open the earlier section (2 of 3).
    assert custody.combine(unwrap(shares, personal, key, ("user:2", "user:3"))) == key.private
    later = sealing.generate()
    personal["user:1"] = reset
    pins_after = dict(PINS, **{"user:1": "fresh-pin-2027"})
    later_shares = split(later, personal)
    first = custody.unwrap_share(later_shares[0], reset, pins_after["user:1"], f"section:12:{later.fingerprint}")
    second = custody.unwrap_share(later_shares[2], personal["user:3"], PINS["user:3"],
                                  f"section:12:{later.fingerprint}")
    assert custody.combine([first, second]) == later.private


def test_thresholds_below_two_or_above_the_holders_are_refused(personal):
    key = sealing.generate()
    for threshold in (1, 4):
        with pytest.raises(CustodyError) as refused:
            split(key, personal, threshold)
        assert refused.value.code == "custody_threshold"


def test_the_personal_key_box_records_its_kdf_cost(personal):
    box = personal["user:1"].box
    assert box[:4] == b"EPK1" and box[4] == 1  # Argon2id
    assert int.from_bytes(box[5:9], "big") == 1 and int.from_bytes(box[9:13], "big") == 64  # the tests' cost
    assert len(box) == 4 + 13 + 16 + 12 + 32 + 16


def test_production_kdf_cost_is_rfc_9106s_second_option(monkeypatch):
    monkeypatch.delenv("CUSTODY_KDF", raising=False)
    assert core_config.from_environment()["CUSTODY_KDF"] == {"iterations": 3, "memory_cost": 65536, "lanes": 4}
    assert custody.PRODUCTION_KDF == {"iterations": 3, "memory_cost": 65536, "lanes": 4}
    monkeypatch.setenv("CUSTODY_KDF", "4:131072:2")
    assert core_config.from_environment()["CUSTODY_KDF"] == {"iterations": 4, "memory_cost": 131072, "lanes": 2}


# The secret-sharing library against SLIP-39's published test vectors
# (trezor/python-shamir-mnemonic, vectors.json; passphrase "TREZOR").
SLIP39_VECTORS = [
    (["duckling enlarge academic academic agency result length solution fridge kidney coal piece deal husband "
      "erode duke ajar critical decision keyboard"], "bb54aac4b89dc868ba37d9cc21b2cece"),
    (["shadow pistol academic always adequate wildlife fancy gross oasis cylinder mustang wrist rescue view short "
      "owner flip making coding armed",
      "shadow pistol academic acid actress prayer class unknown daughter sweater depict flip twice unkind craft "
      "early superior advocate guest smoking"], "b43ceb7e57a0ea8766221624d01b0864"),
    (["theory painting academic academic armed sweater year military elder discuss acne wildlife boring employer "
      "fused large satoshi bundle carbon diagnose anatomy hamster leaves tracks paces beyond phantom capital "
      "marvel lips brave detect luck"], "989baf9dcaad5b10ca33dfd8cc75e42477025dce88ae83e75a230086a0e00e92"),
    (["humidity disease academic always aluminum jewelry energy woman receiver strategy amuse duckling lying "
      "evidence network walnut tactics forget hairy rebound impulse brother survive clothes stadium mailman rival "
      "ocean reward venture always armed unwrap",
      "humidity disease academic agency actress jacket gross physics cylinder solution fake mortgage benefit "
      "public busy prepare sharp friar change work slow purchase ruler again tricycle involve viral wireless "
      "mixture anatomy desert cargo upgrade"], "c938b319067687e990e05e0da0ecce1278f75ff58d9853f19dcaeed5de104aae"),
]


@pytest.mark.parametrize(("mnemonics", "secret"), SLIP39_VECTORS)
def test_the_sharing_library_passes_slip39_test_vectors(mnemonics, secret):
    assert shamir_mnemonic.combine_mnemonics(mnemonics, b"TREZOR").hex() == secret


def test_one_share_of_a_slip39_vector_alone_is_refused():
    with pytest.raises(shamir_mnemonic.MnemonicError):
        shamir_mnemonic.combine_mnemonics(SLIP39_VECTORS[1][0][:1], b"TREZOR")


@pytest.mark.parametrize("suite", list(sealing.SUITES))
def test_make_opening_key_returns_only_the_public_key_and_shares(personal, suite):
    holders = [(h, personal[h].public) for h in HOLDERS]
    opening = custody.make_opening_key(12, holders, suite)
    assert opening.key_label == f"section:12:{sealing.key_fingerprint(opening.public)}"
    ciphertext = sealing.seal(suite, opening.public, b"bid", b"info")
    given = [custody.unwrap_share(s, personal[s.holder], PINS[s.holder], opening.key_label)
             for s in opening.shares[1:]]
    private = custody.rebuild_opening_key(opening, given)
    assert sealing.open_(suite, private, ciphertext, b"info") == b"bid"
    other = custody.make_opening_key(13, holders, suite)
    with pytest.raises(CustodyError) as refused:
        custody.rebuild_opening_key(other, given)
    assert refused.value.code == "shares_invalid"
