/*
 * jobfile.c: a job file's text, parsed and formatted, and the names a
 * job file may take. Lines may end in LF or CR LF;
 * after the third come blank lines and options, one per line
 * ("allow-missing": frames whose Blender missed a file still count;
 * "fresh-blender": every frame is rendered by a Blender started for it);
 * anything else is a reason to skip the job, which is returned in words
 * a user can act on. The options are not part of what defines the job:
 * jf->defined says how much of the text does, so that adding or removing
 * an option does not start the job over.
 */
#include "jobfile.h"

#include <stdlib.h>
#include <string.h>

#include "bdfarm.h"
#include "proto.h"
#include "xmalloc.h"

/* Copy the next line (without its end) and advance *pos; NULL at the end. */
static char *
jobfile_line(const char *text, size_t len, size_t *pos)
{
	size_t	start = *pos, end;

	if (start >= len)
		return NULL;
	end = start;
	while (end < len && text[end] != '\n')
		end++;
	*pos = end < len ? end + 1 : end;
	if (end > start && text[end - 1] == '\r')
		end--;
	return xstrndup(text + start, end - start);
}

/* Whether a line holds nothing but white space. */
static int
jobfile_blank(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\r')
			return 0;
	}
	return 1;
}

/* Parse a frame line, allowing white space around the number. */
static int
jobfile_frame(char *line, long *frame)
{
	char	*t[2];

	if (proto_split(line, t, 1) != 1)
		return -1;
	return proto_parse_frame(t[0], frame);
}

/* The field of jf that option name sets, or NULL for no option. */
static int *
jobfile_option(struct jobfile *jf, const char *name)
{
	if (strcmp(name, "allow-missing") == 0)
		return &jf->allow_missing;
	if (strcmp(name, "fresh-blender") == 0)
		return &jf->fresh_blender;
	return NULL;
}

/*
 * Parse a job file of len bytes into jf. On failure, *cause is an
 * allocated, translated reason and jf holds nothing.
 */
int
jobfile_parse(const char *text, size_t len, struct jobfile *jf, char **cause)
{
	char	*lines[3] = { NULL, NULL, NULL }, *extra, *t[2];
	size_t	 pos = 0, n, at;
	int	 i, blank, words, *opt;

	memset(jf, 0, sizeof *jf);
	if (len > JOBFILE_MAX_SIZE) {
		xasprintf(cause, _("the file is too large to be a job file"));
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		xasprintf(cause, _("the file is not text"));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if ((lines[i] = jobfile_line(text, len, &pos)) == NULL) {
			xasprintf(cause, _("expected 3 lines (the .blend path, "
			    "the first frame, the last frame), found %d"), i);
			goto fail;
		}
	}
	jf->defined = len;
	for (at = pos; (extra = jobfile_line(text, len, &pos)) != NULL;
	    at = pos) {
		blank = jobfile_blank(extra);
		words = blank ? 0 : proto_split(extra, t, 2);
		if (words == 1 && (opt = jobfile_option(jf, t[0])) != NULL) {
			*opt = 1;
			if (jf->defined == len)
				jf->defined = at;
		} else if (!blank) {
			free(extra);
			xasprintf(cause, _("expected 3 lines (the .blend path, "
			    "the first frame, the last frame) and options "
			    "(allow-missing, fresh-blender), found more"));
			goto fail;
		}
		free(extra);
	}

	/* The path is taken as written, but for surrounding white space. */
	n = strspn(lines[0], " \t");
	memmove(lines[0], lines[0] + n, strlen(lines[0] + n) + 1);
	n = strlen(lines[0]);
	while (n > 0 && (lines[0][n - 1] == ' ' || lines[0][n - 1] == '\t'))
		lines[0][--n] = '\0';
	if (lines[0][0] != '/') {
		xasprintf(cause, _("the .blend path \"%s\" is not absolute"),
		    lines[0]);
		goto fail;
	}
	if (jobfile_frame(lines[1], &jf->first) != 0) {
		xasprintf(cause, _("the first frame \"%s\" is not a whole "
		    "number"), lines[1]);
		goto fail;
	}
	if (jobfile_frame(lines[2], &jf->last) != 0) {
		xasprintf(cause, _("the last frame \"%s\" is not a whole "
		    "number"), lines[2]);
		goto fail;
	}
	if (jf->last < jf->first) {
		xasprintf(cause, _("the last frame %ld is before the first "
		    "frame %ld"), jf->last, jf->first);
		goto fail;
	}
	if (jf->last - jf->first >= JOBFILE_MAX_FRAMES) {
		xasprintf(cause, _("the job has more than %d frames"),
		    JOBFILE_MAX_FRAMES);
		goto fail;
	}
	jf->blend = lines[0];
	free(lines[1]);
	free(lines[2]);
	return 0;

fail:
	for (i = 0; i < 3; i++)
		free(lines[i]);
	memset(jf, 0, sizeof *jf);
	return -1;
}

/* Release a parsed job file. */
void
jobfile_free(struct jobfile *jf)
{
	free(jf->blend);
	jf->blend = NULL;
}

/* The text of a job file that parses back into what jf says. */
char *
jobfile_format(const struct jobfile *jf)
{
	char	*text;

	xasprintf(&text, "%s\n%ld\n%ld\n%s%s", jf->blend, jf->first,
	    jf->last, jf->allow_missing ? "allow-missing\n" : "",
	    jf->fresh_blender ? "fresh-blender\n" : "");
	return text;
}

/*
 * Check that NAME.job is a name the job folder takes as a job (not
 * hidden, one folder entry, with room for its .suspend file) and that
 * prints as it is. On failure, *cause is an allocated reason.
 */
int
jobfile_check_name(const char *name, char **cause)
{
	const char	*s;

	if (*name == '\0') {
		xasprintf(cause, _("the job name is empty"));
		return -1;
	}
	if (*name == '.') {
		xasprintf(cause, _("a job name cannot start with '.'"));
		return -1;
	}
	if (strlen(name) > JOBFILE_MAX_NAME) {
		xasprintf(cause, _("the job name is longer than %d bytes"),
		    JOBFILE_MAX_NAME);
		return -1;
	}
	for (s = name; *s != '\0'; s++) {
		if (*s == '/') {
			xasprintf(cause, _("a job name cannot hold '/'"));
			return -1;
		}
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			xasprintf(cause, _("a job name cannot hold control "
			    "characters"));
			return -1;
		}
	}
	return 0;
}
