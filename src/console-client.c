/*
 * console-client.c: one client's page in the console: how it connects
 * and what it said of itself, when it last spoke, its tallies, its warm
 * Blenders, the frames it holds (rendering or waiting, and for how long)
 * and its latest results across jobs, newest first, with the reason of
 * each failure. The arrows scroll its frames; K revokes a TLS client's
 * key, once confirmed.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "console-pane.h"
#include "server.h"
#include "xmalloc.h"

/* The page's own keys, for the help page. */
const struct console_help_key console_client_help[] = {
	{ N_("Up, k"), N_("scroll the client's frames up") },
	{ N_("Down, j"), N_("scroll the client's frames down") },
	{ N_("PgUp, PgDn"), N_("scroll the client's frames a page") },
	{ N_("Home, End"), N_("show the client's first or last frames") },
	{ N_("K"), N_("revoke the client's TLS key and cut its "
	    "connections") },
	{ N_("Esc"), N_("go back to the main page") },
};
const size_t console_client_nhelp = nitems(console_client_help);

/* The labels of the facts, in the order they are shown. */
enum console_client_fact {
	CONSOLE_CLIENT_CONNECTS,
	CONSOLE_CLIENT_MACHINE,
	CONSOLE_CLIENT_SESSIONS,
	CONSOLE_CLIENT_SPOKE,
	CONSOLE_CLIENT_FRAMES,
	CONSOLE_CLIENT_RENDERERS,
	CONSOLE_CLIENT_WARM,
	CONSOLE_CLIENT_BLOCKED,
	CONSOLE_CLIENT_NFACTS
};
static const char *const console_client_labels[CONSOLE_CLIENT_NFACTS] = {
	N_("connects"),
	N_("machine"),
	N_("sessions"),
	N_("last spoke"),
	N_("frames"),
	N_("renderers"),
	N_("warm Blenders"),
	N_("blocked on")
};

/* Draw text in width columns at *x on line y, the rest of it if -1. */
static void
console_client_cell(struct console *c, int y, int *x, int width,
    attr_t attr, const char *text)
{
	if (width < 0 || *x + width > COLS)
		width = COLS - *x;
	console_draw_text(c, y, *x, width, attr, text);
	*x += width;
}

/* How the host reaches the server: TLS with a key, plain bdfarm, or old. */
static char *
console_client_connects(const struct host *host)
{
	char	*text;

	if (host->tls)
		xasprintf(&text, _("over TLS with the key %.*s, bdfarm "
		    "extension %d"), (int)strcspn(host->name, "#"), host->name,
		    host->ext_version);
	else if (host->ext_version > 0)
		xasprintf(&text, _("in plain text, bdfarm extension %d"),
		    host->ext_version);
	else
		text = xstrdup(_("in plain text, the old protocol"));
	return text;
}

/* What the host said of itself in FACTS, if it did. */
static char *
console_client_machine(const struct host *host)
{
	char	*text;

	if (host->ext_version == 0)
		return xstrdup(_("not said: the old protocol has no word "
		    "for it"));
	if (host->renderers == 0 && host->blender == NULL)
		return xstrdup(_("not said yet"));
	xasprintf(&text, _("%d %s, %d %s, Blender %s"), host->renderers,
	    ngettext("renderer", "renderers", (unsigned long)host->renderers),
	    host->cores, ngettext("core", "cores", (unsigned long)host->cores),
	    host->blender != NULL ? host->blender : "?");
	return text;
}

/* When the host last spoke: now while connected, else how long ago. */
static char *
console_client_spoke(const struct host *host, farm_time now)
{
	char	 age[32], *text;

	if (host->connections > 0)
		return xstrdup(_("now: it is connected"));
	if (host->last_contact == 0)
		return xstrdup(_("never since the server started"));
	eta_duration_text(now - host->last_contact, age, sizeof age);
	xasprintf(&text, _("%s ago; it is not connected"), age);
	return text;
}

