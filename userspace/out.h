/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The modegate tool's one output layer.  Every command describes what it
 * found as a document of objects, arrays, key/value pairs and tables; the
 * layer renders it either as aligned text (streamed, coloured on a TTY
 * unless NO_COLOR is set) or as one JSON object (--json).
 *
 *   out_begin();
 *   out_u64("abi_version", 1);  out_comment("matches the header");
 *   out_object("limits", "Limits");  out_u64("max_probe_len", 4096);
 *   out_close();
 *   static const char *const cols[] = { "vaddr", "page_id" };
 *   out_table("pages", NULL, cols, 2);
 *   out_row(); out_hex(NULL, 0x1000); out_hex(NULL, 0xabc); out_close();
 *   out_close();
 *   return out_end(MG_EXIT_OK);
 *
 * Prose (out_say) exists only in text; claims, captured log lines and
 * errors exist in both.
 */
#ifndef _MODEGATE_OUT_H
#define _MODEGATE_OUT_H

#include <stdbool.h>
#include <stdint.h>

extern bool mg_json;		/* --json */
extern bool mg_no_color;	/* --no-color */

void out_begin(void);
int out_end(int rc);
bool out_is_json(void);

/* Containers; out_close() closes the innermost one (object, array, table or row). */
void out_object(const char *key, const char *title);
void out_array(const char *key, const char *title);
void out_table(const char *key, const char *title, const char *const *cols, int ncols);
void out_table_stream(const char *key, const char *const *cols, const int *widths, int ncols);
void out_row(void);
void out_close(void);

/* Values: a pair in an object, an element in an array, a cell in a row. */
void out_str(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_u64(const char *key, uint64_t v);
void out_s64(const char *key, int64_t v);
void out_hex(const char *key, uint64_t v);	/* JSON: a "0x..." string */
void out_bool(const char *key, bool v);
void out_dbl(const char *key, double v, int decimals);
void out_errno(const char *key, int err);	/* 0 or -errno; JSON: "EFAULT" */
void out_null(const char *key);
void out_ns(const char *key, uint64_t ns);	/* text "1.25 ms"; JSON ns */
void out_result(const char *key, int64_t v);	/* text bytes or "EFAULT"; JSON the number */
void out_comment(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Text only: a paragraph line at the current indentation. */
void out_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line of the text, and a string appended to the array @key in JSON. */
void out_line(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A claim and whether it held: "[ ok ]"/"[FAIL]"; JSON "claims" array. */
bool out_claim(bool held, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned int out_claims_failed(void);

/* An error: always on stderr; in JSON also the document's "error" object. */
void out_error(int err, const char *what, const char *hint, ...)
	__attribute__((format(printf, 3, 4)));

/* Colour escapes for text mode; "" when colour is off. */
enum out_color { OUT_RESET, OUT_BOLD, OUT_DIM, OUT_GREEN, OUT_RED, OUT_YELLOW, OUT_CYAN };
const char *out_c(enum out_color c);

#endif /* _MODEGATE_OUT_H */
