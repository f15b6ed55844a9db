// SPDX-License-Identifier: GPL-2.0
/*
 * The journey drawn: an SVG timeline of async requests, built from the
 * module's trace events (journey.c).  One panel per run; in a panel one
 * lane per CPU, on each lane the tasks that ran there (coloured blocks) and
 * the events (markers).  Events of one kind run by one task one after the
 * other share a label, one line per request, in the text table's words;
 * labels are stacked above their lane so that none overlaps another.  Time
 * runs left to right from the trace timestamps; long gaps are compressed
 * (logarithmically) and the axis says by how much.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgtool.h"

#define SVG_W		1500
#define LANE_X		120	/* lanes start here; "CPU n" left of it */
#define PLOT_X0		(LANE_X + 24)
#define PLOT_X1		(SVG_W - 40)
#define FS		15	/* label text, monospace */
#define CW		(FS * 0.61)	/* its advance (DejaVu Sans Mono) */
#define LINE_H		19
#define BAR_H		36
#define MIN_GAP		18	/* between markers */
#define LABEL_GAP	10
#define MAX_LINES	(1 + 2 * MG_JOURNEY_REQS)
#define MAX_CPUS	64

enum svg_role { ROLE_ORIGIN, ROLE_OTHER, ROLE_KWORKER, ROLE_IDLE, ROLE_BYSTANDER, ROLES };

static const struct {
	const char *fill, *stroke, *name;
} svg_roles[ROLES] = {
	[ROLE_ORIGIN] = { "#dbe7fb", "#2f5fb3", "the originator (the tool)" },
	[ROLE_OTHER] = { "#fde6c8", "#b36200", "another process (interrupted)" },
	[ROLE_KWORKER] = { "#dcf1dc", "#2e7d32", "the delivery thread (kernel thread)" },
	[ROLE_IDLE] = { "#e8e8e8", "#6b6b6b", "idle task or other kernel thread" },
	[ROLE_BYSTANDER] = { "#f8d2d6", "#b00020", "the registered bystander" },
};

static const struct {
	const char *name, *color;
} svg_kinds[MG_J_KINDS] = {
	[MG_J_SUBMIT] = { "submit", "#2f5fb3" },
	[MG_J_IRQ] = { "interrupt", "#b36200" },
	[MG_J_DELIVER] = { "delivery", "#2e7d32" },
	[MG_J_REAP] = { "reap", "#6a3d9a" },
};

#define SVG_CARELESS "#d0021b"

struct svg_label {
	int cpu;
	enum mg_jkind kind;
	double xa, gx1;		/* the group's first and last marker */
	double x0, w, h;	/* the box */
	double off;		/* placed: its bottom this far above the bar */
	unsigned int nlines;
	char line[MAX_LINES][112];
	bool careless[MAX_LINES];
};

struct svg_layout {
	const struct mg_svg_panel *p;
	const struct mg_journey *j;
	unsigned int order[MG_JOURNEY_EVENTS];	/* events by time */
	double x[MG_JOURNEY_EVENTS];		/* by event index */
	struct svg_label *labels;
	unsigned int nlabels;
	int ncpu;
	double lane_top[MAX_CPUS], stack[MAX_CPUS];	/* label stack height */
	double height;
};

static void svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			fputc(*s, f);
	}
}

static const struct modegate_async_completion *svg_comp(const struct svg_layout *l,
							 unsigned int req)
{
	const struct mg_async_run *r = l->p->run;
	unsigned int i;

	for (i = 0; r && i < r->nr_comps; i++)
		if (r->comps[i].user_data == l->j->req[req].user_data)
			return &r->comps[i];
	return NULL;
}

static enum svg_role svg_role(const struct svg_layout *l, const struct mg_jevent *e)
{
	if (!e->pid)
		return ROLE_IDLE;
	if (l->p->run && e->pid == l->p->run->spinner)
		return l->p->bystander ? ROLE_BYSTANDER : ROLE_OTHER;
	if (!strncmp(e->comm, "kworker", 7) || !strncmp(e->comm, "modegate-", 9))
		return ROLE_KWORKER;
	if (l->p->run && e->pid == l->p->run->origin)
		return ROLE_ORIGIN;
	return ROLE_OTHER;
}

