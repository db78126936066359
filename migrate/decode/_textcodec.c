/* One pass over a fixed-width column of double-byte-encoded text (Shift_JIS family):
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
