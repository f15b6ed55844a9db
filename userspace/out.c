// SPDX-License-Identifier: GPL-2.0
/*
 * The output layer (see out.h).
 *
 * Both renderings share one stack of open containers.  Text is streamed:
 * key/value pairs wait in their container only until something else is
 * printed, so that a run of pairs is aligned; a table waits for its last
 * row unless it was opened with out_table_stream().  JSON is built as a
 * tree of nodes holding already-encoded scalars and printed by out_end().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

bool mg_json;
bool mg_no_color;

enum out_kind { K_DOC, K_OBJ, K_ARR, K_TABLE, K_ROW };

/* A JSON node: containers have children, scalars an encoded value. */
struct node {
	char *key;
	char *raw;		/* scalar: JSON text of the value */
	bool is_array;
	struct node *first, *last, *next;
};

struct pair {
	char *key, *text, *comment;
};

struct frame {
	enum out_kind kind;
	int indent;
	struct node *node;
	/* text: pairs waiting to be aligned */
	struct pair *pairs;
	int npairs;
	/* text: tables */
	const char *const *cols;
	int ncols;
	char **cells;		/* nrows * ncols */
	int nrows;
	int *widths;
	bool stream;
	char *title;
	int cell;		/* row: next column */
	/* text: an array of scalars shown as one pair "key  a, b, c" */
	char *inline_key;
	char *inline_text;
};

#define OUT_MAX_DEPTH 24

static struct frame stack[OUT_MAX_DEPTH];
static int depth = -1;
static bool color;
static unsigned int claims_failed;

static void *xzalloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p) {
		perror("modegate");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	return s ? strcpy(xzalloc(strlen(s) + 1), s) : NULL;
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0) {
		perror("modegate");
		exit(1);
	}
	return s;
}

bool out_is_json(void)
{
	return mg_json;
}

const char *out_c(enum out_color c)
{
	static const char *const esc[] = {
		[OUT_RESET] = "\033[0m", [OUT_BOLD] = "\033[1m",
		[OUT_DIM] = "\033[2m", [OUT_GREEN] = "\033[32m",
		[OUT_RED] = "\033[31m", [OUT_YELLOW] = "\033[33m",
		[OUT_CYAN] = "\033[36m",
	};

	return color ? esc[c] : "";
}

static struct frame *top(void)
{
	return &stack[depth];
}

static struct frame *push(enum out_kind kind, int indent)
{
	struct frame *f;

	if (depth + 1 >= OUT_MAX_DEPTH) {
		fprintf(stderr, "modegate: output nested too deeply\n");
		exit(1);
	}
	f = &stack[++depth];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->indent = indent;
	return f;
}

/* ---- JSON ---- */

static struct node *node_add(struct node *parent, const char *key, const char *raw)
{
	struct node *n = xzalloc(sizeof(*n));

	n->key = xstrdup(key);
	n->raw = xstrdup(raw);
	if (parent->last)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
	return n;
}

/* JSON string; bytes outside printable ASCII become \u00XX (valid JSON). */
static char *json_quote(const char *s)
{
	size_t n = 3;
	const unsigned char *p;
	char *q, *out;

	for (p = (const unsigned char *)s; *p; p++)
		n += 6;
	out = q = xzalloc(n);
	*q++ = '"';
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			*q++ = '\\';
			*q++ = *p;
		} else if (*p < 0x20 || *p >= 0x7f) {
			q += sprintf(q, "\\u%04x", *p);
		} else {
			*q++ = *p;
		}
	}
	*q++ = '"';
	*q = 0;
	return out;
}

static void json_print(const struct node *n, int indent, bool with_key)
{
	const struct node *c;

	if (with_key) {
		char *k = json_quote(n->key ? n->key : "");

		printf("%s: ", k);
		free(k);
	}
	if (n->raw) {
		fputs(n->raw, stdout);
		return;
	}
	if (!n->first) {
		fputs(n->is_array ? "[]" : "{}", stdout);
		return;
	}
	putchar(n->is_array ? '[' : '{');
	for (c = n->first; c; c = c->next) {
		printf("\n%*s", indent + 2, "");
		json_print(c, indent + 2, !n->is_array);
		if (c->next)
			putchar(',');
	}
	printf("\n%*s%c", indent, "", n->is_array ? ']' : '}');
}

static void node_free(struct node *n)
{
	struct node *c, *next;

	for (c = n->first; c; c = next) {
		next = c->next;
		node_free(c);
	}
	free(n->key);
	free(n->raw);
	free(n);
}