/* Events by time; ties in the order of a request's life. */
static void svg_sort(struct svg_layout *l)
{
	const struct mg_jevent *ev = l->j->ev;
	unsigned int i, k;

	for (i = 0; i < l->j->nev; i++) {
		for (k = i; k && (ev[l->order[k - 1]].t_ns > ev[i].t_ns ||
				  (ev[l->order[k - 1]].t_ns == ev[i].t_ns &&
				   ev[l->order[k - 1]].kind > ev[i].kind)); k--)
			l->order[k] = l->order[k - 1];
		l->order[k] = i;
	}
}

/* x of each event: at least MIN_GAP apart, gaps growing with log(dt). */
static void svg_place_x(struct svg_layout *l)
{
	const struct mg_jevent *ev = l->j->ev;
	double lg[MG_JOURNEY_EVENTS], sum = 0, k, x = PLOT_X0;
	unsigned int i, n = l->j->nev;

	for (i = 1; i < n; i++) {
		uint64_t a = ev[l->order[i - 1]].t_ns, b = ev[l->order[i]].t_ns;

		lg[i] = log10(1 + (b > a ? b - a : 0) / 1000.0);
		sum += lg[i];
	}
	k = sum > 0 ? (PLOT_X1 - PLOT_X0 - 320 - (n - 1) * MIN_GAP) / sum : 0;
	for (i = 0; i < n; i++) {
		if (i)
			x += MIN_GAP + (k > 0 ? k * lg[i] : 0);
		l->x[l->order[i]] = x;
	}
}

static void svg_result(char *buf, size_t len, long long v)
{
	const char *name = v < 0 ? strerrorname_np(-v) : NULL;

	if (v >= 0)
		snprintf(buf, len, "%lld", v);
	else
		snprintf(buf, len, "%s", name ? name : "?");
}

static unsigned int svg_via(const char *via)
{
	static const char *const vias[] = {
		[MODEGATE_DELIVER_NONE] = "none", [MODEGATE_DELIVER_WORKER] = "adopted-mm",
		[MODEGATE_DELIVER_KMAP] = "kmap", [MODEGATE_DELIVER_ORIGINATOR] = "originator",
		[MODEGATE_DELIVER_BYSTANDER] = "BYSTANDER",
	};
	unsigned int i;

	for (i = 0; i < MG_ARRAY_SIZE(vias); i++)
		if (!strcmp(via, vias[i]))
			return i;
	return MODEGATE_DELIVER_NONE;
}

