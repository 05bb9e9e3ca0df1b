/*
 * console-add.c: adding a job from the console (the a key). The bottom
 * line asks for the .blend, the first and the last frame and the job's
 * name, checking each answer; then NAME.job is written into the job
 * folder, which stays the one place jobs come from: the folder's watch
 * picks the new job up as it would one copied in by hand. The file is
 * written under a hidden name the folder ignores and linked into place,
 * so that no half-written job is ever read and no job is replaced.
 */
#include "bdfarm.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console-pane.h"
#include "fileio.h"
#include "jobfile.h"
#include "proto.h"
#include "server.h"
#include "xmalloc.h"

/* The questions, in the order they are asked. */
enum console_add_step {
	CONSOLE_ADD_BLEND,
	CONSOLE_ADD_FIRST,
	CONSOLE_ADD_LAST,
	CONSOLE_ADD_NAME
};

struct console_add {
	enum console_add_step	 step;
	struct console_prompt	*prompt;
	char			*message;	/* shown after the field */
	int			 bad;		/* the message is a refusal */
	struct jobfile		 job;		/* the answers so far */
	char			*name;		/* the name offered */
};

/* Start asking for a job to add. */
void
console_add_start(struct console *c)
{
	struct console_add	*add = xcalloc(1, sizeof *add);

	add->step = CONSOLE_ADD_BLEND;
	add->prompt = console_prompt_new();
	c->add = add;
	console_dirty(c);
}

/* Release what adding a job holds. */
void
console_add_free(struct console_add *add)
{
	if (add == NULL)
		return;
	console_prompt_free(add->prompt);
	free(add->message);
	free(add->job.blend);
	free(add->name);
	free(add);
}

/* Stop adding, leaving status in the bottom line. */
static void
console_add_end(struct console *c, const char *status)
{
	console_add_free(c->add);
	c->add = NULL;
	console_set_status(c, "%s", status);
}

/* Show a message after the field; the step stays open if bad. */
static void
console_add_say(struct console_add *add, char *message, int bad)
{
	free(add->message);
	add->message = message;
	add->bad = bad;
}

/* Go on to the next question with an empty field. */
static void
console_add_next(struct console_add *add, enum console_add_step step)
{
	add->step = step;
	console_prompt_set(add->prompt, "");
	console_add_say(add, NULL, 0);
}

/* Whether the first bytes of the open file fd are those of a .blend. */
static int
console_add_is_blend(int fd)
{
	static const unsigned char	 gzip[] = { 0x1f, 0x8b };
	static const unsigned char	 zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };
	unsigned char			 head[7];
	ssize_t				 n;

	n = pread(fd, head, sizeof head, 0);
	if (n == (ssize_t)sizeof head && memcmp(head, "BLENDER", 7) == 0)
		return 1;
	if (n >= (ssize_t)sizeof zstd && memcmp(head, zstd, sizeof zstd) == 0)
		return 1;
	return n >= (ssize_t)sizeof gzip && memcmp(head, gzip, sizeof gzip) == 0;
}

/*
 * Check the .blend typed: an existing, readable regular file that starts
 * as a .blend does, at a path a job file can hold. On success, its
 * absolute path is kept and its base name offered as the job's name.
 */
