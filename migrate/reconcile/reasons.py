"""What each reject/warning reason means and how to fix it (message ids for the catalogue)."""

from __future__ import annotations

from migrate.i18n import t

REASONS: dict[str, tuple[str, str]] = {
    "undecodable_bytes": ("bytes that are not valid text in the file's encoding",
                          "Check the field's offset and length and the mapping's encoding."),
    "split_character": ("the field ends in the middle of a double-byte character",
                        "The field boundary is wrong in the mapping, or the old system cut the "
                        "text; fix the offset/length or the source record."),
    "gaiji_unmapped": ("a user-defined character (外字) that the gaiji table does not map",
                       "Identify the character and add its code to the mapping's gaiji table."),
    "invalid_character": ("a byte that is not a character (a control code, or a code the "
                          "text converter cannot turn into a real character)",
                          "Correct the source record; the value cannot be migrated as text."),
    "invalid_digits": ("a digits field holds something other than digits",
                       "Correct the source value or declare the field with another type."),
    "invalid_zoned": ("not a valid zoned decimal", "Check the field's offset and the sign "
                                                   "convention of the old system."),
    "invalid_packed": ("not a valid packed decimal (COMP-3)",
                       "Check the field's offset/length; packed fields must not pass through a "
                       "text conversion."),
    "invalid_binary": ("a binary number (COMP) of more than 18 digits",
                       "Check the field's offset and length: a doubleword that large is "
                       "usually the bytes of another field."),
    "invalid_date": ("not a valid date", "Correct the date in the source system."),
    "unknown_era": ("an era code that is not in the mapping's era table",
                    "Add the era code to source.eras or correct the record."),
    "date_outside_era": ("a date outside its era (e.g. 平成31年5月1日)",
                         "Correct the date or its era in the source system."),
    "non_calendar_date": ("a date that is not on the calendar, kept as the standard allows",
                          "Confirm the date against the family register (戸籍)."),
    "lunisolar_date": ("a Meiji 1–5 date (lunisolar calendar), kept as written",
                       "Confirm the date; it cannot be converted exactly."),
    "partial_date_not_allowed": ("an incomplete date (不詳) where the layout needs a full date",
                                 "Complete the date in the source system."),
    "unknown_code": ("a vendor code that the code table does not list",
                     "Add the code to the mapping's code table (with the business owner's "
                     "sign-off) or correct the record."),
    "code_not_allowed": ("a code the standard layout does not allow",
                         "Map the vendor code to a standard code in the code table."),
    "required_missing": ("a required value is missing", "Fill in the value in the source."),
    "too_long": ("the value is longer than the standard layout allows",
                 "Shorten the value in the source, or check the field boundaries."),
    "wrong_length": ("the value does not have the length the standard layout requires",
                     "Correct the value in the source."),
    "not_digits": ("the value must be digits only", "Correct the value in the source."),
    "out_of_range": ("the value is outside the allowed range", "Correct the value."),
    "my_number_check_digit": ("the individual number (個人番号) fails its check digit",
                              "Verify the number against the resident record."),
    "lg_code_check_digit": ("the local government code fails its check digit",
                            "Correct the code in the header or the mapping."),
    "jumin_code_check_digit": ("the resident-record code (住民票コード) fails its check digit",
                               "Verify the code; the check-digit rule of 住民票コード is not officially "
                               "confirmed, so this only warns."),
    "houjin_no_check_digit": ("the corporate number (法人番号) fails its check digit",
                              "Verify the number with the National Tax Agency's registry."),
    "katakana": ("the reading contains characters other than full-width katakana",
                 "Correct the reading (フリガナ) in the source."),
    "zokugara_chain": ("not a relationship the standard allows (e.g. 子の妻)",
                       "Map the vendor code to a relationship the standard allows, such as "
                       "子, 子の妻 or 妻の父, in the code table."),
    "pattern": ("the value does not have the required form", "Correct the value."),
    "duplicate_key": ("the same key as an earlier record",
                      "Decide which record is right and correct or remove the other one."),
    "unexpected_value": ("a field differs from the value the mapping expects (expect:)",
                         "Check that the record belongs in this file; if the value is right, "
                         "correct expect: in the mapping."),
    "unknown_record_type": ("a record of a type the mapping does not declare",
                            "Declare the record type in the mapping or remove the record."),
    "invalid_str": ("the value cannot be read as text", "Correct the value."),
    "invalid_int": ("the value is not a whole number", "Correct the value."),
    "invalid_decimal": ("the value is not a number", "Correct the value."),
    "invalid_flag": ("the value is not 0 or 1", "Correct the value."),
    "field_too_long": ("the cell is longer than the field's length in the mapping",
                       "Check that the right column is mapped, or raise the field's length "
                       "if the standard layout allows it."),
    "missing_columns": ("the line has fewer columns than the mapping needs",
                        "Check the delimiter and quoting of this line in the source file."),
    "orphan_child": ("a child record with no data record before it",
                     "The file may be cut at the start, or the record belongs to a parent that "
                     "was removed; correct the export."),
    "child_key_mismatch": ("a child record whose key differs from the data record before it",
                           "The records are out of order in the export; sort them so each "
                           "parent is followed by its own child records."),
    "child_not_mapped": ("a child record that no column of the mapping takes (its value would "
                         "be lost)", "Add a column mapping with a matching 'where' for this "
                                     "category, or correct the record."),
    "address_unsplit": ("an address that does not begin with a prefecture and municipality of "
                        "the national list of local governments",
                        "Correct the address in the source (a typo, an old municipality name "
                        "after a merger), or map its parts from separate fields."),
    "address_other_lg_code": ("an address in another municipality than the one in the header",
                              "Check the address, or whether the record belongs in this "
                              "municipality's file."),
    "outside_repertoire": ("a character outside the repertoire declared in source.strict_chars",
                           "Map the character through the gaiji table to its MJ 文字, correct "
                           "the record, or declare a wider repertoire."),
    "lookup_missing": ("no record of the file holds the value this column looks up",
                       "Add or correct the record that should hold it (e.g. the household "
                       "head), or correct this record's key; the detail says what was looked "
                       "for."),
    "lookup_ambiguous": ("more than one record of the file holds the value this column looks "
                         "up", "Correct the records named in the detail so that only one of "
                               "them matches (e.g. one household head)."),
    "child_ambiguous": ("more than one child record where the mapping takes only one",
                        "Remove the duplicate record or map the column with aggregate: sum."),
    "aggregate_overflow": ("the sum of the child records is too large for a number "
                           "(more than 18 digits)",
                           "Check the amounts of the record's child records; one of them is "
                           "probably wrong."),
    "group_rejected": ("rejected together with another record of its group",
                       "Fix the record named in the detail column; this one then goes through "
                       "as well."),
    "orphan_reference": ("the referenced record does not exist in the other file",
                         "Add the missing record to the other file, mark the person as 住登外 "
                         "where that applies, or correct the number."),
    "reference_rejected": ("the referenced record was rejected in the other file",
                           "Fix the record named in the detail column (see that file's "
                           "rejects.csv); this one then goes through as well."),
    "jutogai_but_resident": ("marked as 住登外 but found in the resident records",
                             "Check whether the person has since registered here and merge "
                             "the 宛名 records."),
}


