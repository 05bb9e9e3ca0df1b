/*
 * console-clients.c: the clients pane: every host that has asked for
 * work, with its renderers at work and the frames it holds in waiting,
 * the frames out to it and for how long, its tallies, its last contact,
 * its warm Blenders, and whether it proved a key over TLS, speaks plain
 * bdfarm or only the old protocol. K on a TLS host revokes its key, once
 * confirmed.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console-pane.h"
#include "server.h"
#include "xmalloc.h"

#define CONSOLE_CLIENTS_WARM	11	/* the BLENDER column, and a space */
#define CONSOLE_CLIENTS_WARM_COLS 100	/* shown on screens this wide */

/* The width of the BLENDER column: none on a narrow screen. */
static int
console_clients_warm_width(void)
{
	return COLS >= CONSOLE_CLIENTS_WARM_COLS ? CONSOLE_CLIENTS_WARM : 0;
}

/* How many hosts there are. */
int
console_clients_count(struct console *c)
{
	struct host	*host;
	int		 n = 0;

	TAILQ_FOREACH(host, &c->server->farm.hosts, entry)
		n++;
	return n;
}

/*
 * Every host with the frames out to it, gathered in one pass over the
 * frames in flight; *n receives the count. Release with
 * console_clients_release().
 */
struct console_host_row *
console_clients_collect(struct console *c, size_t *n)
{
	struct farm		*farm = &c->server->farm;
	struct console_host_row	*rows, *r;
	struct host		*host;
	struct job		*job;
	size_t			 i, k, seen;

	*n = (size_t)console_clients_count(c);
	rows = xcalloc(*n + 1, sizeof *rows);
	i = 0;
	TAILQ_FOREACH(host, &farm->hosts, entry)
		rows[i++].host = host;
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		seen = 0;
		for (i = 0; i < job->nframes && seen < job->nout; i++) {
			if (job->frames[i].state != FRAME_OUT)
				continue;
			seen++;
			for (k = 0; k < *n; k++) {
				if (rows[k].host == job->frames[i].host)
					break;
			}
			if (k == *n)
				continue;
			r = &rows[k];
			r->frames = xreallocarray(r->frames, r->out + 1,
			    sizeof *r->frames);
			r->frames[r->out].job = job;
			r->frames[r->out++].index = i;
		}
	}
	return rows;
}

/*
 * How many renderers of a host are at work, with the frames it holds but
 * has not started in *waiting. A bdfarm client says when it starts a
 * frame and when it is whole; an old client renders the frames it holds
 * one at a time.
 */
size_t
console_clients_busy(const struct console_host_row *r, size_t *waiting)
{
	const struct frame	*f;
	size_t			 i, started = 0, busy = 0;

	if (r->host->ext_version == 0) {
		busy = r->out > 0 ? 1 : 0;
		*waiting = r->out - busy;
		return busy;
	}
	for (i = 0; i < r->out; i++) {
		f = &r->frames[i].job->frames[r->frames[i].index];
		if (!f->started)
			continue;
		started++;
		if (f->progress < 1000)
			busy++;
	}
	*waiting = r->out - started;
	return busy;
}

/*
 * A host's warm Blenders in at most width columns: "warm 37" for one that
 * has rendered 37 frames since it loaded its scene, "warm 37,-" with a
 * second still loading, "warm 250+2" when the others do not fit,
 * "loading" while all load, "cold" for none, "-" for a client that does
 * not say. A number is never cut.
 */