/* The renderers at work and the frames held in waiting. */
static char *
console_client_work(const struct console_host_row *r)
{
	size_t	 busy, waiting;
	char	*text;

	busy = console_clients_busy(r, &waiting);
	if (r->host->renderers > 0)
		xasprintf(&text, _("%zu of %d at work, %zu %s waiting"), busy,
		    r->host->renderers, waiting, ngettext("frame", "frames",
		    waiting));
	else
		xasprintf(&text, _("%zu at work, %zu %s waiting"), busy,
		    waiting, ngettext("frame", "frames", waiting));
	return text;
}

/*
 * The host's warm Blenders, each with the frames it has rendered since it
 * loaded its scene, as a bdfarm/4 client says.
 */
static char *
console_client_warm(const struct host *host)
{
	char	*text = NULL, *next, *one;
	int	 i;

	if (!host->warm_said)
		return xstrdup(_("not said: the client does not speak of "
		    "them"));
	if (host->nwarm == 0)
		return xstrdup(_("none now"));
	for (i = 0; i < host->nwarm; i++) {
		if (host->warm[i] < 0)
			one = xstrdup(_("loading its scene"));
		else
			xasprintf(&one, ngettext("%ld frame rendered",
			    "%ld frames rendered", (unsigned long)host->warm[i]),
			    host->warm[i]);
		if (text == NULL)
			text = one;
		else {
			xasprintf(&next, "%s, %s", text, one);
			free(text);
			free(one);
			text = next;
		}
	}
	return text;
}

/* The jobs the host failed on too often to get more of, or NULL. */
static char *
console_client_blocked(struct console *c, const struct host *host)
{
	struct job	*job;
	char		*text = NULL, *next;

	TAILQ_FOREACH(job, &c->server->farm.jobs, entry) {
		if (!job_host_blocked(job, host))
			continue;
		if (text == NULL)
			text = xstrdup(job->name);
		else {
			xasprintf(&next, "%s, %s", text, job->name);
			free(text);
			text = next;
		}
	}
	return text;
}

/* Draw one fact on line y: its label, then text in attr. */
static void
console_client_fact(struct console *c, int y, int label,
    enum console_client_fact fact, attr_t attr, const char *text)
{
	int	x = 0;

	console_client_cell(c, y, &x, 2, c->attrs[CONSOLE_C_NORMAL], "");
	console_client_cell(c, y, &x, label + 2, c->attrs[CONSOLE_C_DIM],
	    _(console_client_labels[fact]));
	console_client_cell(c, y, &x, -1, attr, text);
}

/*
 * Draw the host's facts from line y on, no further than line end; returns
 * the line after them.
 */
static int
console_client_draw_facts(struct console *c, int y, int end,
    const struct console_host_row *r, farm_time now)
{
	const struct host	*host = r->host;
	attr_t			 attr;
	char			*text[CONSOLE_CLIENT_NFACTS], avg[32];
	int			 i, label = 0, len;

	for (i = 0; i < CONSOLE_CLIENT_NFACTS; i++) {
		len = (int)strlen(_(console_client_labels[i]));
		if (len > label)
			label = len;
	}
	text[CONSOLE_CLIENT_CONNECTS] = console_client_connects(host);
	text[CONSOLE_CLIENT_MACHINE] = console_client_machine(host);
	xasprintf(&text[CONSOLE_CLIENT_SESSIONS], _("%d open now"),
	    host->connections);
	text[CONSOLE_CLIENT_SPOKE] = console_client_spoke(host, now);
	eta_duration_text(eta_host_frame_time(host), avg, sizeof avg);
	xasprintf(&text[CONSOLE_CLIENT_FRAMES], _("%u done, %u failed, %s "
	    "a frame on average"), host->done, host->failed, avg);
	text[CONSOLE_CLIENT_RENDERERS] = console_client_work(r);
	text[CONSOLE_CLIENT_WARM] = console_client_warm(host);
	text[CONSOLE_CLIENT_BLOCKED] = console_client_blocked(c, host);

	for (i = 0; i < CONSOLE_CLIENT_NFACTS; i++) {
		attr = c->attrs[CONSOLE_C_NORMAL];
		if (i == CONSOLE_CLIENT_SPOKE && host->connections > 0)
			attr = c->attrs[CONSOLE_C_ACTIVE];
		if (i == CONSOLE_CLIENT_BLOCKED)
			attr = c->attrs[text[i] != NULL ? CONSOLE_C_BAD :
			    CONSOLE_C_DIM];
		if (y < end)
			console_client_fact(c, y++, label, i, attr,
			    text[i] != NULL ? text[i] : _("no job"));
		free(text[i]);
	}
	return y;
}