/* The object a lazily created array @key belongs to: the innermost object. */
static struct node *json_lazy_array(const char *key)
{
	struct node *obj = NULL, *c;
	int i;

	for (i = depth; i >= 0 && !obj; i--)
		if (stack[i].kind == K_OBJ || stack[i].kind == K_DOC)
			obj = stack[i].node;
	for (c = obj->first; c; c = c->next)
		if (c->key && !strcmp(c->key, key) && c->is_array)
			return c;
	c = node_add(obj, key, NULL);
	c->is_array = true;
	return c;
}

/* ---- text ---- */

static void text_flush_pairs(struct frame *f)
{
	int i, w = 0;

	for (i = 0; i < f->npairs; i++)
		if ((int)strlen(f->pairs[i].key) > w)
			w = strlen(f->pairs[i].key);
	if (w > 24)
		w = 24;
	for (i = 0; i < f->npairs; i++) {
		struct pair *p = &f->pairs[i];

		printf("%*s%-*s  %s", f->indent, "", w, p->key, p->text);
		if (p->comment)
			printf("  %s%s%s", out_c(OUT_DIM), p->comment, out_c(OUT_RESET));
		putchar('\n');
		free(p->key);
		free(p->text);
		free(p->comment);
	}
	free(f->pairs);
	f->pairs = NULL;
	f->npairs = 0;
}

/* Before anything but a pair is printed: print the pairs waiting above it. */
static void text_flush_all(void)
{
	int i;

	for (i = 0; i <= depth; i++)
		if (stack[i].npairs)
			text_flush_pairs(&stack[i]);
	fflush(stdout);
}

static void text_table_line(const struct frame *t, char **cells, bool header)
{
	int c;

	printf("%*s", t->indent, "");
	if (header)
		fputs(out_c(OUT_BOLD), stdout);
	for (c = 0; c < t->ncols; c++) {
		const char *s = cells ? (cells[c] ? cells[c] : "") : t->cols[c];

		if (c == t->ncols - 1)
			fputs(s, stdout);
		else
			printf("%-*s  ", t->widths[c], s);
	}
	if (header)
		fputs(out_c(OUT_RESET), stdout);
	putchar('\n');
}

static void text_table_print(struct frame *t)
{
	int r, c;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			char *s = t->cells[r * t->ncols + c];

			if (s && (int)strlen(s) > t->widths[c])
				t->widths[c] = strlen(s);
		}
	if (t->title)
		printf("%*s%s%s%s\n", t->indent, "", out_c(OUT_BOLD), t->title, out_c(OUT_RESET));
	text_table_line(t, NULL, true);
	for (r = 0; r < t->nrows; r++)
		text_table_line(t, &t->cells[r * t->ncols], false);
}

static void text_table_free(struct frame *t)
{
	int i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->widths);
	free(t->title);
}

/* ---- placement of one value ---- */

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	return s;
}


static void emit(const char *key, char *text, char *raw)
{
	struct frame *f = top();

	if (f->kind == K_ROW) {
		struct frame *t = &stack[depth - 1];

		if (f->cell < t->ncols) {
			if (mg_json)
				node_add(f->node, t->cols[f->cell], raw);
			else
				t->cells[(t->nrows - 1) * t->ncols + f->cell] = xstrdup(text);
		}
		f->cell++;
	} else if (mg_json) {
		node_add(f->node, f->kind == K_ARR ? NULL : key, raw);
	} else if (f->kind == K_ARR && f->inline_key) {
		char *joined = f->inline_text ? dupf("%s, %s", f->inline_text, text) : xstrdup(text);

		free(f->inline_text);
		f->inline_text = joined;
	} else if (f->kind == K_ARR) {
		text_flush_all();
		printf("%*s%s\n", f->indent, "", text);
	} else {
		f->pairs = realloc(f->pairs, (f->npairs + 1) * sizeof(*f->pairs));
		if (!f->pairs)
			exit(1);
		f->pairs[f->npairs].key = xstrdup(key ? key : "");
		f->pairs[f->npairs].text = xstrdup(text);
		f->pairs[f->npairs].comment = NULL;
		f->npairs++;
	}
	free(text);
	free(raw);
}

void out_str(const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	emit(key, s, json_quote(s));
}

void out_u64(const char *key, uint64_t v)
{
	emit(key, dupf("%" PRIu64, v), dupf("%" PRIu64, v));
}