static void svg_add_line(struct svg_label *lab, bool careless, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void svg_add_line(struct svg_label *lab, bool careless, const char *fmt, ...)
{
	va_list ap;

	if (lab->nlines == MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(lab->line[lab->nlines], sizeof(lab->line[0]), fmt, ap);
	va_end(ap);
	lab->careless[lab->nlines++] = careless;
}

/* NAIVE: where a raw write from the interrupt would have landed. */
static void svg_careless_line(const struct svg_layout *l, struct svg_label *lab,
			      const struct modegate_async_completion *c)
{
	const struct mg_async_run *r = l->p->run;
	unsigned long long buf = 0;

	if (c->strategy != MODEGATE_STRAT_NAIVE)
		return;
	if (c->user_data >= 1 && c->user_data <= r->queued)
		buf = r->reqs[c->user_data - 1].buf;
	if (c->ctx_flags & MODEGATE_CTX_WRONG_PROCESS)
		svg_add_line(lab, true, "#%llu written here, at %#llx: the wrong process",
			     (unsigned long long)c->user_data, buf);
	else if (c->ctx_flags & MODEGATE_CTX_IRQ_OTHER_USER)
		svg_add_line(lab, true, "#%llu a raw write: into another user's task",
			     (unsigned long long)c->user_data);
	else if (c->ctx_flags & (MODEGATE_CTX_IRQ_IDLE | MODEGATE_CTX_IRQ_KTHREAD))
		svg_add_line(lab, true, "#%llu a raw write: no user memory here",
			     (unsigned long long)c->user_data);
	else if (!(c->ctx_flags & MODEGATE_CTX_IRQ_MM_MATCH))
		svg_add_line(lab, true, "#%llu a raw write to %#llx lands here",
			     (unsigned long long)c->user_data, buf);
	else
		svg_add_line(lab, false, "#%llu a raw write: right, by luck",
			     (unsigned long long)c->user_data);
}

/* One line per event of the group, in the words of the text table. */
static void svg_event_line(const struct svg_layout *l, struct svg_label *lab,
			   const struct mg_jevent *e)
{
	const struct modegate_async_completion *c = svg_comp(l, e->req);
	unsigned long long ud = l->j->req[e->req].user_data;
	const char *strat = c ? mg_strategy_name(c->strategy) : "?";
	char res[24];

	if (!c) {
		svg_add_line(lab, false, "#%llu", ud);
	} else if (e->kind == MG_J_SUBMIT) {
		svg_add_line(lab, false, "#%llu %s", ud, strat);
	} else if (e->kind == MG_J_IRQ) {
		svg_add_line(lab, false, "#%llu %s, mm %s", ud, strat, mg_async_mm_name(c));
		svg_careless_line(l, lab, c);
	} else if (e->kind == MG_J_DELIVER) {
		svg_result(res, sizeof(res), e->result);
		if (svg_via(e->via) == MODEGATE_DELIVER_NONE && e->result > 0)
			svg_add_line(lab, false, "#%llu %s: kernel buffer, %s", ud, strat, res);
		else
			svg_add_line(lab, svg_via(e->via) == MODEGATE_DELIVER_BYSTANDER,
				     "#%llu %s: %s, %s", ud, strat,
				     mg_delivered_name(svg_via(e->via)), res);
	} else {
		svg_result(res, sizeof(res), c->result);
		svg_add_line(lab, false, "#%llu result %s", ud, res);
	}
}

/* The label of events order[first..last] (same lane, kind and task). */
static void svg_make_label(struct svg_layout *l, struct svg_label *lab, const unsigned int *idx,
			   unsigned int n)
{
	const struct mg_jevent *e = &l->j->ev[idx[0]];
	static const char *const verbs[MG_J_KINDS] = {
		[MG_J_SUBMIT] = "submit by", [MG_J_IRQ] = "interrupt on",
		[MG_J_DELIVER] = "delivery by", [MG_J_REAP] = "reap by",
	};
	size_t wmax = 0;
	unsigned int i;

	memset(lab, 0, sizeof(*lab));
	lab->cpu = e->cpu;
	lab->kind = e->kind;
	lab->xa = l->x[idx[0]];
	lab->gx1 = l->x[idx[n - 1]];
	svg_add_line(lab, false, "%s %d/%s", verbs[e->kind], e->pid, e->comm);
	for (i = 0; i < n; i++)
		svg_event_line(l, lab, &l->j->ev[idx[i]]);
	for (i = 0; i < lab->nlines; i++)
		if (strlen(lab->line[i]) > wmax)
			wmax = strlen(lab->line[i]);
	lab->w = wmax * CW + 16;
	lab->h = lab->nlines * LINE_H + 10;
	lab->x0 = lab->xa - 8;
	if (lab->x0 + lab->w > SVG_W - 8)
		lab->x0 = SVG_W - 8 - lab->w;
}

/* Group each lane's consecutive events of one kind and one task. */
static int svg_make_labels(struct svg_layout *l)
{
	unsigned int idx[MG_JOURNEY_EVENTS], n, i;
	int cpu;

	l->labels = calloc(l->j->nev ? l->j->nev : 1, sizeof(*l->labels));
	if (!l->labels)
		return -ENOMEM;
	for (cpu = 0; cpu < l->ncpu; cpu++) {
		n = 0;
		for (i = 0; i <= l->j->nev; i++) {
			const struct mg_jevent *e = i < l->j->nev ? &l->j->ev[l->order[i]] : NULL;
			const struct mg_jevent *g = n ? &l->j->ev[idx[0]] : NULL;

			if (e && e->cpu != cpu)
				continue;
			if (g && (!e || e->kind != g->kind || e->pid != g->pid)) {
				svg_make_label(l, &l->labels[l->nlabels++], idx, n);
				n = 0;
			}
			if (e)
				idx[n++] = l->order[i];
		}
	}
	return 0;
}

static bool svg_overlap(double a0, double a1, double b0, double b1, double pad)
{
	return a0 < b1 + pad && b0 < a1 + pad;
}

/* Does @a, placed at @off, collide with the placed @b (boxes or leaders)? */
static bool svg_collides(const struct svg_label *a, double off, const struct svg_label *b)
{
	if (svg_overlap(a->x0, a->x0 + a->w, b->x0, b->x0 + b->w, 6) &&
	    svg_overlap(off, off + a->h, b->off, b->off + b->h, LABEL_GAP - 1))
		return true;
	if (b->off < off && a->xa >= b->x0 - 4 && a->xa <= b->x0 + b->w + 4)
		return true;	/* a's leader crosses b */
	return off < b->off && b->xa >= a->x0 - 4 && b->xa <= a->x0 + a->w + 4;
}

/* Stack each lane's labels above it, right to left, as low as they fit. */
static void svg_place_labels(struct svg_layout *l)
{
	unsigned int i, k, m, placed[MG_JOURNEY_EVENTS], np;
	int cpu;

	for (cpu = 0; cpu < l->ncpu; cpu++) {
		np = 0;
		for (i = l->nlabels; i-- > 0;) {
			struct svg_label *a = &l->labels[i];
			double best = -1;

			if (a->cpu != cpu)
				continue;
			for (k = 0; k <= np; k++) {
				double off = k ? l->labels[placed[k - 1]].off +
						 l->labels[placed[k - 1]].h + LABEL_GAP : 0;

				for (m = 0; m < np && !svg_collides(a, off, &l->labels[placed[m]]); m++)
					;
				if (m == np && (best < 0 || off < best))
					best = off;
			}
			a->off = best < 0 ? l->stack[cpu] + LABEL_GAP : best;
			if (a->off + a->h > l->stack[cpu])
				l->stack[cpu] = a->off + a->h;
			placed[np++] = i;
		}
	}
}

static double svg_bar_y(const struct svg_layout *l, int cpu)
{
	return l->lane_top[cpu] + BAR_H - 15;
}

/* The tasks on a lane: a block per run of events by one task. */
static void svg_tasks(FILE *f, const struct svg_layout *l, int cpu)
{
	const struct mg_jevent *ev = l->j->ev;
	unsigned int i, first = ~0U, last = 0;
	double x0, x1, y = l->lane_top[cpu] + 3;
	char name[40];

	for (i = 0; i <= l->j->nev; i++) {
		const struct mg_jevent *e = i < l->j->nev ? &ev[l->order[i]] : NULL;

		if (e && e->cpu != cpu)
			continue;
		/* A new block for another task, or the same one much later. */
		if (first != ~0U && (!e || e->pid != ev[first].pid ||
				     e->t_ns - ev[last].t_ns > 1000000)) {
			enum svg_role role = svg_role(l, &ev[first]);

			x0 = l->x[first] - 13;
			x1 = l->x[last] + 13;
			snprintf(name, sizeof(name), "%d/%s", ev[first].pid, ev[first].comm);
			fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' rx='6' fill='%s' stroke='%s'/>\n",
				x0, y, x1 - x0, BAR_H - 6, svg_roles[role].fill, svg_roles[role].stroke);
			if (strlen(name) * 12 * 0.61 < x1 - x0 - 6) {
				fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' fill='%s'>", x0 + 5, y + 12,
					svg_roles[role].stroke);
				svg_text(f, name);
				fputs("</text>\n", f);
			}
			first = ~0U;
		}
		if (e && first == ~0U)
			first = l->order[i];
		if (e)
			last = l->order[i];
	}
}