static void
console_clients_warm(const struct host *host, char *buf, size_t size,
    int width)
{
	char	 one[32], *text, *next;
	int	 i, loading = 0;

	if (!host->warm_said) {
		snprintf(buf, size, "-");
		return;
	}
	for (i = 0; i < host->nwarm; i++)
		loading += host->warm[i] < 0;
	if (host->nwarm == 0 || loading == host->nwarm) {
		snprintf(buf, size, "%s", host->nwarm == 0 ? _("cold") :
		    _("loading"));
		return;
	}
	text = xstrdup(_("warm"));
	for (i = 0; i < host->nwarm; i++) {
		if (host->warm[i] < 0)
			snprintf(one, sizeof one, "-");
		else
			snprintf(one, sizeof one, "%ld", host->warm[i]);
		xasprintf(&next, "%s%c%s", text, i == 0 ? ' ' : ',', one);
		free(text);
		text = next;
	}
	if ((int)strlen(text) > width) {
		/* The first that has rendered, and how many others. */
		for (i = 0; host->warm[i] < 0; i++)
			;
		free(text);
		if (host->nwarm > 1)
			snprintf(one, sizeof one, "%ld+%d", host->warm[i],
			    host->nwarm - 1);
		else
			snprintf(one, sizeof one, "%ld", host->warm[i]);
		xasprintf(&text, "%s %s", _("warm"), one);
		if ((int)strlen(text) > width) {
			free(text);
			text = xstrdup(one);
		}
	}
	snprintf(buf, size, "%s", text);
	free(text);
}

/* Free what console_clients_collect() returned. */
void
console_clients_release(struct console_host_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(rows[i].frames);
	free(rows);
}

/*
 * The frames out to a host as "shot.job:12 45% 1m05s, ...", with the
 * progress when the client reports it, stopping once the text is wider
 * than the room there is.
 */
static char *
console_clients_frames(const struct console_host_row *r, farm_time now,
    int room)
{
	const struct frame	*f;
	struct job		*job;
	char			*text = xstrdup(""), *next, age[32], pc[16];
	size_t			 i;

	for (i = 0; i < r->out && (int)strlen(text) <= room; i++) {
		job = r->frames[i].job;
		f = &job->frames[r->frames[i].index];
		eta_duration_text(now - f->since, age, sizeof age);
		if (f->progress > 0)
			snprintf(pc, sizeof pc, " %u%%", f->progress / 10U);
		else
			pc[0] = '\0';
		xasprintf(&next, "%s%s%s:%ld%s %s", text, i == 0 ? "" : ", ",
		    job->name, job->first + (long)r->frames[i].index, pc, age);
		free(text);
		text = next;
	}
	return text;
}

/*
 * What else is worth knowing of a host, in brackets: lost, the jobs it is
 * blocked on, and what it said of itself (Blender's version, cores).
 */
static char *
console_clients_notes(struct console *c, const struct host *host)
{
	struct job	*job;
	char		*text = xstrdup(""), *next;

	if (host->ext_version > 0 && !host_alive(host) &&
	    host->connections == 0) {
		xasprintf(&next, "%s[%s]", text, _("lost"));
		free(text);
		text = next;
	}
	TAILQ_FOREACH(job, &c->server->farm.jobs, entry) {
		if (!job_host_blocked(job, host))
			continue;
		xasprintf(&next, "%s%s[%s %s]", text, *text != '\0' ? " " : "",
		    _("blocked on"), job->name);
		free(text);
		text = next;
	}
	if (host->blender != NULL) {
		xasprintf(&next, "%s%s[Blender %s, %d %s]", text,
		    *text != '\0' ? " " : "", host->blender, host->cores,
		    _("cores"));
		free(text);
		text = next;
	}
	return text;
}

/* Draw the column titles on line y, with widths for each column. */
static void
console_clients_draw_titles(struct console *c, int y, int name)
{
	attr_t	 attr = c->attrs[CONSOLE_C_TITLE];
	char	*line;
	int	 warm = console_clients_warm_width();

	warm = warm > 0 ? warm - 1 : 0;
	if (c->focus == CONSOLE_FOCUS_CLIENTS)
		attr |= A_BOLD;
	xasprintf(&line, "%-*.*s %-6s %5s %4s %6s %7s %9s  %-*.*s%s%s", name,
	    name, _("CLIENT"), _("KIND"), _("BUSY"), _("WAIT"), _("DONE"),
	    _("AVG"), _("CONTACT"), warm, warm, _("BLENDER"),
	    warm > 0 ? " " : "", _("RENDERING"));
	console_draw_text(c, y, 0, COLS, attr, line);
	free(line);
}

