#!/usr/bin/env python3
"""Builds a conformance corpus of phone-number inputs with libphonenumber's answers.

    python3 Tools/phone-metadata/corpus.py --seed 1 --out Tests/PhoneNumbersTests/Corpus/corpus.jsonl.gz

Every region's example number of every type is written in several forms (E.164,
international, national, RFC 3966, another region's international prefix, punctuation,
full-width digits) and mutated (a digit dropped, added or changed; a wrong or missing default
region; letters; junk). Each line is {"input", "region", "expected": {...}} where expected has
the fields `keywarden phone inspect --jsonl` prints. The same seed gives the same corpus.
"""
import argparse
import gzip
import json
import random

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, NumberParseException
from phonenumbers.phonemetadata import PhoneMetadata

PINNED = "9.0.43"
ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    NumberParseException.NOT_A_NUMBER: "not_a_number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short_after_idd",
    NumberParseException.TOO_SHORT_NSN: "too_short_nsn",
    NumberParseException.TOO_LONG: "too_long",
}
TYPES = {
    PhoneNumberType.FIXED_LINE: "fixed_line", PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile", PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate", PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip", PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager", PhoneNumberType.UAN: "uan", PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}
FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
JUNK = ["Tel: ", "phone ", "(", "#", "*", "--", "call me at ", "\u00a0", "ext", "x", ";", "+", "++", "..", "/",
        "\u2013", "\u3000", "?", "abc", "ABC", "\t", "_", "!", "tel:", ";phone-context=", ";isub=12"]


def expected(text, region):
    try:
        number = phonenumbers.parse(text, region, keep_raw_input=True)
    except NumberParseException as error:
        return {"valid": None, "e164": None, "region": None, "type": None, "international": None,
                "national": None, "error": ERRORS[error.error_type]}
    return {
        "valid": phonenumbers.is_valid_number(number),
        "e164": phonenumbers.format_number(number, PhoneNumberFormat.E164),
        "region": phonenumbers.region_code_for_number(number),
        "type": TYPES[phonenumbers.number_type(number)],
        "international": phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        "national": phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        "error": None,
    }


def examples():
    """(number, region) for every region's example of every type, then non-geographic ones."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for numtype in sorted(TYPES):
            if numtype == PhoneNumberType.UNKNOWN:
                continue
            number = phonenumbers.example_number_for_type(region, numtype)
            if number is not None:
                found.append((number, region))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        metadata = PhoneMetadata.metadata_for_nongeo_region(code)
        for attribute in ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number",
                          "voip", "pager", "uan", "voicemail"):
            desc = getattr(metadata, attribute)
            if desc is not None and desc.example_number:
                found.append((phonenumbers.parse("+%d%s" % (code, desc.example_number), None), "001"))
    unique = []
    seen = set()
    for number, region in found:
        key = (number.country_code, phonenumbers.national_significant_number(number))
        if key not in seen:
            seen.add(key)
            unique.append((number, region))
    return unique


def simple_idd_regions():
    """Regions whose international prefix is plain digits, with that prefix."""
    result = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = PhoneMetadata.metadata_for_region(region)
        prefix = metadata.preferred_international_prefix or metadata.international_prefix
        if prefix and prefix.isdigit():
            result.append((region, prefix))
    return result


def mutate_digits(rng, text):
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    if not positions:
        return text
    i = rng.choice(positions)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + str(rng.randrange(10)) + text[i:]
    return text[:i] + str((int(text[i]) + rng.randrange(1, 10)) % 10) + text[i + 1:]


def punctuate(rng, digits):
    out = []
    for i, c in enumerate(digits):
        if i and rng.random() < 0.3:
            out.append(rng.choice([" ", "-", ".", "/", " - "]))
        out.append(c)
    text = "".join(out)
    if len(digits) > 4 and rng.random() < 0.5:
        text = "(" + text[:3] + ") " + text[3:]
    return text


def cases(rng):
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    idd_regions = simple_idd_regions()
    for number, home in examples():
        region = None if home == "001" else home
        nsn = phonenumbers.national_significant_number(number)
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        forms = [
            (e164, None), (e164, rng.choice(regions)), (international, None),
            (phonenumbers.format_number(number, PhoneNumberFormat.RFC3966), None),
            ("".join(FULL_WIDTH.get(c, c) for c in international), None),
            (punctuate(rng, "+%d%s" % (number.country_code, nsn)), None),
        ]
        if region:
            forms += [(national, region), (punctuate(rng, national.replace(" ", "")), region), (nsn, region)]
        other, idd = rng.choice(idd_regions)
        forms.append(("%s %d %s" % (idd, number.country_code, nsn), other))
        for text, default in forms:
            yield text, default
        base, default = rng.choice(forms)
        for _ in range(3):
            yield mutate_digits(rng, base), default
        yield national if region else e164, rng.choice(regions)
        yield national, None
        yield national, rng.choice(["ZZ", "gb", "001", "XX", "us"])
        letters = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij") for _ in range(rng.randrange(1, 6)))
        cut = rng.randrange(len(base) + 1)
        yield base[:cut] + letters + base[cut:], default
        yield rng.choice(JUNK) + base + rng.choice(JUNK), default
        yield base + rng.choice([" ext. ", " x", ";ext=", " #", ",,", " ext ", " доб "]) + str(rng.randrange(1, 99999)), default
    for _ in range(3000):
        length = rng.randrange(0, 20)
        text = "".join(rng.choice("0123456789") for _ in range(length))
        if rng.random() < 0.4:
            text = "+" + text
        yield text, rng.choice(regions + [None])
    for _ in range(1500):
        length = rng.randrange(0, 30)
        alphabet = "0123456789+-() .x#*;,/abcXYZ\u00a0\uff10\uff11\u0661\u0662~_"
        yield "".join(rng.choice(alphabet) for _ in range(length)), rng.choice(regions + [None])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    if phonenumbers.__version__ != PINNED:
        raise SystemExit("phonenumbers %s is installed; the corpus is pinned to %s" % (phonenumbers.__version__, PINNED))
    rng = random.Random(arguments.seed)
    lines = []
    for text, region in cases(rng):
        lines.append(json.dumps({"input": text, "region": region, "expected": expected(text, region)},
                                ensure_ascii=False, sort_keys=True))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(arguments.out, "wb") as handle:
        if arguments.out.endswith(".gz"):
            # mtime=0 keeps the compressed file identical from run to run.
            with gzip.GzipFile(fileobj=handle, mode="wb", mtime=0, filename="") as compressed:
                compressed.write(data)
        else:
            handle.write(data)
    print("wrote %d cases to %s" % (len(lines), arguments.out))


if __name__ == "__main__":
    main()
