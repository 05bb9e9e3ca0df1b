/*
 * state.c: the checkpoint text. One line per fact, a job's lines between
 * "job NAME" and "end", finished frames as ranges so that a long job stays
 * small. Times are saved on the wall clock, which outlives the process,
 * and turned into the model's monotonic clock when read. Parsing is
 * strict: a file that does not parse is not half-used.
 */
#include "state.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bdfarm.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

/* The value of a hexadecimal digit, or -1. */
static int
state_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Write a name so that it stays on one line (control characters and '%'
 * become %XX), and, if token, one token (white space too).
 */
static void
state_format_escaped(FILE *f, const char *name, int token)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '%' ||
		    (token && *p == ' '))
			fprintf(f, "%%%02X", *p);
		else
			fputc(*p, f);
	}
}

/* Write a job file's name, which may hold spaces, to end a line. */
static void
state_format_name(FILE *f, const char *name)
{
	state_format_escaped(f, name, 0);
}

/* Undo state_format_name; NULL if an escape is malformed. */
static char *
state_parse_name(const char *in)
{
	char	*out = xmalloc(strlen(in) + 1), *o = out;
	int	 hi, lo;

	for (; *in != '\0'; in++) {
		if (*in != '%') {
			*o++ = *in;
			continue;
		}
		if ((hi = state_hex(in[1])) < 0 || (lo = state_hex(in[2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		in += 2;
	}
	*o = '\0';
	return out;
}

/* Write the frames of job in state as ranges "a-b" or "a" after word. */
static void
state_format_ranges(FILE *f, const struct job *job, const char *word,
    enum frame_state state)
{
	size_t	i = 0, j;

	fputs(word, f);
	while (i < job->nframes) {
		if (job->frames[i].state != state) {
			i++;
			continue;
		}
		for (j = i; j + 1 < job->nframes &&
		    job->frames[j + 1].state == state; j++)
			;
		if (j == i)
			fprintf(f, " %ld", job->first + (long)i);
		else
			fprintf(f, " %ld-%ld", job->first + (long)i,
			    job->first + (long)j);
		i = j + 1;
	}
	fputc('\n', f);
}

/* Write one job's lines; wall_offset turns model times into wall times. */
static void
state_format_job(FILE *f, const struct job *job, int64_t wall_offset)
{
	const struct file_id	*id = &job->blend_id;
	const struct frame	*fr;
	size_t			 i;

	fputs("job ", f);
	state_format_name(f, job->name);
	fputc('\n', f);
	fprintf(f, "jobdigest %s\n", job->job_digest);
	if (job->blend_digest[0] != '\0')
		fprintf(f, "blend %s %" PRIu64 " %" PRIu64 " %" PRId64 " %"
		    PRId64 " %s\n", job->blend_digest, id->dev, id->ino,
		    id->size, id->mtime_ns, job->blend_name);
	fprintf(f, "priority %d\n", job->priority);
	fprintf(f, "seq %" PRIu64 "\n", job->seq);
	state_format_ranges(f, job, "done", FRAME_DONE);
	if (job->nfailed > 0)
		state_format_ranges(f, job, "failed", FRAME_FAILED);
	TAILQ_FOREACH(fr, &job->out, out_entry) {
		if (fr->host != NULL)
			fprintf(f, "out %ld %" PRId64 " %" PRIu32 " %d %s\n",
			    job_frame_number(job, fr), fr->since + wall_offset,
			    fr->sends, fr->host->ext_version, fr->host->name);
	}
	for (i = 0; i < job->nfailures; i++)
		fprintf(f, "failure %ld %s\n", job->failures[i].frame,
		    job->failures[i].host->name);
	for (i = 0; i < job->nhosts; i++)
		fprintf(f, "host %u %s\n", job->hosts[i].count,
		    job->hosts[i].name);
	fputs("end\n", f);
}

/* Write what a commit must still do, if anything. */
static void
state_format_journal(FILE *f, const struct state_journal *journal)
{
	size_t	i;

	for (i = 0; i < journal->nrenames; i++) {
		fputs("rename ", f);
		state_format_escaped(f, journal->renames[i].from, 1);
		fputc(' ', f);
		state_format_escaped(f, journal->renames[i].to, 1);
		fputc('\n', f);
	}
	for (i = 0; i < journal->nlines; i++) {
		fprintf(f, "joblog %" PRId64 " ", journal->lines[i].when);
		state_format_escaped(f, journal->lines[i].job, 1);
		fputc(' ', f);
		state_format_escaped(f, journal->lines[i].text, 0);
		fputc('\n', f);
	}
}

/*
 * The whole checkpoint of farm and, if not NULL, the journal of what its
 * commit must still do, as text; *len receives its length. wall_offset is
 * the wall clock minus the model's clock, in ms.
 */
char *
state_format(struct farm *farm, int64_t wall_offset,
    const struct state_journal *journal, size_t *len)
{
	struct job	*job;
	char		*text = NULL;
	FILE		*f;

	if ((f = open_memstream(&text, len)) == NULL)
		fatal("open_memstream");
	fprintf(f, "bdfarm-state %d\n", STATE_VERSION);
	fprintf(f, "nextseq %" PRIu64 "\n", farm->next_seq);
	TAILQ_FOREACH(job, &farm->jobs, entry) {
		if (job->job_digest[0] != '\0' && job->invalid == NULL)
			state_format_job(f, job, wall_offset);
	}
	if (journal != NULL)
		state_format_journal(f, journal);
	if (fclose(f) != 0)
		fatal("formatting the state");
	return text;
}

/* Parse an unsigned 64-bit decimal field. */
static int
state_u64(const char *s, uint64_t *v)
{
	return proto_parse_size(s, UINT64_MAX, v);
}

/* Parse a signed 64-bit decimal field (times, sizes). */
static int
state_i64(const char *s, int64_t *v)
{
	uint64_t	u;
	int		neg = *s == '-';

	if (proto_parse_size(s + neg, INT64_MAX, &u) != 0)
		return -1;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

/* Parse "a-b" or "a" into a range of frames. */
static int
state_range(char *s, struct state_range *r)
{
	char	*dash = strchr(s + 1, '-');

	if (dash != NULL)
		*dash = '\0';
	if (proto_parse_frame(s, &r->from) != 0)
		return -1;
	if (dash == NULL) {
		r->to = r->from;
		return 0;
	}
	if (proto_parse_frame(dash + 1, &r->to) != 0 || r->to < r->from)
		return -1;
	return 0;
}

/* Release what one parsed job holds. */
static void
state_job_free(struct state_job *sj)
{
	size_t	i;

	free(sj->name);
	free(sj->blend_name);
	free(sj->done);
	free(sj->failed);
	for (i = 0; i < sj->nout; i++)
		free(sj->out[i].host);
	free(sj->out);
	for (i = 0; i < sj->nhosts; i++)
		free(sj->hosts[i].name);
	free(sj->hosts);
	for (i = 0; i < sj->nfailures; i++)
		free(sj->failures[i].host);
	free(sj->failures);
}

/* Parse the ranges after "done" or "failed", which may be many. */
static int
state_parse_ranges(struct state_range **list, size_t *n, char *ranges)
{
	char	*token, *save = NULL;

	for (token = strtok_r(ranges, " \t\r", &save); token != NULL;
	    token = strtok_r(NULL, " \t\r", &save)) {
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		if (state_range(token, &(*list)[*n]) != 0)
			return -1;
		(*n)++;
	}
	return 0;
}

/*
 * Parse a line of the journal: "rename FROM TO" or "joblog WHEN JOB
 * TEXT", in place; -1 if it is neither.
 */
static int
state_parse_journal(struct state_journal *journal, char *line)
{
	char	*t[3], *rest, *a, *b;
	int64_t	 when;
	int	 rc = -1;

	if (strncmp(line, "rename ", 7) == 0) {
		if (proto_split(line, t, 3) != 3)
			return -1;
		a = state_parse_name(t[1]);
		b = state_parse_name(t[2]);
		if (a != NULL && b != NULL && *a != '\0' && *b != '\0') {
			state_journal_rename(journal, a, b);
			rc = 0;
		}
	} else if (strncmp(line, "joblog ", 7) == 0) {
		if ((rest = proto_split_rest(line, t, 3)) == NULL ||
		    state_i64(t[1], &when) != 0)
			return -1;
		a = state_parse_name(t[2]);
		b = state_parse_name(rest);
		if (a != NULL && b != NULL && *a != '\0' && *b != '\0' &&
		    strchr(b, '\n') == NULL) {
			state_journal_line(journal, when, a, b);
			rc = 0;
		}
	} else
		return -1;
	free(a);
	free(b);
	return rc;
}

/* Parse one line inside a job's block of a file of version. */
static int
state_parse_job_line(struct state_job *sj, char **t, int n, int version)
{
	struct file_id	*id = &sj->blend_id;
	int64_t		 v;
	uint64_t	 u;
	int		 keep;

	if (strcmp(t[0], "jobdigest") == 0 && n == 2 &&
	    proto_valid_digest(t[1])) {
		snprintf(sj->job_digest, sizeof sj->job_digest, "%s", t[1]);
		return 0;
	}
	if (strcmp(t[0], "blend") == 0 && n == 7 && proto_valid_digest(t[1]) &&
	    state_u64(t[2], &id->dev) == 0 && state_u64(t[3], &id->ino) == 0 &&
	    state_i64(t[4], &id->size) == 0 &&
	    state_i64(t[5], &id->mtime_ns) == 0) {
		/*
		 * A name that is not UTF-8, which an older version let through
		 * and peers could no longer send back, is made anew.
		 */
		keep = proto_valid_file_name(t[6]);
		if (!keep && (proto_sanitize_text(t[6]) == 0 ||
		    !proto_valid_file_name(t[6])))
			return -1;
		snprintf(sj->blend_digest, sizeof sj->blend_digest, "%s", t[1]);
		free(sj->blend_name);
		sj->blend_name = keep ? xstrdup(t[6]) : NULL;
		return 0;
	}
	if (strcmp(t[0], "priority") == 0 && n == 2 &&
	    state_i64(t[1], &v) == 0 && v >= -1000000 && v <= 1000000) {
		sj->priority = (int)v;
		return 0;
	}
	if (strcmp(t[0], "seq") == 0 && n == 2 && state_u64(t[1], &u) == 0) {
		sj->seq = u;
		return 0;
	}
	if (strcmp(t[0], "out") == 0 && n == (version == 1 ? 5 : 6) &&
	    proto_valid_host(t[n - 1])) {
		struct state_out	o;

		memset(&o, 0, sizeof o);
		if (proto_parse_frame(t[1], &o.frame) != 0 ||
		    state_i64(t[2], &o.since) != 0 ||
		    state_u64(t[3], &u) != 0 || u > UINT32_MAX)
			return -1;
		o.sends = (uint32_t)u;
		if (version > 1) {
			if (state_u64(t[4], &u) != 0 || u > 1000)
				return -1;
			o.ext_version = (int)u;
		}
		o.host = xstrdup(t[n - 1]);
		sj->out = xreallocarray(sj->out, sj->nout + 1, sizeof *sj->out);
		sj->out[sj->nout++] = o;
		return 0;
	}
	if (strcmp(t[0], "failure") == 0 && n == 3 && proto_valid_host(t[2])) {
		struct state_out	o;

		memset(&o, 0, sizeof o);
		if (proto_parse_frame(t[1], &o.frame) != 0)
			return -1;
		o.host = xstrdup(t[2]);
		sj->failures = xreallocarray(sj->failures, sj->nfailures + 1,
		    sizeof *sj->failures);
		sj->failures[sj->nfailures++] = o;
		return 0;
	}
	if (strcmp(t[0], "host") == 0 && n == 3 && proto_valid_host(t[2]) &&
	    state_u64(t[1], &u) == 0 && u <= UINT32_MAX) {
		sj->hosts = xreallocarray(sj->hosts, sj->nhosts + 1,
		    sizeof *sj->hosts);
		sj->hosts[sj->nhosts].name = xstrdup(t[2]);
		sj->hosts[sj->nhosts].count = (unsigned)u;
		sj->nhosts++;
		return 0;
	}
	return -1;
}

/*
 * Parse a checkpoint of len bytes into st. On failure st is empty and
 * *cause says which line was wrong.
 */
int
state_parse(const char *text, size_t len, struct state *st, char **cause)
{
	struct state_job	*sj = NULL;
	char			*copy, *line, *next, *t[8];
	int			 n, lineno = 0, version = 0;
	uint64_t		 u;
	long			 v;

	memset(st, 0, sizeof *st);
	if (memchr(text, '\0', len) != NULL) {
		xasprintf(cause, _("the state file is not text"));
		return -1;
	}
	copy = xstrndup(text, len);
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (lineno == 1) {
			n = proto_split(line, t, 2);
			if (n != 2 || strcmp(t[0], "bdfarm-state") != 0 ||
			    proto_parse_frame(t[1], &v) != 0)
				goto bad;
			version = (int)v;
			if (version < 1 || version > STATE_VERSION) {
				xasprintf(cause, _("state file version %d is "
				    "not supported"), version);
				goto fail;
			}
			continue;
		}
		if (sj == NULL && strncmp(line, "job ", 4) == 0 &&
		    line[4] != '\0') {
			st->jobs = xreallocarray(st->jobs, st->njobs + 1,
			    sizeof *st->jobs);
			sj = &st->jobs[st->njobs++];
			memset(sj, 0, sizeof *sj);
			if ((sj->name = state_parse_name(line + 4)) == NULL)
				goto bad;
			continue;
		}
		if (sj == NULL && version > 1 && (strncmp(line, "rename ", 7) ==
		    0 || strncmp(line, "joblog ", 7) == 0)) {
			if (state_parse_journal(&st->journal, line) != 0)
				goto bad;
			continue;
		}
		if (sj != NULL && strncmp(line, "done", 4) == 0 &&
		    (line[4] == ' ' || line[4] == '\0' || line[4] == '\r')) {
			if (state_parse_ranges(&sj->done, &sj->ndone,
			    line + 4) != 0)
				goto bad;
			continue;
		}
		if (sj != NULL && strncmp(line, "failed", 6) == 0 &&
		    (line[6] == ' ' || line[6] == '\0' || line[6] == '\r')) {
			if (state_parse_ranges(&sj->failed, &sj->nfailed,
			    line + 6) != 0)
				goto bad;
			continue;
		}
		n = proto_split(line, t, (int)nitems(t));
		if (n == 0)
			continue;
		if (n > (int)nitems(t))
			goto bad;
		if (sj == NULL) {
			if (strcmp(t[0], "nextseq") == 0 && n == 2 &&
			    state_u64(t[1], &u) == 0) {
				st->next_seq = u;
				continue;
			}
			goto bad;
		}
		if (strcmp(t[0], "end") == 0 && n == 1) {
			if (sj->job_digest[0] == '\0')
				goto bad;
			sj = NULL;
			continue;
		}
		if (state_parse_job_line(sj, t, n, version) != 0)
			goto bad;
	}
	if (version == 0 || sj != NULL)
		goto truncated;
	free(copy);
	return 0;

truncated:
	xasprintf(cause, _("the state file ends too early"));
	goto fail;
bad:
	xasprintf(cause, _("line %d of the state file does not parse"), lineno);
fail:
	free(copy);
	state_free(st);
	return -1;
}

/*
 * Turn the wall-clock times of a parsed checkpoint into the model's
 * clock; wall_offset is the wall clock minus the model's clock, in ms.
 */
void
state_to_clock(struct state *st, int64_t wall_offset)
{
	size_t	i, j;

	for (i = 0; i < st->njobs; i++) {
		for (j = 0; j < st->jobs[i].nout; j++)
			st->jobs[i].out[j].since -= wall_offset;
	}
}

/* The saved record of the job called name, or NULL. */
struct state_job *
state_find(struct state *st, const char *name)
{
	size_t	i;

	for (i = 0; i < st->njobs; i++) {
		if (strcmp(st->jobs[i].name, name) == 0)
			return &st->jobs[i];
	}
	return NULL;
}

/* Put the to-do frames of job in the ranges into state. */
static void
state_restore_ranges(struct job *job, const struct state_range *ranges,
    size_t n, enum frame_state state)
{
	struct frame	*f;
	size_t		 i;
	long		 number;

	for (i = 0; i < n; i++) {
		long	from = ranges[i].from, to = ranges[i].to;

		if (from < job->first)
			from = job->first;
		if (to > job->last)
			to = job->last;
		for (number = from; number <= to; number++) {
			if ((f = job_frame(job, number)) != NULL &&
			    f->state == FRAME_TODO)
				job_frame_set(job, f, state);
		}
	}
}

/*
 * Lay a saved record over a job just read from a job file with the same
 * contents: its place in the queue, its .blend's digest, the frames that
 * were done, failed or out, and the failures that block hosts. Frames
 * outside the job's range are ignored.
 */
void
state_restore_job(struct farm *farm, struct job *job,
    const struct state_job *sj)
{
	struct frame	*f;
	size_t		 i;

	job->priority = sj->priority;
	if (sj->seq != 0) {
		job->seq = sj->seq;
		if (farm->next_seq <= sj->seq)
			farm->next_seq = sj->seq + 1;
	}
	if (sj->blend_digest[0] != '\0') {
		snprintf(job->blend_digest, sizeof job->blend_digest, "%s",
		    sj->blend_digest);
		job->blend_id = sj->blend_id;
		if (sj->blend_name != NULL)
			farm_set_blend_name(farm, job, sj->blend_name);
	}
	state_restore_ranges(job, sj->done, sj->ndone, FRAME_DONE);
	state_restore_ranges(job, sj->failed, sj->nfailed, FRAME_FAILED);
	for (i = 0; i < sj->nout; i++) {
		const struct state_out	*o = &sj->out[i];
		struct host		*host;

		if ((f = job_frame(job, o->frame)) == NULL ||
		    f->state != FRAME_TODO)
			continue;
		host = host_get(farm, o->host);
		if (!host_alive(host))
			host->ext_version = o->ext_version;
		job_frame_out(job, f, host, o->since);
		f->sends = o->sends;
	}
	sched_changed(farm);
	for (i = 0; i < sj->nhosts; i++)
		job_count_host(job, sj->hosts[i].name, sj->hosts[i].count);
	for (i = 0; i < sj->nfailures; i++) {
		if (job_frame(job, sj->failures[i].frame) == NULL)
			continue;
		job_add_failure(job, sj->failures[i].frame,
		    host_get(farm, sj->failures[i].host), 0, NULL);
	}
	job->complete = job_finished(job);
	farm_reorder(farm, job);
}

/* Release a parsed checkpoint. */
void
state_free(struct state *st)
{
	size_t	i;

	for (i = 0; i < st->njobs; i++)
		state_job_free(&st->jobs[i]);
	free(st->jobs);
	state_journal_free(&st->journal);
	memset(st, 0, sizeof *st);
}

/* Note that a stored frame must move from from to to. */
void
state_journal_rename(struct state_journal *journal, const char *from,
    const char *to)
{
	struct state_rename	*r;

	journal->renames = xreallocarray(journal->renames,
	    journal->nrenames + 1, sizeof *journal->renames);
	r = &journal->renames[journal->nrenames++];
	r->from = xstrdup(from);
	r->to = xstrdup(to);
}

/* Note that text, of the time when, must go to the log of job. */
void
state_journal_line(struct state_journal *journal, int64_t when,
    const char *job, const char *text)
{
	struct state_logline	*l;

	journal->lines = xreallocarray(journal->lines, journal->nlines + 1,
	    sizeof *journal->lines);
	l = &journal->lines[journal->nlines++];
	l->when = when;
	l->job = xstrdup(job);
	l->text = xstrdup(text);
}

/* Forget a journal's entries. */
void
state_journal_free(struct state_journal *journal)
{
	size_t	i;

	for (i = 0; i < journal->nrenames; i++) {
		free(journal->renames[i].from);
		free(journal->renames[i].to);
	}
	for (i = 0; i < journal->nlines; i++) {
		free(journal->lines[i].job);
		free(journal->lines[i].text);
	}
	free(journal->renames);
	free(journal->lines);
	memset(journal, 0, sizeof *journal);
}
