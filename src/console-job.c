/*
 * console-job.c: a job's page: a map of its frames, one cell each, by
 * state; the selected frame's story (who rendered it, when, how long, its
 * file, and each failure with Blender's last lines); the job's clients,
 * files and log; and a picture of a finished frame. Its keys move across
 * frames, mark a range and render frames again.
 */
#include "bdfarm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "console-pane.h"
#include "framefile.h"
#include "joblog.h"
#include "preview.h"
#include "server.h"
#include "xmalloc.h"

/* Bytes read from the end of the job log for its tail. */
#define CONSOLE_JOB_LOG_TAIL	8192

/* Entries of the render folder read at most, to find older frames' files. */
#define CONSOLE_JOB_LIST_MAX	200000

/* How often the render folder may be listed again, in milliseconds. */
#define CONSOLE_JOB_LIST_MS	5000

/* The narrowest screen that shows the picture beside the map. */
#define CONSOLE_JOB_SIDE_COLS	100

/* A stored frame found in the render folder. */
struct console_job_file {
	long		 frame;
	uint64_t	 size;
	char		*name;
};

/* The job shown, or NULL if it is gone. */
struct job *
console_job_current(struct console *c)
{
	if (c->page_name == NULL)
		return NULL;
	return farm_find_job(&c->server->farm, c->page_name);
}

/* Forget the listing of the render folder. */
static void
console_job_forget_files(struct console_job_page *p)
{
	size_t	i;

	for (i = 0; i < p->nfiles; i++)
		free(p->files[i].name);
	free(p->files);
	p->files = NULL;
	p->nfiles = 0;
	p->listed = 0;
}

/* Open the page on job, selecting its first frame not done. */
void
console_job_open(struct console *c, struct job *job)
{
	struct console_job_page	*p = &c->job;
	size_t			 i;

	console_job_forget_files(p);
	p->frame = job->first;
	for (i = 0; i < job->nframes; i++) {
		if (job->frames[i].state != FRAME_DONE) {
			p->frame = job->first + (long)i;
			break;
		}
	}
	p->mark = LONG_MIN;
	p->map.top = 0;
	p->cols = 0;
}

/* Release what the page keeps. */
void
console_job_close(struct console *c)
{
	console_job_forget_files(&c->job);
}

/* Order listed files by frame number. */
static int
console_job_file_cmp(const void *a, const void *b)
{
	const struct console_job_file	*fa = a, *fb = b;

	return (fa->frame > fb->frame) - (fa->frame < fb->frame);
}

/*
 * List the job's render folder, to know the files of frames done before
 * the server started; not more often than every CONSOLE_JOB_LIST_MS.
 */
static void
console_job_list(struct console *c, struct job *job)
{
	struct console_job_page	*p = &c->job;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d;
	char			*dir;
	long			 frame;
	size_t			 seen = 0;

	/* Listed already, and no frame has arrived since: no news there. */
	if (p->listed != 0 && (p->listed_done == job->ndone ||
	    clock_mono_ms() - p->listed < CONSOLE_JOB_LIST_MS))
		return;
	console_job_forget_files(p);
	p->listed = clock_mono_ms();
	p->listed_done = job->ndone;
	xasprintf(&dir, "%s/%s", c->server->options->renderdir, job->name);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL && seen++ < CONSOLE_JOB_LIST_MAX) {
		if (framefile_frame(de->d_name, &frame) != 0 ||
		    fstatat(dirfd(d), de->d_name, &sb, 0) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		p->files = xreallocarray(p->files, p->nfiles + 1,
		    sizeof *p->files);
		p->files[p->nfiles].frame = frame;
		p->files[p->nfiles].size = (uint64_t)sb.st_size;
		p->files[p->nfiles].name = xstrdup(de->d_name);
		p->nfiles++;
	}
	closedir(d);
	free(dir);
	if (p->nfiles > 0)
		qsort(p->files, p->nfiles, sizeof *p->files,
		    console_job_file_cmp);
}

/* Frame n's file in the last listing of the render folder, or NULL. */
static const struct console_job_file *
console_job_listed(const struct console_job_page *p, long n)
{
	struct console_job_file	key;

	if (p->nfiles == 0)
		return NULL;
	key.frame = n;
	return bsearch(&key, p->files, p->nfiles, sizeof *p->files,
	    console_job_file_cmp);
}

/*
 * The stored file of done frame n, and its size: as recorded when it
 * arrived, else as found in the render folder. NULL if not known.
 */
