/*
 * console-jobs.c: the job queue pane, in hand-out order: each job's
 * priority, state, progress, frames in flight, average frame time and
 * ETA; its keys move the selection, suspend and resume, and change
 * priorities.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console-pane.h"
#include "jobdir.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

/* The range of priorities that a state file accepts. */
#define CONSOLE_PRIORITY_MAX	1000000

/* Column widths of one layout; 0 hides a column. */
struct console_jobs_layout {
	int	pri;
	int	name;
	int	state;
	int	bar;
	int	count;
	int	files;
	int	out;
	int	avg;
	int	eta;
};

/* How many jobs there are. */
int
console_jobs_count(struct console *c)
{
	struct job	*job;
	int		 n = 0;

	TAILQ_FOREACH(job, &c->server->farm.jobs, entry)
		n++;
	return n;
}

/* The selected job and its row, or NULL if there are no jobs. */
static struct job *
console_jobs_selected(struct console *c, int *row)
{
	struct job	*job, *first;
	int		 i = 0;

	first = TAILQ_FIRST(&c->server->farm.jobs);
	*row = 0;
	if (c->jobs.selected != NULL) {
		TAILQ_FOREACH(job, &c->server->farm.jobs, entry) {
			if (strcmp(job->name, c->jobs.selected) == 0) {
				*row = i;
				return job;
			}
			i++;
		}
	}
	return first;
}

/* Select the job at row (clamped), remembering it by name. */
static void
console_jobs_select_row(struct console *c, int row)
{
	struct job	*job, *last = NULL;
	int		 i = 0;

	TAILQ_FOREACH(job, &c->server->farm.jobs, entry) {
		last = job;
		if (i++ >= row)
			break;
	}
	free(c->jobs.selected);
	c->jobs.selected = last != NULL ? xstrdup(last->name) : NULL;
}

/*
 * What a job is doing, in a word or two written to buf, and the colour
 * to show it in.
 */
const char *
console_jobs_state(struct console *c, const struct job *job, attr_t *attr,
    char *buf, size_t len)
{
	if (job->unavailable != NULL) {
		*attr = c->attrs[CONSOLE_C_BAD];
		return _("unavailable");
	}
	if (job->files_pending && job->invalid == NULL) {
		*attr = c->attrs[CONSOLE_C_NORMAL];
		return _("reading files");
	}
	if (job->invalid != NULL) {
		*attr = c->attrs[CONSOLE_C_BAD];
		return _("invalid");
	}
	if (job_finished(job) && job->nfailed == 0) {
		*attr = c->attrs[CONSOLE_C_DIM];
		return _("done");
	}
	if (job->held) {
		*attr = c->attrs[CONSOLE_C_PAUSED];
		return _("suspended");
	}
	if (job->nout > 0) {
		*attr = c->attrs[CONSOLE_C_ACTIVE];
		return _("rendering");
	}
	if (job->nfailed > 0) {
		*attr = c->attrs[CONSOLE_C_BAD];
		snprintf(buf, len, job_finished(job) ? _("done, %zu failed") :
		    _("%zu failed"), job->nfailed);
		return buf;
	}
	*attr = c->attrs[CONSOLE_C_NORMAL];
	if (!job_ready(job))
		return _("checking");
	return _("queued");
}

/* The widest "done/total" of all jobs. */
static int
console_jobs_count_width(struct console *c)
{
	struct job	*job;
	char		 buf[64];
	int		 w = 10, n;

	TAILQ_FOREACH(job, &c->server->farm.jobs, entry) {
		n = snprintf(buf, sizeof buf, "%zu/%zu", job->ndone,
		    job->nframes);
		if (n > w)
			w = n;
	}
	return w;
}

/*
 * Share width columns among the columns: the fixed ones first, then the
 * name and the bar; at narrow widths the bar, then the times, then the
 * frames out are left out.
 */
static void
console_jobs_layout(struct console *c, int width,
    struct console_jobs_layout *l)
{
	int	rest;

