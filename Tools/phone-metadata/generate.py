#!/usr/bin/env python3
"""Converts libphonenumber's metadata, as shipped in the PyPI package `phonenumbers`, into
the compact text the Swift `PhoneNumbers` library compiles in.

    pip install -r Tools/phone-metadata/requirements.txt
    python3 Tools/phone-metadata/generate.py

writes Sources/PhoneNumbers/Generated/PhoneMetadataText.swift. The output depends only on
the pinned package version, so running it twice gives the same file.

Record layout (one metadata entry per line; fields separated by TAB):
  id, country code, international prefix, preferred international prefix, national prefix,
  preferred extension prefix, national prefix for parsing, national prefix transform rule,
  main country for code (1/0), leading digits, same mobile and fixed-line pattern (1/0),
  English name, then 12 number descriptions (general, fixed line, mobile, toll free, premium
  rate, shared cost, personal number, voip, pager, uan, voicemail, no international dialling),
  then national formats, then international formats ("-" when the national ones apply).
A description is "pattern¦lengths¦local-only lengths¦example" (lengths comma-separated) or
empty when absent. Formats are separated by "¶"; a format is
"pattern¦format¦leading digits patterns joined by §¦national prefix formatting rule¦
national prefix optional when formatting (1/0)¦domestic carrier code formatting rule".
"""
import os
import sys

import phonenumbers
from phonenumbers import geocoder
from phonenumbers.phonemetadata import PhoneMetadata

PINNED = "9.0.43"
FIELD, PART, ITEM, LIST = "\t", "\u00a6", "\u00a7", "\u00b6"
SEPARATORS = (FIELD, PART, ITEM, LIST, "\n", '"""#')

# Regions the package's English locale data does not name.
EXTRA_NAMES = {"AC": "Ascension Island", "TA": "Tristan da Cunha", "XK": "Kosovo", "001": "International"}

DESCRIPTIONS = ["general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
                "personal_number", "voip", "pager", "uan", "voicemail", "no_international_dialling"]


def text(value):
    value = "" if value is None else str(value)
    for separator in SEPARATORS:
        if separator in value:
            sys.exit("metadata value %r contains a separator %r" % (value, separator))
    return value


def description(desc):
    if desc is None:
        return ""
    return PART.join([
        text(desc.national_number_pattern),
        ",".join(str(n) for n in (desc.possible_length or ())),
        ",".join(str(n) for n in (desc.possible_length_local_only or ())),
        text(desc.example_number),
    ])


def number_format(fmt):
    return PART.join([
        text(fmt.pattern),
        text(fmt.format),
        ITEM.join(text(p) for p in fmt.leading_digits_pattern),
        text(fmt.national_prefix_formatting_rule),
        "1" if fmt.national_prefix_optional_when_formatting else "0",
        text(fmt.domestic_carrier_code_formatting_rule),
    ])


def record(metadata, name):
    fields = [
        metadata.id, str(metadata.country_code), text(metadata.international_prefix),
        text(metadata.preferred_international_prefix), text(metadata.national_prefix),
        text(metadata.preferred_extn_prefix), text(metadata.national_prefix_for_parsing),
        text(metadata.national_prefix_transform_rule), "1" if metadata.main_country_for_code else "0",
        text(metadata.leading_digits), "1" if metadata.same_mobile_and_fixed_line_pattern else "0", text(name),
    ]
    fields += [description(getattr(metadata, attribute)) for attribute in DESCRIPTIONS]
    fields.append(LIST.join(number_format(f) for f in metadata.number_format))
    fields.append(LIST.join(number_format(f) for f in metadata.intl_number_format)
                  if metadata.intl_number_format else "-")
    return FIELD.join(fields)


def main():
    if phonenumbers.__version__ != PINNED:
        sys.exit("phonenumbers %s is installed; the metadata is pinned to %s" % (phonenumbers.__version__, PINNED))
    lines = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = PhoneMetadata.metadata_for_region(region)
        name = geocoder._region_display_name(region, "en") or EXTRA_NAMES[region]
        lines.append(record(metadata, name))
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        lines.append(record(PhoneMetadata.metadata_for_nongeo_region(code), EXTRA_NAMES["001"]))
    # Calling code -> regions, main region first, as libphonenumber orders them.
    mapping = ";".join("%d:%s" % (code, ",".join(regions))
                       for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()))
    from phonenumbers import phonenumberutil as util
    patterns = {
        "phoneValidNumberPattern": util._VALID_PHONE_NUMBER_PATTERN.pattern,
        "phoneExtensionPattern": util._EXTN_PATTERN.pattern,
        "phoneRFC3966GlobalNumberPattern": util._RFC3966_GLOBAL_NUMBER_DIGITS_PATTERN.pattern,
        "phoneRFC3966DomainNamePattern": util._RFC3966_DOMAINNAME_PATTERN.pattern,
    }
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "Sources", "PhoneNumbers", "Generated", "PhoneMetadataText.swift")
    with open(out, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("// Generated by Tools/phone-metadata/generate.py from the PyPI package phonenumbers %s.\n" % PINNED)
        handle.write("// Do not edit. Converted from libphonenumber's metadata:\n")
        handle.write("// Copyright (C) 2009-2026 The Libphonenumber Authors. Licensed under the Apache License,\n")
        handle.write("// Version 2.0; see Sources/PhoneNumbers/LICENSE-libphonenumber.txt.\n")
        handle.write("// swift-format-ignore-file\n\n")
        handle.write("/// The libphonenumber version the metadata was converted from.\n")
        handle.write('let phoneMetadataVersion = "%s"\n\n' % PINNED)
        handle.write("/// Calling code to regions, main region first.\n")
        handle.write('let phoneCallingCodeText = "%s"\n\n' % mapping)
        for name, pattern in sorted(patterns.items()):
            if '"#' in pattern:
                sys.exit("pattern %s cannot be written as a raw string" % name)
            handle.write("/// libphonenumber's `%s`, as Python writes it.\n" % name)
            escaped = "".join(c if ord(c) < 128 else "\\#u{%X}" % ord(c) for c in pattern)
            handle.write('let %s = #"%s"#\n\n' % (name, escaped))
        handle.write("/// One metadata record per line.\n")
        handle.write('let phoneMetadataText = #"""\n')
        handle.write("\n".join(lines))
        handle.write('\n"""#\n')
    print("wrote %s (%d records)" % (os.path.relpath(out, root), len(lines)))


if __name__ == "__main__":
    main()