/* Draw frame i of the host's row on line y. */
static void
console_client_draw_frame(struct console *c, int y,
    const struct console_host_row *r, size_t i, int name, farm_time now)
{
	const struct job	*job = r->frames[i].job;
	const struct frame	*f = &job->frames[r->frames[i].index];
	attr_t			 normal = c->attrs[CONSOLE_C_NORMAL];
	attr_t			 attr;
	char			 buf[64], age[32];
	int			 x = 0;

	console_client_cell(c, y, &x, 2, normal, "");
	console_client_cell(c, y, &x, name + 1, normal, job->name);
	snprintf(buf, sizeof buf, "%6ld  ", job_frame_number(job, f));
	console_client_cell(c, y, &x, 8, normal, buf);
	attr = normal;
	if (r->host->ext_version == 0)
		snprintf(buf, sizeof buf, "%s", _("held"));
	else if (!f->started) {
		snprintf(buf, sizeof buf, "%s", _("waiting"));
		attr = c->attrs[CONSOLE_C_DIM];
	} else if (f->progress >= 1000)
		snprintf(buf, sizeof buf, "%s", _("rendered"));
	else {
		snprintf(buf, sizeof buf, _("rendering %u%%"),
		    f->progress / 10U);
		attr = c->attrs[CONSOLE_C_ACTIVE];
	}
	console_client_cell(c, y, &x, 16, attr, buf);
	eta_duration_text(now - f->since, age, sizeof age);
	snprintf(buf, sizeof buf, _("for %s"), age);
	console_client_cell(c, y, &x, -1, normal, buf);
}

/* What marks a cut list: an ellipsis, or three dots without UTF-8. */
static const char *
console_client_ellipsis(struct console *c)
{
	return c->utf8 ? "\xe2\x80\xa6" : "...";
}

/* Draw "... N more" on line y, for the rest of a cut list. */
static void
console_client_draw_more(struct console *c, int y, size_t more)
{
	char	*line;

	xasprintf(&line, _("  %s %zu more"), console_client_ellipsis(c), more);
	console_draw_text(c, y, 0, COLS, c->attrs[CONSOLE_C_DIM], line);
	free(line);
}

/*
 * Which of out frames show in rows lines, scrolled: the first is the
 * scroll's top; a last line says how many more follow, unless the list
 * is scrolled to its end. Returns how many show.
 */
static size_t
console_client_window(struct console *c, size_t out, int rows)
{
	size_t	top;

	if (rows <= 0 || out <= (size_t)rows) {
		c->client.most = 0;
		c->client.top = 0;
		c->client.page = rows > 0 ? rows : 1;
		return out;
	}
	c->client.most = (int)(out - (size_t)rows);
	c->client.page = rows;
	if (c->client.top > c->client.most)
		c->client.top = c->client.most;
	top = (size_t)c->client.top;
	return top + (size_t)rows >= out ? out - top : (size_t)rows - 1;
}

/*
 * Draw the shown frames out to the host from line y on, the last line
 * saying how many more follow if they do not all show; returns the line
 * after them.
 */