static int
console_add_blend(struct console_add *add, const char *text, char **cause)
{
	struct stat	 sb;
	char		*path, *abs = NULL, *copy, *base;
	size_t		 n;
	int		 fd = -1;

	if (*text == '\0') {
		xasprintf(cause, _("type the path of a .blend file"));
		return -1;
	}
	path = console_prompt_expand(text);
	abs = realpath(path, NULL);
	free(path);
	if (abs == NULL || (fd = open(abs, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1) {
		xasprintf(cause, _("cannot open it: %s"), strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		xasprintf(cause, _("not a regular file"));
		goto fail;
	}
	if (!console_add_is_blend(fd)) {
		xasprintf(cause, _("not a .blend file"));
		goto fail;
	}
	n = strlen(abs);
	if (strpbrk(abs, "\r\n") != NULL || abs[n - 1] == ' ' ||
	    abs[n - 1] == '\t') {
		xasprintf(cause, _("a job file cannot hold this path"));
		goto fail;
	}
	close(fd);

	free(add->job.blend);
	add->job.blend = abs;
	copy = xstrdup(abs);
	base = basename(copy);
	n = strlen(base);
	if (n > 6 && strcmp(base + n - 6, ".blend") == 0)
		base[n - 6] = '\0';
	free(add->name);
	add->name = xstrdup(base);
	free(copy);
	return 0;

fail:
	if (fd != -1)
		close(fd);
	free(abs);
	return -1;
}

/* Parse a frame number as the job file parser does, white space aside. */
static int
console_add_frame(const char *text, long *frame, char **cause)
{
	char	*copy, *t[2];
	int	 rc = -1;

	copy = xstrdup(text);
	if (proto_split(copy, t, 1) == 1)
		rc = proto_parse_frame(t[0], frame);
	free(copy);
	if (rc != 0)
		xasprintf(cause, _("\"%s\" is not a whole number"), text);
	return rc;
}

/*
 * The job file's text for the answers so far, parsed back as the job
 * folder will read it; NULL with *cause if the folder would skip it.
 */
static char *
console_add_text(struct console_add *add, char **cause)
{
	struct jobfile	 check;
	char		*text = jobfile_format(&add->job);

	if (jobfile_parse(text, strlen(text), &check, cause) != 0) {
		free(text);
		return NULL;
	}
	jobfile_free(&check);
	return text;
}

/*
 * Write text as NAME.job in the job folder: into a hidden file first,
 * synced, then linked to its name, which fails rather than replace a
 * job of that name that appeared meanwhile.
 */
static int
console_add_write(const char *jobdir, const char *name, const char *text,
    char **cause)
{
	char		*tmp, *path;
	FILE		*f = NULL;
	int		 fd, rc;

	xasprintf(&tmp, "%s/.bdfarm-add-XXXXXX", jobdir);
	xasprintf(&path, "%s/%s.job", jobdir, name);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		xasprintf(cause, _("cannot write in %s: %s"), jobdir,
		    strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0644) == -1 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1;
	if (fputs(text, f) == EOF || fflush(f) == EOF || fsync(fileno(f)) == -1)
		goto fail;
	rc = fclose(f);
	f = NULL;
	if (rc == EOF)
		goto fail;
	if (link(tmp, path) == -1) {
		if (errno == EEXIST)
			xasprintf(cause, _("%s.job exists already"), name);
		goto fail;
	}
	unlink(tmp);
	fileio_sync_dir(jobdir);
	free(tmp);
	free(path);
	return 0;

fail:
	if (*cause == NULL)
		xasprintf(cause, _("cannot write %s: %s"), path,
		    strerror(errno));
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(path);
	return -1;
}

/*
 * Check the name typed (the one offered if none) and add the job: its
 * text is parsed back as the folder will read it before it is written.
 */
static int
console_add_job(struct console *c, const char *text, char **cause)
{
	struct console_add	*add = c->add;
	struct stat		 sb;
	const char		*jobdir = c->server->options->jobdir;
	const char		*name = *text != '\0' ? text : add->name;
	char			*job, *path;
	int			 rc;

	if (jobfile_check_name(name, cause) != 0)
		return -1;
	xasprintf(&path, "%s/%s.job", jobdir, name);
	rc = lstat(path, &sb);
	free(path);
	if (rc == 0) {
		xasprintf(cause, _("%s.job exists already"), name);
		return -1;
	}
	if ((job = console_add_text(add, cause)) == NULL)
		return -1;
	rc = console_add_write(jobdir, name, job, cause);
	free(job);
	if (rc != 0)
		return -1;

	free(c->jobs.selected);
	xasprintf(&c->jobs.selected, "%s.job", name);
	return 0;
}

/*
 * Take the answer to the question asked: go on to the next, or add the
 * job after the last; a refused answer stays in the field with why.
 */
static void
console_add_accept(struct console *c)
{
	struct console_add	*add = c->add;
	const char		*text = console_prompt_text(add->prompt);
	char			*cause = NULL, *job, *status;

	switch (add->step) {
	case CONSOLE_ADD_BLEND:
		if (console_add_blend(add, text, &cause) != 0)
			break;
		console_add_next(add, CONSOLE_ADD_FIRST);
		return;
	case CONSOLE_ADD_FIRST:
		if (console_add_frame(text, &add->job.first, &cause) != 0)
			break;
		console_add_next(add, CONSOLE_ADD_LAST);
		return;
	case CONSOLE_ADD_LAST:
		if (console_add_frame(text, &add->job.last, &cause) != 0 ||
		    (job = console_add_text(add, &cause)) == NULL)
			break;
		free(job);
		console_add_next(add, CONSOLE_ADD_NAME);
		return;
	case CONSOLE_ADD_NAME:
		if (console_add_job(c, text, &cause) != 0)
			break;
		xasprintf(&status, _("%s added: frames %ld to %ld"),
		    c->jobs.selected, add->job.first, add->job.last);
		console_add_end(c, status);
		free(status);
		return;
	}
	if (cause != NULL)
		console_add_say(add, cause, 1);
}

/* Handle a key while a job is being added. */
void
console_add_key(struct console *c, int key)
{
	struct console_add	*add = c->add;
	char			*message;

	switch (console_prompt_key(add->prompt, key)) {
	case CONSOLE_PROMPT_EDITED:
		console_add_say(add, NULL, 0);
		break;
	case CONSOLE_PROMPT_IGNORED:
		break;
	case CONSOLE_PROMPT_ACCEPT:
		console_add_accept(c);
		break;
	case CONSOLE_PROMPT_CANCEL:
		console_add_end(c, _("cancelled"));
		return;
	case CONSOLE_PROMPT_TAB:
		if (add->step == CONSOLE_ADD_BLEND) {
			console_prompt_complete(add->prompt, &message);
			console_add_say(add, message, 0);
		}
		break;
	}
	console_dirty(c);
}

/* Draw the question being asked in the bottom line, at y. */
void
console_add_draw(struct console *c, int y)
{
	struct console_add	*add = c->add;
	char			*label;

	switch (add->step) {
	case CONSOLE_ADD_BLEND:
		label = xstrdup(_("Blend file: "));
		break;
	case CONSOLE_ADD_FIRST:
		label = xstrdup(_("First frame: "));
		break;
	case CONSOLE_ADD_LAST:
		label = xstrdup(_("Last frame: "));
		break;
	default:
		xasprintf(&label, _("Job name [%s]: "), add->name);
		break;
	}
	console_prompt_draw(c, add->prompt, y, label, add->message, add->bad);
	free(label);
}