static void svg_marker(FILE *f, enum mg_jkind kind, double x, double y, const char *color)
{
	if (kind == MG_J_SUBMIT)
		fprintf(f, "<circle cx='%.1f' cy='%.1f' r='6.5' fill='%s' stroke='white'/>\n", x, y,
			color);
	else if (kind == MG_J_IRQ)
		fprintf(f, "<path d='M%.1f %.1fl8 -8l8 8l-8 8z' fill='%s' stroke='white'/>\n", x - 8,
			y, color);
	else if (kind == MG_J_DELIVER)
		fprintf(f, "<rect x='%.1f' y='%.1f' width='13' height='13' fill='%s' stroke='white'/>\n",
			x - 6.5, y - 6.5, color);
	else
		fprintf(f, "<path d='M%.1f %.1fl8 14h-16z' fill='%s' stroke='white'/>\n", x, y - 8,
			color);
}

static bool svg_event_careless(const struct svg_layout *l, const struct mg_jevent *e)
{
	const struct modegate_async_completion *c = svg_comp(l, e->req);

	if (!c || c->strategy != MODEGATE_STRAT_NAIVE)
		return false;
	if (e->kind == MG_J_IRQ)
		return !(c->ctx_flags & MODEGATE_CTX_IRQ_MM_MATCH);
	return e->kind == MG_J_DELIVER && svg_via(e->via) == MODEGATE_DELIVER_BYSTANDER;
}