static int
console_client_draw_frames(struct console *c, int y, int rows,
    size_t shown, const struct console_host_row *r, farm_time now)
{
	size_t	 i, top = (size_t)c->client.top;
	int	 name = 3, len;

	if (rows <= 0)
		return y;
	if (r->out == 0) {
		console_draw_text(c, y, 0, COLS, c->attrs[CONSOLE_C_DIM],
		    _("  none"));
		return y + 1;
	}
	for (i = 0; i < r->out; i++) {
		len = (int)strlen(r->frames[i].job->name);
		if (len > name)
			name = len;
	}
	if (name > COLS / 3)
		name = COLS / 3;
	for (i = top; i < top + shown; i++)
		console_client_draw_frame(c, y++, r, i, name, now);
	if (r->out > top + shown)
		console_client_draw_more(c, y++, r->out - top - shown);
	return y;
}

/* Draw the host's result i, newest first, on line y. */
static void
console_client_draw_result(struct console *c, int y,
    const struct host_result *res, int name)
{
	attr_t	 normal = c->attrs[CONSOLE_C_NORMAL], attr = normal;
	char	 buf[64], took[32], *what;
	int	 x = 0;

	console_client_cell(c, y, &x, 2, normal, "");
	console_draw_clock(res->when, buf, sizeof buf);
	console_client_cell(c, y, &x, 12, c->attrs[CONSOLE_C_DIM], buf);
	console_client_cell(c, y, &x, name + 1, normal, res->job);
	snprintf(buf, sizeof buf, "%6ld  ", res->frame);
	console_client_cell(c, y, &x, 8, normal, buf);
	if (res->failed) {
		if (res->reason != NULL && *res->reason != '\0')
			xasprintf(&what, _("failed: %s"), res->reason);
		else
			what = xstrdup(_("failed"));
		attr = c->attrs[CONSOLE_C_BAD];
	} else if (res->took >= 0) {
		eta_duration_text(res->took, took, sizeof took);
		xasprintf(&what, _("done in %s"), took);
	} else
		what = xstrdup(_("done"));
	console_client_cell(c, y, &x, -1, attr, what);
	free(what);
}

/*
 * Draw the host's latest results, newest first, from line y on in at most
 * rows lines, the last saying how many more there are if they do not all
 * fit; returns the line after them.
 */
static int
console_client_draw_results(struct console *c, int y, int rows,
    const struct host *host)
{
	const struct host_result	*res;
	unsigned			 i, n, shown;
	int				 name = 3, len;

	if (rows <= 0)
		return y;
	n = host->nresults < HOST_RESULTS ? host->nresults : HOST_RESULTS;
	if (n == 0) {
		console_draw_text(c, y, 0, COLS, c->attrs[CONSOLE_C_DIM],
		    _("  none since the server started"));
		return y + 1;
	}
	for (i = 0; i < n; i++) {
		len = (int)strlen(host_result(host, i)->job);
		if (len > name)
			name = len;
	}
	if (name > COLS / 3)
		name = COLS / 3;
	shown = n <= (unsigned)rows ? n : (unsigned)rows - 1;
	for (i = 0; i < shown; i++) {
		res = host_result(host, i);
		console_client_draw_result(c, y++, res, name);
	}
	if (n > shown)
		console_client_draw_more(c, y++, n - shown);
	return y;
}

/*
 * Share the lines left for the two lists: each gets what it wants if
 * both fit, else the frames at least half, or what the results leave.
 */
static void
console_client_share(int avail, int frames, int results, int *fr, int *rr)
{
	if (avail < 0)
		avail = 0;
	*fr = frames;
	if (frames + results > avail) {
		*fr = avail / 2;
		if (avail - results > *fr)
			*fr = avail - results;
		if (*fr > frames)
			*fr = frames;
	}
	*rr = avail - *fr;
}

/* Draw a section's title on line y, with a blank line above it. */
static int
console_client_draw_section(struct console *c, int y, int end,
    const char *title)
{
	if (y < end)
		console_draw_fill(c, y++, 0, COLS, c->attrs[CONSOLE_C_NORMAL]);
	if (y < end)
		console_draw_title(c, y++, COLS, title, 0);
	return y;
}