	l->pri = 4;
	l->state = 14;
	l->count = console_jobs_count_width(c);
	l->files = 11;
	l->out = 4;
	l->avg = 7;
	l->eta = 7;
	rest = width - (l->pri + l->state + l->count + l->files + l->out +
	    l->avg + l->eta + 7);
	if (rest < 10 + 1 + 8) {
		l->files = 0;
		rest += 11 + 1;
	}
	if (rest < 10 + 1 + 8) {
		l->avg = l->eta = 0;
		rest += 7 + 7 + 2;
	}
	if (rest < 8 + 1 + 6) {
		l->out = 0;
		rest += 4 + 1;
	}
	if (rest < 8 + 1 + 6) {
		l->bar = 0;
		l->name = rest > 1 ? rest - 1 : 1;
		return;
	}
	l->name = rest * 2 / 5;
	if (l->name < 8)
		l->name = 8;
	if (l->name > 40)
		l->name = 40;
	l->bar = rest - l->name - 1;
}

/* Draw one column and move x past it and its gap. */
static void
console_jobs_cell(struct console *c, int y, int *x, int width, attr_t attr,
    const char *text, int right)
{
	if (width <= 0)
		return;
	if (right)
		console_draw_right(c, y, *x, width, attr, text);
	else
		console_draw_text(c, y, *x, width, attr, text);
	*x += width;
	if (*x < COLS)
		console_draw_text(c, y, (*x)++, 1, attr, "");
}

/* Draw the column titles on line y. */
static void
console_jobs_draw_titles(struct console *c, int y,
    const struct console_jobs_layout *l)
{
	attr_t	attr = c->attrs[CONSOLE_C_TITLE];
	int	x = 0;

	if (c->focus == CONSOLE_FOCUS_JOBS)
		attr |= A_BOLD;
	console_jobs_cell(c, y, &x, l->pri, attr, _("PRI"), 1);
	console_jobs_cell(c, y, &x, l->name, attr, _("JOB"), 0);
	console_jobs_cell(c, y, &x, l->state, attr, _("STATE"), 0);
	console_jobs_cell(c, y, &x, l->bar, attr, _("PROGRESS"), 0);
	console_jobs_cell(c, y, &x, l->count, attr, _("DONE/ALL"), 1);
	console_jobs_cell(c, y, &x, l->files, attr, _("FILES"), 1);
	console_jobs_cell(c, y, &x, l->out, attr, _("OUT"), 1);
	console_jobs_cell(c, y, &x, l->avg, attr, _("AVG"), 1);
	console_jobs_cell(c, y, &x, l->eta, attr, _("ETA"), 1);
	console_draw_fill(c, y, x, COLS - x, attr);
}

/* A size in bytes in a few characters: 999B, 12K, 3.4M, 56G. */
void
console_jobs_size(uint64_t bytes, char *buf, size_t len)
{
	const char	*units = "BKMGTP";
	double		 v = (double)bytes;

	while (v >= 999.5 && units[1] != '\0') {
		v /= 1024;
		units++;
	}
	if (*units != 'B' && v < 9.95)
		snprintf(buf, len, "%.1f%c", v, *units);
	else
		snprintf(buf, len, "%.0f%c", v, *units);
}

/*
 * The job's files in a few words, to buf: how many and their size, or
 * how many are missing on the server, or were missed on clients.
 */
static const char *
console_jobs_files(struct console *c, const struct job *job, attr_t *attr,
    char *buf, size_t len)
{
	char	size[16];

	if (job->files == 0)
		return "-";
	if (job->files_missing > 0) {
		*attr |= c->attrs[CONSOLE_C_BAD];
		snprintf(buf, len, _("%zu missing"), job->files_missing);
	} else if (job->client_missing > 0) {
		*attr |= c->attrs[CONSOLE_C_BAD];
		snprintf(buf, len, _("%zu missed"), job->client_missing);
	} else {
		console_jobs_size(job->files_bytes, size, sizeof size);
		snprintf(buf, len, "%zu %s", job->files, size);
	}
	return buf;
}