/* Draw one host on line y. */
static void
console_clients_draw_row(struct console *c, int y,
    const struct console_host_row *r, int name, int selected, farm_time now)
{
	struct host	*host = r->host;
	attr_t		 row = c->attrs[CONSOLE_C_NORMAL], busy_attr;
	char		 buf[64], avg[32], contact[64], *frames, *notes, *line;
	const char	*kind;
	size_t		 busy, waiting;
	int		 x = 0, room, warm;

	if (selected)
		row |= c->focus == CONSOLE_FOCUS_CLIENTS ? A_REVERSE : A_BOLD;
	if (host->connections == 0 && r->out == 0)
		row |= c->attrs[CONSOLE_C_DIM];
	console_draw_text(c, y, x, name, row, host->name);
	x += name + 1;
	console_draw_text(c, y, x - 1, 1, row, "");
	/* Over TLS the client proved a key; otherwise it spoke plain text. */
	if (host->tls)
		kind = "TLS";
	else
		kind = host->ext_version > 0 ? "bdfarm" : _("old");
	console_draw_text(c, y, x, 7, row, kind);
	x += 7;
	busy = console_clients_busy(r, &waiting);
	if (host->renderers > 0)
		snprintf(buf, sizeof buf, "%zu/%d", busy, host->renderers);
	else if (r->out > 0)
		snprintf(buf, sizeof buf, "%zu", busy);
	else
		snprintf(buf, sizeof buf, "-");
	busy_attr = busy > 0 ? row | c->attrs[CONSOLE_C_ACTIVE] : row;
	console_draw_right(c, y, x, 5, busy_attr, buf);
	x += 5;
	snprintf(buf, sizeof buf, "%zu", waiting);
	console_draw_right(c, y, x, 5, row, buf);
	x += 5;
	snprintf(buf, sizeof buf, "%u", host->done);
	console_draw_right(c, y, x, 7, row, buf);
	x += 7;
	eta_duration_text(eta_host_frame_time(host), avg, sizeof avg);
	console_draw_right(c, y, x, 8, row, avg);
	x += 8;
	if (host->connections > 0)
		snprintf(contact, sizeof contact, "%s", _("now"));
	else if (host->last_contact == 0)
		snprintf(contact, sizeof contact, "-");
	else {
		eta_duration_text(now - host->last_contact, buf, sizeof buf);
		snprintf(contact, sizeof contact, _("%s ago"), buf);
	}
	console_draw_right(c, y, x, 10, row, contact);
	x += 10;
	console_draw_text(c, y, x, 2, row, "");
	x += 2;
	if ((warm = console_clients_warm_width()) > 0) {
		console_clients_warm(host, buf, sizeof buf, warm - 1);
		console_draw_text(c, y, x, warm - 1, host->nwarm > 0 ?
		    row | c->attrs[CONSOLE_C_ACTIVE] : row, buf);
		console_draw_text(c, y, x + warm - 1, 1, row, "");
		x += warm;
	}
	room = COLS - x;
	if (room <= 0)
		return;
	frames = console_clients_frames(r, now, room);
	notes = console_clients_notes(c, host);
	if (*notes != '\0') {
		xasprintf(&line, "%s%s%s", frames, *frames != '\0' ? "  " : "",
		    notes);
		free(frames);
		frames = line;
	}
	console_draw_text(c, y, x, room, row, frames);
	free(notes);
	free(frames);
}

/* The selected host's row, found by name; 0 if it is gone. */
static int
console_clients_selected(struct console *c, struct console_host_row *rows,
    size_t n)
{
	size_t	i;

	if (c->clients.selected == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].host->name, c->clients.selected) == 0)
			return (int)i;
	}
	return 0;
}