/* The row of the host called name, or NULL if there is none. */
static const struct console_host_row *
console_client_row(const struct console_host_row *rows, size_t n,
    const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].host->name, name) == 0)
			return &rows[i];
	}
	return NULL;
}

/* Draw the whole screen: the page of the host called name. */
void
console_client_draw(struct console *c, const char *name, farm_time now)
{
	const struct console_host_row	*r;
	struct console_host_row		*rows = c->hosts, *own = NULL;
	size_t				 n = c->nhosts;
	size_t				 shown;
	unsigned			 nres;
	int				 y = 0, end, fr, rr, want;
	char				*title;

	if (rows == NULL)
		rows = own = console_clients_collect(c, &n);
	r = console_client_row(rows, n, name);
	end = LINES > 1 ? LINES - 1 : LINES;

	xasprintf(&title, _(" bdfarm: client %s"), name);
	console_draw_title(c, y++, COLS, title, 1);
	free(title);
	if (y < end)
		console_draw_fill(c, y++, 0, COLS, c->attrs[CONSOLE_C_NORMAL]);
	if (r == NULL) {
		xasprintf(&title, _("  %s is gone: the server no longer "
		    "knows it"), name);
		if (y < end)
			console_draw_text(c, y++, 0, COLS,
			    c->attrs[CONSOLE_C_BAD], title);
		free(title);
	} else {
		y = console_client_draw_facts(c, y, end, r, now);
		nres = r->host->nresults < HOST_RESULTS ? r->host->nresults :
		    HOST_RESULTS;
		want = r->out > 0 ? (int)r->out : 1;
		console_client_share(end - y - 4, want, nres > 0 ? (int)nres :
		    1, &fr, &rr);
		shown = console_client_window(c, r->out, fr);
		if (shown < r->out)
			xasprintf(&title, _(" FRAMES IT HOLDS (%zu; %d to %zu "
			    "shown)"), r->out, c->client.top + 1,
			    (size_t)c->client.top + shown);
		else
			xasprintf(&title, _(" FRAMES IT HOLDS (%zu)"), r->out);
		y = console_client_draw_section(c, y, end, title);
		free(title);
		y = console_client_draw_frames(c, y, fr, shown, r, now);
		y = console_client_draw_section(c, y, end,
		    _(" LATEST RESULTS, NEWEST FIRST"));
		y = console_client_draw_results(c, y, rr, r->host);
	}
	for (; y < end; y++)
		console_draw_fill(c, y, 0, COLS, c->attrs[CONSOLE_C_NORMAL]);
	if (own != NULL)
		console_clients_release(own, n);
}

/*
 * A key for the page of the host called name: scroll its frames, or ask
 * to revoke its key. Returns 1 if the key was the page's, 0 if not.
 */
int
console_client_key(struct console *c, const char *name, int key)
{
	struct host	*host;
	int		 top = c->client.top;
	int		 page = c->client.page;

	switch (key) {
	case KEY_UP:
	case 'k':
		top--;
		break;
	case KEY_DOWN:
	case 'j':
		top++;
		break;
	case KEY_PPAGE:
		top -= page > 1 ? page - 1 : 1;
		break;
	case KEY_NPAGE:
		top += page > 1 ? page - 1 : 1;
		break;
	case KEY_HOME:
	case 'g':
		top = 0;
		break;
	case KEY_END:
	case 'G':
		top = c->client.most;
		break;
	case 'K':
		host = host_find(&c->server->farm, name);
		if (host == NULL)
			console_set_status(c, _("%s is gone"), name);
		else
			console_clients_ask_revoke(c, host);
		console_dirty(c);
		return 1;
	default:
		return 0;
	}
	if (top > c->client.most)
		top = c->client.most;
	if (top < 0)
		top = 0;
	c->client.top = top;
	console_dirty(c);
	return 1;
}