static const char *
console_job_file(struct console *c, struct job *job, long n, uint64_t *size)
{
	const struct job_render		*r = job_render_of(job, n);
	const struct console_job_file	*found;

	if (r != NULL && r->file != NULL) {
		*size = r->size;
		return r->file;
	}
	if ((found = console_job_listed(&c->job, n)) == NULL) {
		console_job_list(c, job);
		found = console_job_listed(&c->job, n);
	}
	if (found == NULL)
		return NULL;
	*size = found->size;
	return found->name;
}

/* The frame whose picture is shown: the selected one if it is done, else
 * the one that arrived last (or the highest done), or LONG_MIN. */
static long
console_job_picture_frame(struct job *job, long selected)
{
	const struct job_render	*r;
	const struct frame	*f = job_frame(job, selected);
	farm_time		 latest = 0;
	long			 best = LONG_MIN, n;
	size_t			 i;

	if (f != NULL && f->state == FRAME_DONE)
		return selected;
	if (job->latest > 0 &&
	    job->frames[job->latest - 1].state == FRAME_DONE)
		return job->first + (long)(job->latest - 1);
	for (i = 0; i < job->nframes; i++) {
		if (job->frames[i].state != FRAME_DONE)
			continue;
		n = job->first + (long)i;
		r = job_render_of(job, n);
		if (r != NULL && r->rendered && r->finished >= latest) {
			latest = r->finished;
			best = n;
		} else if (latest == 0)
			best = n;
	}
	return best;
}

/* A frame's cell: its letter and colour. */
static const char *
console_job_cell(struct console *c, const struct frame *f, attr_t *attr)
{
	switch (f->state) {
	case FRAME_DONE:
		*attr = c->attrs[CONSOLE_C_BAR];
		return "D";
	case FRAME_OUT:
		*attr = c->attrs[CONSOLE_C_OUT];
		return f->started ? "R" : "O";
	case FRAME_FAILED:
		*attr = c->attrs[CONSOLE_C_BAD];
		return "F";
	default:
		*attr = c->attrs[CONSOLE_C_DIM];
		return ".";
	}
}


/* The width of the widest frame number of job. */
static int
console_job_label_width(const struct job *job)
{
	char	buf[32];
	int	a, b;

	a = snprintf(buf, sizeof buf, "%ld", job->first);
	b = snprintf(buf, sizeof buf, "%ld", job->last);
	return a > b ? a : b;
}

/* Draw the frame map in rows y to y + height - 1, width columns wide. */
static void
console_job_draw_map(struct console *c, struct job *job, int y, int width,
    int height)
{
	struct console_job_page	*p = &c->job;
	const char		*cell;
	char			 label[32];
	attr_t			 attr;
	long			 n, lo, hi;
	int			 label_w = console_job_label_width(job) + 1;
	int			 row, col, rows, sel_row;

	p->cols = width - label_w;
	if (p->cols < 1)
		p->cols = 1;
	p->map_x = label_w;
	p->map.y = y;
	rows = (int)((job->nframes + (size_t)p->cols - 1) / (size_t)p->cols);
	sel_row = (int)((p->frame - job->first) / p->cols);
	console_list_place(&p->map, sel_row, height, rows);
	console_job_range(c, &lo, &hi);
	for (row = 0; row < height; row++) {
		n = job->first + (long)(p->map.top + row) * p->cols;
		if (p->map.top + row >= rows) {
			console_draw_fill(c, y + row, 0, width,
			    c->attrs[CONSOLE_C_NORMAL]);
			continue;
		}
		snprintf(label, sizeof label, "%*ld ", label_w - 1, n);
		console_draw_text(c, y + row, 0, label_w,
		    c->attrs[CONSOLE_C_DIM], label);
		for (col = 0; col < p->cols; col++, n++) {
			if (n > job->last) {
				console_draw_fill(c, y + row, label_w + col,
				    p->cols - col, c->attrs[CONSOLE_C_NORMAL]);
				break;
			}
			cell = console_job_cell(c, job_frame(job, n), &attr);
			if (n >= lo && n <= hi)
				attr |= A_REVERSE;
			console_draw_text(c, y + row, label_w + col, 1, attr,
			    cell);
		}
	}
}

/* Draw one line of the details, if it is still inside the area. */
static void
console_job_line(struct console *c, int *y, int end, int width, attr_t attr,
    const char *text)
{
	if (*y >= end)
		return;
	console_draw_text(c, *y, 0, 1, attr, "");
	console_draw_text(c, *y, 1, width - 1, attr, text);
	(*y)++;
}