/* Draw one job on line y. */
static void
console_jobs_draw_row(struct console *c, int y, struct job *job,
    const struct console_jobs_layout *l, int selected, farm_time now)
{
	attr_t		 row = c->attrs[CONSOLE_C_NORMAL], state_attr, files_attr;
	const char	*state, *files;
	char		 buf[64], word[64];
	int		 x = 0, rest;

	if (selected)
		row |= c->focus == CONSOLE_FOCUS_JOBS ? A_REVERSE : A_BOLD;
	state = console_jobs_state(c, job, &state_attr, word, sizeof word);
	if (selected)
		state_attr |= c->focus == CONSOLE_FOCUS_JOBS ? A_REVERSE :
		    A_BOLD;

	snprintf(buf, sizeof buf, "%d", job->priority);
	console_jobs_cell(c, y, &x, l->pri, row, buf, 1);
	console_jobs_cell(c, y, &x, l->name, row, job->name, 0);
	console_jobs_cell(c, y, &x, l->state, state_attr, state, 0);
	if (job->invalid != NULL && job->unavailable == NULL) {
		console_draw_text(c, y, x, COLS - x, state_attr, job->invalid);
		return;
	}
	if (l->bar > 0 && job->unavailable != NULL) {
		/* Its progress stands still: say why instead. */
		console_draw_text(c, y, x, l->bar, state_attr,
		    job->unavailable);
		x += l->bar;
		console_draw_text(c, y, x++, 1, row, "");
	} else if (l->bar > 0 && selected && (job->files_note != NULL ||
	    job->client_missing_note != NULL)) {
		/* The selected job names the files that are missing. */
		char	*text;

		if (job->files_note != NULL)
			xasprintf(&text, _("missing: %s"), job->files_note);
		else
			xasprintf(&text, _("missed on a client: %s"),
			    job->client_missing_note);
		console_draw_text(c, y, x, l->bar, row |
		    c->attrs[CONSOLE_C_BAD], text);
		free(text);
		x += l->bar;
		console_draw_text(c, y, x++, 1, row, "");
	} else if (l->bar > 0 && job_finished(job) && job->nfailed > 0) {
		/* Nothing left to watch: say which frames failed instead. */
		char	frames[256], *text;

		job_failed_text(job, frames, sizeof frames);
		xasprintf(&text, _("failed: %s (r retries)"), frames);
		console_draw_text(c, y, x, l->bar, state_attr, text);
		free(text);
		x += l->bar;
		console_draw_text(c, y, x++, 1, row, "");
	} else if (l->bar > 0) {
		console_draw_bar(c, y, x, l->bar, job->nframes, job->ndone,
		    job->nout);
		x += l->bar;
		console_draw_text(c, y, x++, 1, row, "");
	}
	snprintf(buf, sizeof buf, "%zu/%zu", job->ndone, job->nframes);
	console_jobs_cell(c, y, &x, l->count, row, buf, 1);
	files_attr = row;
	files = console_jobs_files(c, job, &files_attr, buf, sizeof buf);
	console_jobs_cell(c, y, &x, l->files, files_attr, files, 1);
	snprintf(buf, sizeof buf, "%zu", job->nout);
	console_jobs_cell(c, y, &x, l->out, job->nout > 0 ?
	    row | c->attrs[CONSOLE_C_OUT] : row, job->nout > 0 ? buf : "-", 1);
	eta_duration_text(eta_job_frame_time(job), buf, sizeof buf);
	console_jobs_cell(c, y, &x, l->avg, row, buf, 1);
	eta_duration_text(eta_job_remaining(job, now), buf, sizeof buf);
	console_jobs_cell(c, y, &x, l->eta, row, buf, 1);
	rest = COLS - x;
	console_draw_fill(c, y, x, rest, row);
}

/* Draw the pane on lines y to y + height - 1: titles, then the jobs. */
void
console_jobs_draw(struct console *c, int y, int height, farm_time now)
{
	struct console_jobs_layout	 l;
	struct job			*job, *sel;
	int				 i = 0, row, shown = height - 1;

	if (height <= 0)
		return;
	memset(&l, 0, sizeof l);
	console_jobs_layout(c, COLS, &l);
	console_jobs_draw_titles(c, y, &l);
	sel = console_jobs_selected(c, &row);
	console_list_place(&c->jobs, row, shown, console_jobs_count(c));
	c->jobs.y = y + 1;
	if (TAILQ_EMPTY(&c->server->farm.jobs) && shown > 0) {
		console_draw_text(c, y + 1, 1, COLS - 1,
		    c->attrs[CONSOLE_C_DIM], _("no jobs: put NAME.job files in "
		    "the job folder"));
		return;
	}
	TAILQ_FOREACH(job, &c->server->farm.jobs, entry) {
		if (i >= c->jobs.top && i < c->jobs.top + shown)
			console_jobs_draw_row(c, y + 1 + i - c->jobs.top, job,
			    &l, job == sel, now);
		i++;
	}
}