void out_s64(const char *key, int64_t v)
{
	emit(key, dupf("%" PRId64, v), dupf("%" PRId64, v));
}

void out_hex(const char *key, uint64_t v)
{
	emit(key, dupf("%#" PRIx64, v), dupf("\"%#" PRIx64 "\"", v));
}

void out_bool(const char *key, bool v)
{
	emit(key, xstrdup(v ? "yes" : "no"), xstrdup(v ? "true" : "false"));
}

void out_dbl(const char *key, double v, int decimals)
{
	emit(key, dupf("%.*f", decimals, v), dupf("%.*f", decimals, v));
}

void out_null(const char *key)
{
	emit(key, xstrdup("-"), xstrdup("null"));
}

void out_errno(const char *key, int err)
{
	const char *name = err ? strerrorname_np(-err) : NULL;
	char buf[32];

	if (err && !name) {
		snprintf(buf, sizeof(buf), "E%d", -err);
		name = buf;
	}
	if (!err)
		emit(key, xstrdup("0"), xstrdup("\"0\""));
	else
		emit(key, dupf("%s (%d: %s)", name, err, strerror(-err)), dupf("\"%s\"", name));
}

void out_ns(const char *key, uint64_t ns)
{
	char *t;

	if (ns < 1000)
		t = dupf("%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		t = dupf("%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		t = dupf("%.2f ms", ns / 1e6);
	else
		t = dupf("%.2f s", ns / 1e9);
	emit(key, t, dupf("%" PRIu64, ns));
}

void out_result(const char *key, int64_t v)
{
	const char *name = v < 0 ? strerrorname_np(-v) : NULL;

	if (v < 0)
		emit(key, name ? xstrdup(name) : dupf("%" PRId64, v), dupf("%" PRId64, v));
	else
		out_u64(key, v);
}

void out_comment(const char *fmt, ...)
{
	struct frame *f = top();
	va_list ap;

	if (mg_json || !f->npairs)
		return;
	va_start(ap, fmt);
	free(f->pairs[f->npairs - 1].comment);
	f->pairs[f->npairs - 1].comment = vfmt(fmt, ap);
	va_end(ap);
}

/* ---- containers ---- */

static void open_container(const char *key, const char *title, enum out_kind kind)
{
	struct frame *parent = top();
	struct frame *f;

	if (mg_json) {
		struct node *n = node_add(parent->node,
					  parent->kind == K_ARR ? NULL : key, NULL);

		n->is_array = kind != K_OBJ && kind != K_ROW;
		f = push(kind, 0);
		f->node = n;
		return;
	}
	if (kind == K_ARR && key && !title && parent->kind != K_ARR) {
		f = push(kind, parent->indent);
		f->inline_key = xstrdup(key);
		return;
	}
	text_flush_all();
	if (title && *title)
		printf("%*s%s%s%s\n", parent->indent, "", out_c(OUT_BOLD), title,
		       out_c(OUT_RESET));
	push(kind, parent->indent + (title && *title ? 2 : 0));
}

void out_object(const char *key, const char *title)
{
	open_container(key, title, K_OBJ);
}

void out_array(const char *key, const char *title)
{
	open_container(key, title, K_ARR);
}

static void table_open(const char *key, const char *title, const char *const *cols,
		       const int *widths, int ncols)
{
	struct frame *f;
	int i;

	if (mg_json) {
		open_container(key, NULL, K_TABLE);
	} else {
		text_flush_all();
		push(K_TABLE, stack[depth].indent);
	}
	f = top();
	f->cols = cols;
	f->ncols = ncols;
	f->stream = widths != NULL;
	f->title = xstrdup(title);
	f->widths = xzalloc(ncols * sizeof(int));
	for (i = 0; i < ncols; i++) {
		f->widths[i] = strlen(cols[i]);
		if (widths && widths[i] > f->widths[i])
			f->widths[i] = widths[i];
	}
	if (!mg_json && f->stream) {
		text_table_line(f, NULL, true);
		fflush(stdout);
	}
}

void out_table(const char *key, const char *title, const char *const *cols, int ncols)
{
	table_open(key, title, cols, NULL, ncols);
}

void out_table_stream(const char *key, const char *const *cols, const int *widths, int ncols)
{
	table_open(key, NULL, cols, widths, ncols);
}

void out_row(void)
{
	struct frame *t = top();
	struct frame *f;

	if (mg_json) {
		open_container(NULL, NULL, K_ROW);
		return;
	}
	t->nrows++;
	t->cells = realloc(t->cells, t->nrows * t->ncols * sizeof(char *));
	if (!t->cells)
		exit(1);
	memset(&t->cells[(t->nrows - 1) * t->ncols], 0, t->ncols * sizeof(char *));
	f = push(K_ROW, t->indent);
	f->cell = 0;
}

void out_close(void)
{
	struct frame *f = top();

	if (depth <= 0)
		return;
	if (!mg_json) {
		if (f->kind == K_ROW) {
			struct frame *t = &stack[depth - 1];

			if (t->stream) {
				char **cells = &t->cells[(t->nrows - 1) * t->ncols];
				int i;

				text_table_line(t, cells, false);
				fflush(stdout);
				for (i = 0; i < t->ncols; i++)
					free(cells[i]);
				t->nrows = 0;
			}
		} else if (f->kind == K_TABLE) {
			if (!f->stream)
				text_table_print(f);
			text_table_free(f);
		} else if (f->inline_key) {
			char *k = f->inline_key, *t = f->inline_text;

			depth--;
			emit(k, xstrdup(t ? t : "-"), NULL);
			free(k);
			free(t);
			return;
		} else {
			text_flush_pairs(f);
		}
	} else if (f->kind == K_TABLE) {
		free(f->widths);
		free(f->title);
	}
	depth--;
}

/* ---- prose, claims, errors ---- */

void out_say(const char *fmt, ...)
{
	va_list ap;

	if (mg_json)
		return;
	text_flush_all();
	printf("%*s", top()->indent, "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void out_line(const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	if (mg_json) {
		char *q = json_quote(s);

		node_add(json_lazy_array(key), NULL, q);
		free(q);
	} else {
		text_flush_all();
		printf("%*s%s%s%s\n", top()->indent, "", out_c(OUT_DIM), s, out_c(OUT_RESET));
	}
	free(s);
}

bool out_claim(bool held, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	if (!held)
		claims_failed++;
	if (mg_json) {
		struct node *c = node_add(json_lazy_array("claims"), NULL, NULL);
		char *q = json_quote(s);

		node_add(c, "claim", q);
		node_add(c, "held", held ? "true" : "false");
		free(q);
	} else {
		text_flush_all();
		printf("%*s%s%s%s %s\n", top()->indent, "",
		       out_c(held ? OUT_GREEN : OUT_RED), held ? "[ ok ]" : "[FAIL]",
		       out_c(OUT_RESET), s);
	}
	free(s);
	return held;
}

unsigned int out_claims_failed(void)
{
	return claims_failed;
}

void out_error(int err, const char *what, const char *hint, ...)
{
	char *h = NULL;
	va_list ap;

	if (hint) {
		va_start(ap, hint);
		h = vfmt(hint, ap);
		va_end(ap);
	}
	if (!mg_json)
		text_flush_all();
	fprintf(stderr, "modegate: %s", what);
	if (err)
		fprintf(stderr, ": %s (%s)", strerrorname_np(err) ? : "?", strerror(err));
	fputc('\n', stderr);
	if (h)
		fprintf(stderr, "  %s\n", h);
	if (mg_json && depth >= 0) {
		struct node *e = node_add(stack[0].node, "error", NULL);
		char *q = json_quote(what);

		node_add(e, "what", q);
		free(q);
		q = json_quote(err ? strerrorname_np(err) ? : "?" : "0");
		node_add(e, "errno", q);
		free(q);
		if (h) {
			q = json_quote(h);
			node_add(e, "hint", q);
			free(q);
		}
	}
	free(h);
}

/* ---- the document ---- */

void out_begin(void)
{
	const char *nc = getenv("NO_COLOR");
	struct frame *f;

	color = !mg_json && !mg_no_color && isatty(STDOUT_FILENO) && !(nc && *nc);
	claims_failed = 0;
	depth = -1;
	f = push(K_DOC, 0);
	if (mg_json)
		f->node = xzalloc(sizeof(struct node));
}

int out_end(int rc)
{
	if (depth < 0)
		return rc;
	while (depth > 0)
		out_close();
	if (mg_json) {
		json_print(stack[0].node, 0, false);
		putchar('\n');
		node_free(stack[0].node);
	} else {
		text_flush_pairs(&stack[0]);
	}
	fflush(stdout);
	depth = -1;
	return rc;
}