/* Draw each failure of frame n: who, when, why, then Blender's lines. */
static void
console_job_failures(struct console *c, struct job *job, long n, int *y,
    int end, int width)
{
	const struct job_failure	*jf;
	const char			*text, *nl;
	char				 when[16], *line;
	size_t				 i;

	for (i = 0; i < job->nfailures; i++) {
		jf = &job->failures[i];
		if (jf->frame != n)
			continue;
		if (jf->when != 0)
			console_draw_clock(jf->when, when, sizeof when);
		else
			snprintf(when, sizeof when, "%s", _("earlier"));
		text = jf->reason != NULL ? jf->reason :
		    _("(the reason was reported before the server started)");
		nl = strchr(text, '\n');
		xasprintf(&line, _("failed on %s at %s: %.*s"), jf->host->name,
		    when, nl != NULL ? (int)(nl - text) : (int)strlen(text),
		    text);
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_BAD],
		    line);
		free(line);
		while (nl != NULL) {
			text = nl + 1;
			nl = strchr(text, '\n');
			xasprintf(&line, "  %.*s", nl != NULL ?
			    (int)(nl - text) : (int)strlen(text), text);
			console_job_line(c, y, end, width,
			    c->attrs[CONSOLE_C_DIM], line);
			free(line);
		}
	}
}

/* Draw the selected frame's story from row *y to before end. */
static void
console_job_draw_frame(struct console *c, struct job *job, int *y, int end,
    int width, farm_time now)
{
	struct console_job_page		*p = &c->job;
	const struct frame		*f = job_frame(job, p->frame);
	const struct job_render		*r;
	const char			*file, *host;
	char				*line, when[16], took[32], size[16];
	uint64_t			 bytes = 0;

	if (f == NULL)
		return;
	if (p->mark != LONG_MIN && p->mark != p->frame)
		xasprintf(&line, _(" FRAMES %ld-%ld marked (R renders them "
		    "again)"), p->mark < p->frame ? p->mark : p->frame,
		    p->mark < p->frame ? p->frame : p->mark);
	else
		xasprintf(&line, _(" FRAME %ld"), p->frame);
	console_draw_title(c, (*y)++, width, line, 0);
	free(line);
	switch (f->state) {
	case FRAME_DONE:
		r = job_render_of(job, p->frame);
		host = r != NULL ? job_render_host(job, r) : NULL;
		if (r != NULL && r->rendered) {
			console_draw_clock(r->finished, when, sizeof when);
			eta_duration_text(r->took, took, sizeof took);
			xasprintf(&line, _("done by %s at %s in %s"),
			    host != NULL ? host : "?", when, took);
		} else
			line = xstrdup(_("done before the server started"));
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_BAR],
		    line);
		free(line);
		file = console_job_file(c, job, p->frame, &bytes);
		if (file != NULL) {
			console_jobs_size(bytes, size, sizeof size);
			xasprintf(&line, _("file %s/%s/%s, %s"),
			    c->server->options->renderdir, job->name, file,
			    size);
		} else
			line = xstrdup(_("its file is not in the render "
			    "folder"));
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_NORMAL],
		    line);
		free(line);
		break;
	case FRAME_OUT:
		eta_duration_text(now - f->since, took, sizeof took);
		if (f->started)
			xasprintf(&line, _("rendering on %s for %s, %u%%"),
			    f->host->name, took, f->progress / 10U);
		else
			xasprintf(&line, _("out to %s for %s"), f->host->name,
			    took);
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_OUT],
		    line);
		free(line);
		if (f->backup != NULL) {
			xasprintf(&line, _("a backup copy renders on %s"),
			    f->backup->name);
			console_job_line(c, y, end, width,
			    c->attrs[CONSOLE_C_OUT], line);
			free(line);
		}
		break;
	case FRAME_FAILED:
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_BAD],
		    _("set aside: it failed on too many clients (r hands it "
		    "out again)"));
		break;
	default:
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_DIM],
		    f->sends > 0 ? _("waiting to be handed out again") :
		    _("waiting to be handed out"));
		break;
	}
	console_job_failures(c, job, p->frame, y, end, width);
}

