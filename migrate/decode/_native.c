/* The compiled decoders of migrate.decode (loaded with ctypes by migrate/decode/native.py).
 * Each takes the common case of a column in one pass and flags every cell it does not settle
 * alone; the caller decodes those with the Python decoders, so the results are theirs.
 *
 * decode_dbcs_column: a fixed-width column of double-byte-encoded text (Shift_JIS family):
 * decode each cell through lookup tables built from Python's own codec, write it as UTF-8
 * straight into an Arrow string buffer, strip the trailing padding, and flag every cell that
 * the tables cannot settle alone (undecodable, split at the field end, control or private-use
 * characters): those the caller decodes again with Python's codec, one by one.
 *
 * Table entries are 8 bytes: byte 0 holds the UTF-8 length in bits 0-3 (0: not decodable),
 * LEAD_BYTE (bit 6: a lead byte, look the pair up) or SUSPECT (bit 7: a character the caller
 * must look at); bytes 1-7 hold the UTF-8 bytes.
 */
#include <stdint.h>
#include <string.h>

#define LEAD_BYTE 0x40
#define SUSPECT 0x80

int64_t decode_dbcs_column(const uint8_t *cells, int64_t n, int64_t width,
                           const uint8_t *single, const uint8_t *pair,
                           int strip_half, int strip_full,
                           uint8_t *out, int64_t *offsets, uint8_t *flags)
{
    int64_t pos = 0;
    offsets[0] = 0;
    for (int64_t row = 0; row < n; row++) {
        const uint8_t *cell = cells + row * width;
        const int64_t start = pos;
        uint8_t flag = 0;
        int64_t i = 0;
        while (i < width) {
            const uint8_t *entry = single + 8 * (int64_t)cell[i];
            if (entry[0] & LEAD_BYTE) {
                if (i + 1 >= width) {  /* a lead byte at the field's end: split character */
                    flag = 1;
                    break;
                }
                entry = pair + 8 * (((int64_t)cell[i] << 8) | cell[i + 1]);
                i += 2;
            } else {
                i += 1;
            }
            const uint8_t info = entry[0];
            const uint8_t length = info & 0x0F;
            if (length == 0 || (info & SUSPECT)) {
                flag = 1;
                break;
            }
            memcpy(out + pos, entry + 1, length);
            pos += length;
        }
        if (flag) {
            pos = start;
        } else {
            for (;;) {
                if (strip_half && pos > start && out[pos - 1] == 0x20) {
                    pos -= 1;
                } else if (strip_full && pos - start >= 3 && out[pos - 3] == 0xE3
                           && out[pos - 2] == 0x80 && out[pos - 1] == 0x80) {
                    pos -= 3;
                } else {
                    break;
                }
            }
        }
        flags[row] = flag;
        offsets[row + 1] = pos;
    }
    return pos;
}

/* decode_date_column: GYYMMDD (n_eras > 0: era codes of code_width bytes) or YYYYMMDD
 * (n_eras == 0) cells whose date is whole, real and Gregorian, and inside its era, written as
 * YYYY-MM-DD (10 bytes a row in out). Flagged: null, unknown (sentinel) parts, bad digits or
 * era codes, impossible days, lunisolar years, dates outside their era.
 * bounds: 7 per era: first year, month, day, last year, month, day, has a last day.
 * sentinel: 100 flags, the two-digit month/day values that mean "unknown".
 */
void decode_date_column(const uint8_t *cells, int64_t n, int64_t width, int64_t code_width,
                        const uint8_t *codes, int64_t n_eras, const int64_t *bounds,
                        const uint8_t *sentinel, int64_t gregorian_from,
                        uint8_t *out, uint8_t *flags)
{
    static const int64_t days_in_month[13] = {31, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int64_t skip = n_eras > 0 ? code_width : 0;
    const int64_t count = width - skip;
    if (count != 6 && count != 8) {
        memset(flags, 1, (size_t)n);
        return;
    }
    for (int64_t row = 0; row < n; row++) {
        const uint8_t *cell = cells + row * width;
        flags[row] = 1;
        int64_t era = -1;
        if (n_eras > 0) {
            for (int64_t k = 0; k < n_eras; k++) {
                if (memcmp(cell, codes + k * code_width, (size_t)code_width) == 0) {
                    era = k;
                    break;
                }
            }
            if (era < 0) {
                continue;
            }
        }
        int64_t v[8];
        int digits = 1;
        for (int64_t j = 0; j < count; j++) {
            const int c = (int)cell[skip + j] - '0';
            if (c < 0 || c > 9) {
                digits = 0;
                break;
            }
            v[j] = c;
        }
        if (!digits) {
            continue;
        }
        int64_t year, month, day;
        if (n_eras > 0) {
            const int64_t era_year = v[0] * 10 + v[1];
            if (era_year == 0) {
                continue;
            }
            year = bounds[era * 7] + era_year - 1;
            month = v[2] * 10 + v[3];
            day = v[4] * 10 + v[5];
        } else {
            year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
            month = v[4] * 10 + v[5];
            day = v[6] * 10 + v[7];
        }
        if (year <= 0 || year > 9999 || sentinel[month] || sentinel[day] || month < 1
            || month > 12 || day < 1) {
            continue;
        }
        const int leap = (year % 4 == 0) && (year % 100 != 0 || year % 400 == 0);
        if (day > days_in_month[month] + (month == 2 && leap)) {
            continue;
        }
        if (n_eras > 0) {
            const int64_t *b = bounds + era * 7;
            const int64_t key = year * 10000 + month * 100 + day;
            if (year < gregorian_from || key < b[0] * 10000 + b[1] * 100 + b[2]
                || (b[6] && key > b[3] * 10000 + b[4] * 100 + b[5])) {
                continue;
            }
        }
        uint8_t *text = out + row * 10;
        text[0] = (uint8_t)('0' + year / 1000);
        text[1] = (uint8_t)('0' + year / 100 % 10);
        text[2] = (uint8_t)('0' + year / 10 % 10);
        text[3] = (uint8_t)('0' + year % 10);
        text[4] = '-';
        text[5] = (uint8_t)('0' + month / 10);
        text[6] = (uint8_t)('0' + month % 10);
        text[7] = '-';
        text[8] = (uint8_t)('0' + day / 10);
        text[9] = (uint8_t)('0' + day % 10);
        flags[row] = 0;
    }
}