/* Each request's path through the lanes, then its markers on top. */
static void svg_journeys(FILE *f, const struct svg_layout *l)
{
	const struct mg_jevent *ev = l->j->ev;
	unsigned int r, i;

	for (r = 0; r < l->j->nreq; r++) {
		fputs("<polyline fill='none' stroke='#8a8a8a' stroke-width='1.2' stroke-dasharray='4 3' points='", f);
		for (i = 0; i < l->j->nev; i++)
			if (ev[l->order[i]].req == r)
				fprintf(f, "%.1f,%.1f ", l->x[l->order[i]], svg_bar_y(l, ev[l->order[i]].cpu));
		fputs("'/>\n", f);
	}
	for (i = 0; i < l->j->nev; i++)
		svg_marker(f, ev[i].kind, l->x[i], svg_bar_y(l, ev[i].cpu),
			   svg_event_careless(l, &ev[i]) ? SVG_CARELESS : svg_kinds[ev[i].kind].color);
}

static void svg_label(FILE *f, const struct svg_layout *l, const struct svg_label *a,
		      const char *color)
{
	double top = l->lane_top[a->cpu];
	double bottom = top - 6 - a->off, y = bottom - a->h;
	unsigned int i;

	fprintf(f, "<path d='M%.1f %.1fV%.1fH%.1f' fill='none' stroke='%s' stroke-width='2'/>\n",
		a->xa, bottom, top - 2, a->gx1, color);
	fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' rx='4' fill='white' stroke='%s' stroke-width='1.5'/>\n",
		a->x0, y, a->w, a->h, color);
	for (i = 0; i < a->nlines; i++) {
		fprintf(f, "<text x='%.1f' y='%.1f' font-size='%d'%s fill='%s'>", a->x0 + 8,
			y + 5 + LINE_H * (i + 1) - 5, FS, i ? "" : " font-weight='bold'",
			a->careless[i] ? SVG_CARELESS : i ? "#1a1a1a" : color);
		svg_text(f, a->line[i]);
		fputs("</text>\n", f);
	}
}

/* Time since the first event, precise enough to tell neighbours apart. */
static void svg_fmt_t(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else
		snprintf(buf, len, "%.3f ms", ns / 1e6);
}

/* The time axis: a tick per label, with the time since the first event. */
static void svg_axis(FILE *f, const struct svg_layout *l, double y)
{
	const struct mg_jevent *ev = l->j->ev;
	uint64_t t0 = l->j->nev ? ev[l->order[0]].t_ns : 0;
	double last_end = 0, x;
	unsigned int i;
	char t[40];

	fprintf(f, "<path d='M%d %.1fH%d' stroke='#444' stroke-width='1.5'/>\n", PLOT_X0 - 14, y,
		PLOT_X1 + 20);
	for (i = 0; i < l->j->nev; i++) {
		unsigned int e = l->order[i];

		x = l->x[e];
		fprintf(f, "<path d='M%.1f %.1fv6' stroke='#444'/>\n", x, y);
		if (i && ev[e].t_ns - ev[l->order[i - 1]].t_ns > 1000000) {
			double xm = (x + l->x[l->order[i - 1]]) / 2;

			fprintf(f, "<path d='M%.1f %.1fl6 -12M%.1f %.1fl6 -12' stroke='#444' stroke-width='1.5'/>\n",
				xm - 6, y + 6, xm + 1, y + 6);
		}
		if (x - 4 < last_end)
			continue;
		svg_fmt_t(t, sizeof(t), ev[e].t_ns - t0);
		fprintf(f, "<text x='%.1f' y='%.1f' font-size='13' fill='#444'>+%s</text>\n", x - 4,
			y + 21, t);
		last_end = x - 4 + (strlen(t) + 2) * 13 * 0.61;
	}
}

static double svg_panel(FILE *f, struct svg_layout *l, double y)
{
	int cpu;
	unsigned int i;

	fprintf(f, "<text x='20' y='%.1f' font-size='19' font-weight='bold'>", y + 22);
	svg_text(f, l->p->title);
	fputs("</text>\n", f);
	y += 34;
	for (cpu = 0; cpu < l->ncpu; cpu++) {
		l->lane_top[cpu] = y + l->stack[cpu] + 16;
		y = l->lane_top[cpu] + BAR_H + 18;
		fprintf(f, "<rect x='%d' y='%.1f' width='%d' height='%d' fill='#f4f4f4'/>\n", LANE_X,
			l->lane_top[cpu], PLOT_X1 + 20 - LANE_X, BAR_H);
		fprintf(f, "<text x='20' y='%.1f' font-size='17' font-weight='bold'>CPU %d</text>\n",
			l->lane_top[cpu] + BAR_H / 2 + 6, cpu);
		svg_tasks(f, l, cpu);
	}
	svg_journeys(f, l);
	for (i = 0; i < l->nlabels; i++)
		svg_label(f, l, &l->labels[i], svg_kinds[l->labels[i].kind].color);
	svg_axis(f, l, y);
	return y + 40;
}