/* Draw the job's clients, how many frames each rendered, blocked or not. */
static void
console_job_draw_clients(struct console *c, struct job *job, int *y,
    int end, int width)
{
	struct host	*host;
	char		*text = xstrdup(""), *next;
	size_t		 i;

	for (i = 0; i < job->nhosts; i++) {
		host = host_find(&c->server->farm, job->hosts[i].name);
		xasprintf(&next, "%s%s%s %u%s", text, i == 0 ? "" : ", ",
		    job->hosts[i].name, job->hosts[i].count,
		    host != NULL && job_host_blocked(job, host) ?
		    _(" (blocked)") : "");
		free(text);
		text = next;
	}
	console_job_line(c, y, end, width, c->attrs[CONSOLE_C_NORMAL],
	    *text != '\0' ? text : _("no client has rendered a frame yet"));
	free(text);
}

/* Draw what the job's .blend needs, and what is missing. */
static void
console_job_draw_files(struct console *c, struct job *job, int *y, int end,
    int width)
{
	char	*line, size[16];

	if (job->files_pending)
		line = xstrdup(_("reading the files its .blend needs"));
	else if (job->files == 0)
		line = xstrdup(_("the .blend alone travels"));
	else {
		console_jobs_size(job->files_bytes, size, sizeof size);
		xasprintf(&line, _("%zu files travel with it (the .blend "
		    "included), %s"), job->files, size);
	}
	console_job_line(c, y, end, width, c->attrs[CONSOLE_C_NORMAL], line);
	free(line);
	if (job->files_note != NULL) {
		xasprintf(&line, _("missing on the server: %s"),
		    job->files_note);
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_BAD],
		    line);
		free(line);
	}
	if (job->client_missing_note != NULL) {
		xasprintf(&line, _("missed on a client: %s"),
		    job->client_missing_note);
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_BAD],
		    line);
		free(line);
	}
}

/* Draw the last lines of the job's log that fit from *y to end. */
static void
console_job_draw_log(struct console *c, struct job *job, int *y, int end,
    int width)
{
	char		*path, *buf, *lines[64], *nl, *start;
	struct stat	 sb;
	ssize_t		 n;
	off_t		 from;
	int		 fd, count = 0, i, room = end - *y;

	if (room <= 0)
		return;
	path = joblog_path(c->server->options->jobdir, job->name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	free(path);
	if (fd == -1 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd != -1)
			close(fd);
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_DIM],
		    _("no log yet"));
		return;
	}
	buf = xmalloc(CONSOLE_JOB_LOG_TAIL + 1);
	from = sb.st_size > CONSOLE_JOB_LOG_TAIL ?
	    sb.st_size - CONSOLE_JOB_LOG_TAIL : 0;
	n = pread(fd, buf, CONSOLE_JOB_LOG_TAIL, from);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* A partial first line is left out. */
	start = from > 0 && (nl = strchr(buf, '\n')) != NULL ? nl + 1 : buf;
	while (*start != '\0') {
		nl = strchr(start, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (count == (int)nitems(lines))
			memmove(lines, lines + 1, sizeof lines - sizeof *lines);
		lines[count < (int)nitems(lines) ? count++ : count - 1] = start;
		if (nl == NULL)
			break;
		start = nl + 1;
	}
	for (i = count > room ? count - room : 0; i < count; i++)
		console_job_line(c, y, end, width, c->attrs[CONSOLE_C_NORMAL],
		    lines[i]);
	free(buf);
}

/* Draw the summary lines: the job's .blend, state and counts. */
static void
console_job_draw_summary(struct console *c, struct job *job, farm_time now)
{
	char		*line, word[64], avg[32], eta[32];
	const char	*state;
	attr_t		 attr;
	size_t		 waiting;

	xasprintf(&line, " %s  %s", job->name, job->blend_path != NULL ?
	    job->blend_path : "");
	console_draw_title(c, 0, COLS, line, 1);
	free(line);
	state = console_jobs_state(c, job, &attr, word, sizeof word);
	waiting = job->nframes - job->ndone - job->nout - job->nfailed;
	eta_duration_text(eta_job_frame_time(job), avg, sizeof avg);
	eta_duration_text(eta_job_remaining(job, now), eta, sizeof eta);
	console_draw_text(c, 1, 0, 1, attr, "");
	console_draw_text(c, 1, 1, (int)strlen(state) + 2, attr, state);
	xasprintf(&line, _("priority %d, frames %ld-%ld: %zu done, %zu out, "
	    "%zu failed, %zu waiting; %s a frame, ETA %s"), job->priority,
	    job->first, job->last, job->ndone, job->nout, job->nfailed,
	    waiting, avg, eta);
	console_draw_text(c, 1, (int)strlen(state) + 3, COLS, c->attrs[
	    CONSOLE_C_NORMAL], line);
	free(line);
}