/* Draw the pane on lines y to y + height - 1: titles, then the hosts. */
void
console_clients_draw(struct console *c, int y, int height, farm_time now)
{
	struct console_host_row	*rows;
	size_t			 n, i;
	int			 name, sel, shown = height - 1;

	if (height <= 0)
		return;
	/* What the other columns take, and some room left for the frames. */
	name = COLS - (7 + 5 + 5 + 7 + 8 + 10 + 2) -
	    console_clients_warm_width() - 1 - 14;
	if (name > 30)
		name = 30;
	if (name < 6)
		name = 6;
	console_clients_draw_titles(c, y, name);
	rows = c->hosts;
	n = c->nhosts;
	sel = console_clients_selected(c, rows, n);
	console_list_place(&c->clients, sel, shown, (int)n);
	c->clients.y = y + 1;
	if (n == 0 && shown > 0)
		console_draw_text(c, y + 1, 1, COLS - 1,
		    c->attrs[CONSOLE_C_DIM], _("no client has asked for work "
		    "yet"));
	for (i = (size_t)c->clients.top; i < n &&
	    (int)i < c->clients.top + shown; i++)
		console_clients_draw_row(c, y + 1 + (int)i - c->clients.top,
		    &rows[i], name, (int)i == sel &&
		    c->focus == CONSOLE_FOCUS_CLIENTS, now);
}

/* Select the host on screen row y, if there is one; 1 if so. */
int
console_clients_click(struct console *c, int y)
{
	struct host	*host;
	int		 row = c->clients.top + y - c->clients.y;

	if (y < c->clients.y || y >= c->clients.y + c->clients.rows)
		return 0;
	TAILQ_FOREACH(host, &c->server->farm.hosts, entry) {
		if (row-- == 0) {
			free(c->clients.selected);
			c->clients.selected = xstrdup(host->name);
			return 1;
		}
	}
	return 0;
}

/*
 * Ask whether to revoke the key of a host, which must have proved one: a
 * TLS host goes by its key's name, then '#' and more.
 */
void
console_clients_ask_revoke(struct console *c, const struct host *host)
{
	if (!host->tls) {
		console_set_status(c, _("%s has no key to revoke"), host->name);
		return;
	}
	free(c->ask_key);
	c->ask_key = xstrndup(host->name, strcspn(host->name, "#"));
	c->ask = CONSOLE_ASK_REVOKE;
}

/* Revoke the key that was asked about, once confirmed. */
void
console_clients_revoke(struct console *c)
{
	char	*cause = NULL;

	if (c->ask_key == NULL)
		return;
	if (server_keys_revoke(c->server, c->ask_key, &cause) == 0)
		console_set_status(c, _("the key %s is revoked; its "
		    "connections are cut"), c->ask_key);
	else {
		console_set_status(c, "%s", cause);
		free(cause);
	}
}

/* A key for the clients pane: moving through the hosts, revoking a key. */
void
console_clients_key(struct console *c, int key)
{
	struct console_host_row	*rows;
	size_t			 n;
	int			 sel, to;

	rows = console_clients_collect(c, &n);
	if (n == 0) {
		console_clients_release(rows, n);
		return;
	}
	sel = console_clients_selected(c, rows, n);
	switch (key) {
	case KEY_UP:
	case 'k':
		to = sel - 1;
		break;
	case KEY_DOWN:
	case 'j':
		to = sel + 1;
		break;
	case KEY_HOME:
	case 'g':
		to = 0;
		break;
	case KEY_END:
	case 'G':
		to = (int)n - 1;
		break;
	case KEY_PPAGE:
		to = sel - (c->clients.rows > 1 ? c->clients.rows - 1 : 1);
		break;
	case KEY_NPAGE:
		to = sel + (c->clients.rows > 1 ? c->clients.rows - 1 : 1);
		break;
	case 'K':
		console_clients_ask_revoke(c, rows[sel].host);
		console_clients_release(rows, n);
		console_dirty(c);
		return;
	default:
		console_clients_release(rows, n);
		return;
	}
	if (to < 0)
		to = 0;
	if (to >= (int)n)
		to = (int)n - 1;
	free(c->clients.selected);
	c->clients.selected = xstrdup(rows[to].host->name);
	console_clients_release(rows, n);
	console_dirty(c);
}