# The usual cause of each reason, so where its usual fix is: the data (the old system's record
# is wrong: correct it at the source, record by record), the mapping (an offset, a type, a code
# table or the encoding is wrong: one fix repairs every record), or either (look at a few
# records in `migrate preview` to tell; many records with it point at the mapping).
# `migrate explain`, the screen summary and report.html all read this one table.
DATA, MAPPING, EITHER = "data", "mapping", "either"
USUAL_CAUSE: dict[str, str] = {
    "undecodable_bytes": EITHER, "split_character": MAPPING, "gaiji_unmapped": MAPPING,
    "invalid_character": DATA, "invalid_digits": EITHER, "invalid_zoned": EITHER,
    "invalid_packed": EITHER, "invalid_binary": MAPPING, "invalid_date": DATA,
    "unknown_era": EITHER,
    "date_outside_era": DATA, "non_calendar_date": DATA, "lunisolar_date": DATA,
    "partial_date_not_allowed": DATA, "unknown_code": EITHER, "code_not_allowed": MAPPING,
    "required_missing": DATA, "too_long": EITHER, "wrong_length": EITHER, "not_digits": EITHER,
    "out_of_range": DATA, "my_number_check_digit": DATA, "lg_code_check_digit": DATA,
    "jumin_code_check_digit": DATA, "houjin_no_check_digit": DATA, "katakana": EITHER,
    "zokugara_chain": MAPPING, "pattern": DATA, "duplicate_key": DATA,
    "unknown_record_type": EITHER, "invalid_str": DATA, "invalid_int": EITHER,
    "invalid_decimal": EITHER, "invalid_flag": EITHER, "field_too_long": EITHER,
    "missing_columns": DATA, "orphan_child": DATA, "child_key_mismatch": DATA,
    "child_not_mapped": MAPPING, "child_ambiguous": EITHER, "group_rejected": DATA,
    "orphan_reference": DATA, "reference_rejected": DATA, "jutogai_but_resident": DATA,
    "address_unsplit": DATA, "address_other_lg_code": DATA, "outside_repertoire": EITHER,
    "lookup_missing": DATA, "lookup_ambiguous": DATA, "unexpected_value": EITHER,
    "aggregate_overflow": EITHER,
}


def fix_side(reason: str) -> str | None:
    """'mapping' or 'data': where the usual fix of a reason is (None: either, or unknown)."""
    cause = USUAL_CAUSE.get(reason)
    return cause if cause in (MAPPING, DATA) else None


def fix_side_label(reason: str, lang: str | None = None) -> str:
    """The side of the fix in words ("" when it depends on the case)."""
    side = fix_side(reason)
    if side == "mapping":
        return t("usually fixed in the mapping", lang)
    if side == "data":
        return t("usually fixed in the source data", lang)
    if USUAL_CAUSE.get(reason) == EITHER:
        return t("fixed in the mapping when many records have it, else in the source data", lang)
    return ""


def reason_message(reason: str, lang: str | None = None) -> str:
    """Localized 'what is wrong — how to fix it' for a reason code (rules fall back to the id)."""
    what, fix = REASONS.get(reason, (reason, ""))
    text = t(what, lang)
    return f"{text} — {t(fix, lang)}" if fix else text