/* Draw the picture of a finished frame in the box, with its title. */
static void
console_job_draw_picture(struct console *c, struct job *job, int y, int x,
    int width, int height)
{
	char		*title, *path;
	const char	*file = NULL;
	uint64_t	 bytes = 0;
	long		 n = console_job_picture_frame(job, c->job.frame);

	if (n != LONG_MIN)
		file = console_job_file(c, job, n, &bytes);
	if (file == NULL)
		xasprintf(&title, _(" PICTURE: no frame is done yet"));
	else
		xasprintf(&title, _(" PICTURE: frame %ld, %s"), n, file);
	console_draw_text(c, y, x, width, c->attrs[CONSOLE_C_TITLE], title);
	free(title);
	if (file == NULL) {
		console_picture_draw(c, y + 1, x, width, height - 1, NULL);
		return;
	}
	xasprintf(&path, "%s/%s/%s", c->server->options->renderdir, job->name,
	    file);
	preview_request(c->preview, path, width, height - 1);
	free(path);
	console_picture_draw(c, y + 1, x, width, height - 1,
	    preview_get(c->preview));
}

/* Draw the map's title with each state's cell in its own colour. */
static void
console_job_draw_legend(struct console *c, int y, int width)
{
	static const struct {
		uint8_t		 state;
		uint8_t		 started;
		const char	*word;
	} legend[] = {
		{ FRAME_DONE, 0, N_("done") },
		{ FRAME_OUT, 1, N_("rendering") },
		{ FRAME_OUT, 0, N_("out") },
		{ FRAME_FAILED, 0, N_("failed") },
		{ FRAME_TODO, 0, N_("waiting") },
	};
	struct frame	 f;
	const char	*cell;
	attr_t		 attr;
	size_t		 i;
	int		 x;

	console_draw_title(c, y, width, _(" FRAMES "), 0);
	x = 8;
	for (i = 0; i < nitems(legend) && x < width; i++) {
		memset(&f, 0, sizeof f);
		f.state = legend[i].state;
		f.started = legend[i].started;
		cell = console_job_cell(c, &f, &attr);
		console_draw_text(c, y, x + 1, 1, attr | A_REVERSE, cell);
		console_draw_text(c, y, x + 2, width - x - 2,
		    c->attrs[CONSOLE_C_TITLE], "");
		console_draw_text(c, y, x + 3, width - x - 3,
		    c->attrs[CONSOLE_C_TITLE], _(legend[i].word));
		x += 4 + (int)strlen(_(legend[i].word));
	}
}

/* Draw the page over the whole screen. */
void
console_job_draw(struct console *c, farm_time now)
{
	struct job	*job = console_job_current(c);
	int		 y, end, left, map, rows, side;

	if (job == NULL || job->nframes == 0) {
		console_draw_title(c, 0, COLS, job != NULL ? job->name :
		    c->page_name, 1);
		for (y = 1; y < LINES - 1; y++)
			console_draw_fill(c, y, 0, COLS,
			    c->attrs[CONSOLE_C_NORMAL]);
		console_draw_text(c, 2, 1, COLS - 1, c->attrs[CONSOLE_C_BAD],
		    job == NULL ? _("this job is gone (Esc goes back)") :
		    job->invalid != NULL ? job->invalid :
		    _("this job has no frames"));
		return;
	}
	if (c->job.frame < job->first || c->job.frame > job->last)
		c->job.frame = job->first;
	if (c->job.mark < job->first || c->job.mark > job->last)
		c->job.mark = LONG_MIN;
	console_job_draw_summary(c, job, now);
	end = LINES - 1;
	side = COLS >= CONSOLE_JOB_SIDE_COLS ? COLS * 2 / 5 : 0;
	left = COLS - side;
	console_job_draw_legend(c, 2, left);
	y = 3;
	rows = (int)((job->nframes + (size_t)(left - 1) - 1) /
	    (size_t)(left - console_job_label_width(job) - 1 > 0 ?
	    left - console_job_label_width(job) - 1 : 1));
	map = (end - y) / 3;
	if (map < 2)
		map = 2;
	if (map > rows + 1)
		map = rows + 1;
	console_job_draw_map(c, job, y, left, map);
	y += map;
	if (side > 0)
		console_job_draw_picture(c, job, 2, left, side, end - 2);
	console_job_draw_frame(c, job, &y, end - 4, left, now);
	if (y < end - 2) {
		console_draw_title(c, y++, left, _(" CLIENTS AND FILES"), 0);
		console_job_draw_clients(c, job, &y, end, left);
		console_job_draw_files(c, job, &y, end, left);
	}
	if (y < end - 1) {
		console_draw_title(c, y++, left, _(" LOG"), 0);
		console_job_draw_log(c, job, &y, end, left);
	}
	for (; y < end; y++)
		console_draw_fill(c, y, 0, left, c->attrs[CONSOLE_C_NORMAL]);
}