/* Select the job on screen row y, if there is one; 1 if so. */
int
console_jobs_click(struct console *c, int y)
{
	int	row = c->jobs.top + y - c->jobs.y;

	if (y < c->jobs.y || y >= c->jobs.y + c->jobs.rows ||
	    row >= console_jobs_count(c))
		return 0;
	console_jobs_select_row(c, row);
	return 1;
}

/* Suspend or resume the selected job through its .suspend file. */
static void
console_jobs_toggle(struct console *c, struct job *job)
{
	struct server	*s = c->server;
	char		*cause = NULL;
	int		 on = !job->held;

	if (s->jobdir == NULL)
		return;
	if (jobdir_set_suspended(s->jobdir, job, on, &cause) != 0) {
		log_warnx("%s", cause);
		console_set_status(c, "%s", cause);
		free(cause);
		return;
	}
	console_set_status(c, on ? _("%s suspended") : _("%s resumed"),
	    job->name);
}

/* Change the selected job's priority by step; the queue re-orders. */
static void
console_jobs_priority(struct console *c, struct job *job, int step)
{
	if ((step > 0 && job->priority == CONSOLE_PRIORITY_MAX) ||
	    (step < 0 && job->priority == -CONSOLE_PRIORITY_MAX))
		return;
	farm_set_priority(&c->server->farm, job, job->priority + step);
	console_set_status(c, _("%s: priority %d"), job->name, job->priority);
}

/* Hand the selected job's failed frames out again. */
static void
console_jobs_retry(struct console *c, struct job *job)
{
	size_t	n = sched_retry_failed(&c->server->farm, job);

	if (n == 0)
		console_set_status(c, _("%s has no failed frames"), job->name);
	else
		console_set_status(c, _("%s: %zu failed frames queued again"),
		    job->name, n);
}

/* Let the hosts blocked on the selected job render it again. */
static void
console_jobs_unblock(struct console *c, struct job *job)
{
	size_t	n = job_blocked_hosts(job);

	if (n == 0) {
		console_set_status(c, _("no client is blocked on %s"),
		    job->name);
		return;
	}
	sched_unblock(&c->server->farm, job);
	console_set_status(c, _("%s: %zu blocked clients may render it "
	    "again"), job->name, n);
}

/*
 * A key that acts on a job (suspend, priority, retry, unblock): the
 * selected one on the main page, the page's own on a job's page; 1 if it
 * was one.
 */
int
console_jobs_act(struct console *c, struct job *job, int key)
{
	if (job == NULL)
		return 0;
	switch (key) {
	case 's':
	case ' ':
		console_jobs_toggle(c, job);
		break;
	case '+':
	case '=':
		console_jobs_priority(c, job, 1);
		break;
	case '-':
	case '_':
		console_jobs_priority(c, job, -1);
		break;
	case 'r':
		console_jobs_retry(c, job);
		break;
	case 'u':
		console_jobs_unblock(c, job);
		break;
	default:
		return 0;
	}
	console_dirty(c);
	return 1;
}

/* The selected job, or NULL if there are none. */
struct job *
console_jobs_current(struct console *c)
{
	int	row;

	return console_jobs_selected(c, &row);
}

/* A key that moves the selection in the jobs pane. */
void
console_jobs_key(struct console *c, int key)
{
	int	row, n = console_jobs_count(c);
	int	page = c->jobs.rows > 1 ? c->jobs.rows - 1 : 1;

	if (console_jobs_selected(c, &row) == NULL)
		return;
	switch (key) {
	case KEY_UP:
	case 'k':
		console_jobs_select_row(c, row > 0 ? row - 1 : 0);
		break;
	case KEY_DOWN:
	case 'j':
		console_jobs_select_row(c, row + 1 < n ? row + 1 : row);
		break;
	case KEY_PPAGE:
		console_jobs_select_row(c, row > page ? row - page : 0);
		break;
	case KEY_NPAGE:
		console_jobs_select_row(c, row + page);
		break;
	case KEY_HOME:
	case 'g':
		console_jobs_select_row(c, 0);
		break;
	case KEY_END:
	case 'G':
		console_jobs_select_row(c, n - 1);
		break;
	default:
		return;
	}
	console_dirty(c);
}