static double svg_legend(FILE *f, double y)
{
	static const char *const careless = "where a careless (NAIVE) write lands";
	double x = 20;
	unsigned int k;

	fprintf(f, "<text x='20' y='%.1f' font-size='15' font-weight='bold'>Legend</text>\n", y);
	y += 24;
	for (k = 0; k < MG_J_KINDS; k++, x += 190) {
		svg_marker(f, k, x + 8, y - 5, svg_kinds[k].color);
		fprintf(f, "<text x='%.1f' y='%.1f' font-size='15'>%s</text>\n", x + 22, y,
			svg_kinds[k].name);
	}
	svg_marker(f, MG_J_IRQ, x + 8, y - 5, SVG_CARELESS);
	fprintf(f, "<text x='%.1f' y='%.1f' font-size='15' fill='%s'>%s</text>\n", x + 22, y,
		SVG_CARELESS, careless);
	y += 28;
	for (k = 0, x = 20; k < ROLES; k++) {
		fprintf(f, "<rect x='%.1f' y='%.1f' width='26' height='18' rx='4' fill='%s' stroke='%s'/>\n",
			x, y - 14, svg_roles[k].fill, svg_roles[k].stroke);
		fprintf(f, "<text x='%.1f' y='%.1f' font-size='15'>%s</text>\n", x + 34, y,
			svg_roles[k].name);
		x += 34 + strlen(svg_roles[k].name) * 15 * 0.61 + 28;
		if (x > SVG_W - 300 && k + 1 < ROLES) {
			x = 20;
			y += 26;
		}
	}
	y += 26;
	fprintf(f, "<text x='20' y='%.1f' font-size='14' fill='#444'>Dashed grey: one request's journey. Time from the trace events (mono clock); gaps grow with the log of their length, // marks one above 1 ms.</text>\n",
		y);
	return y + 16;
}

static int svg_layout(struct svg_layout *l, const struct mg_svg_panel *p)
{
	unsigned int i;

	memset(l, 0, sizeof(*l));
	l->p = p;
	l->j = p->journey;
	l->ncpu = mg_ncpus();
	for (i = 0; i < l->j->nev; i++)
		if (l->j->ev[i].cpu >= l->ncpu)
			l->ncpu = l->j->ev[i].cpu + 1;
	if (l->ncpu > MAX_CPUS)
		return -ERANGE;
	svg_sort(l);
	svg_place_x(l);
	if (svg_make_labels(l))
		return -ENOMEM;
	svg_place_labels(l);
	for (i = 0; i < (unsigned int)l->ncpu; i++)
		l->height += l->stack[i] + 16 + BAR_H + 18;
	l->height += 34 + 40;
	return 0;
}

/* Write the panels' journeys to @path; 0 or -errno. */
int mg_svg_write(const char *path, const struct mg_svg_panel *panels, unsigned int n)
{
	struct svg_layout *l = calloc(n ? n : 1, sizeof(*l));
	double h = 60, y;
	unsigned int i;
	int ret = 0;
	FILE *f;

	if (!l)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++) {
		ret = svg_layout(&l[i], &panels[i]);
		h += l[i].height;
	}
	f = ret ? NULL : fopen(path, "we");
	if (!ret && !f)
		ret = -errno;
	if (f) {
		fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
			"<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%.0f' viewBox='0 0 %d %.0f' font-family='DejaVu Sans Mono, monospace'>\n"
			"<rect width='100%%' height='100%%' fill='white'/>\n"
			"<text x='20' y='34' font-size='24' font-weight='bold'>The journey of each asynchronous read: submit, interrupt, delivery, reap</text>\n",
			SVG_W, h + 150, SVG_W, h + 150);
		for (i = 0, y = 50; i < n; i++)
			y = svg_panel(f, &l[i], y);
		svg_legend(f, y + 10);
		fputs("</svg>\n", f);
		if (fclose(f))
			ret = -errno;
	}
	for (i = 0; i < n; i++)
		free(l[i].labels);
	free(l);
	return ret;
}