/* Select frame n (clamped to the job). */
static void
console_job_select(struct console *c, struct job *job, long n)
{
	if (n < job->first)
		n = job->first;
	if (n > job->last)
		n = job->last;
	c->job.frame = n;
}

/* The selected frame, or the marked range: its first and last frames. */
void
console_job_range(struct console *c, long *lo, long *hi)
{
	const struct console_job_page	*p = &c->job;

	*lo = *hi = p->frame;
	if (p->mark != LONG_MIN) {
		*lo = p->mark < p->frame ? p->mark : p->frame;
		*hi = p->mark < p->frame ? p->frame : p->mark;
	}
}

/* Render the selected frame, or the marked range, again. */
void
console_job_again(struct console *c)
{
	struct console_job_page	*p = &c->job;
	struct job		*job = console_job_current(c);
	long			 lo, hi, n;
	char			*cause = NULL;

	if (job == NULL)
		return;
	console_job_range(c, &lo, &hi);
	n = server_render_again(c->server, job, lo, hi, &cause);
	console_job_forget_files(p);
	p->mark = LONG_MIN;
	if (n < 0) {
		console_set_status(c, "%s", cause);
		free(cause);
	} else if (n == 0)
		console_set_status(c, _("no frame from %ld to %ld is done or "
		    "failed"), lo, hi);
	else
		console_set_status(c, _("%s: %ld frames to be rendered again; "
		    "the old files are in .replaced/"), job->name, n);
}

/* Select the frame in the map's cell at screen row y, column x, if any. */
int
console_job_click(struct console *c, int y, int x)
{
	struct console_job_page	*p = &c->job;
	struct job		*job = console_job_current(c);
	long			 n;

	if (job == NULL || p->cols <= 0 || y < p->map.y ||
	    y >= p->map.y + p->map.rows || x < p->map_x ||
	    x >= p->map_x + p->cols)
		return 0;
	n = job->first + (long)(p->map.top + y - p->map.y) * p->cols +
	    (x - p->map_x);
	if (n > job->last)
		return 0;
	p->frame = n;
	console_dirty(c);
	return 1;
}

/* A key for the page; 1 if it used it. */
int
console_job_key(struct console *c, int key)
{
	struct console_job_page	*p = &c->job;
	struct job		*job = console_job_current(c);
	long			 step = p->cols > 0 ? p->cols : 1;
	long			 page = step * (p->map.rows > 1 ?
				    p->map.rows - 1 : 1);

	if (job == NULL || job->nframes == 0)
		return 0;
	switch (key) {
	case KEY_LEFT:
	case 'h':
		console_job_select(c, job, p->frame - 1);
		break;
	case KEY_RIGHT:
	case 'l':
		console_job_select(c, job, p->frame + 1);
		break;
	case KEY_UP:
	case 'k':
		console_job_select(c, job, p->frame - step);
		break;
	case KEY_DOWN:
	case 'j':
		console_job_select(c, job, p->frame + step);
		break;
	case KEY_PPAGE:
		console_job_select(c, job, p->frame - page);
		break;
	case KEY_NPAGE:
		console_job_select(c, job, p->frame + page);
		break;
	case KEY_HOME:
	case 'g':
		console_job_select(c, job, job->first);
		break;
	case KEY_END:
	case 'G':
		console_job_select(c, job, job->last);
		break;
	case 'm':
		p->mark = p->mark == LONG_MIN ? p->frame : LONG_MIN;
		break;
	case 'R':
		/* A range asks first; one frame is quickly seen to. */
		if (p->mark != LONG_MIN && p->mark != p->frame)
			c->ask = CONSOLE_ASK_AGAIN;
		else
			console_job_again(c);
		break;
	default:
		return console_jobs_act(c, job, key);
	}
	console_dirty(c);
	return 1;
}
