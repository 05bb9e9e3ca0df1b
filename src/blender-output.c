/*
 * blender-output.c: reading Blender's command-line output. Blender has no
 * machine-readable report of a render, so the client recognises the few
 * lines that matter: per-frame progress, the name of each saved frame and
 * errors. Nothing here does I/O, so a unit test or a fuzzer can call it.
 */
#include "blender-output.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdfarm.h"

/*
 * Blender reports leaked memory at exit as an "Error:" line although the
 * render went well; that one is not a render error.
 */
#define BLENDER_OUTPUT_LEAK	"Not freed memory blocks"

/* Parse a decimal number at s, with an optional minus sign; -1 if none. */
static int
blender_output_number(const char *s, long *out, const char **end)
{
	char	*e;
	long	 v;

	if (!isdigit((unsigned char)*s) && !(*s == '-' &&
	    isdigit((unsigned char)s[1])))
		return -1;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno != 0 || v < -1000000000L || v > 1000000000L)
		return -1;
	*out = v;
	if (end != NULL)
		*end = e;
	return 0;
}

/* Parse "[HH:]MM:SS[.ss]" into whole seconds; -1 if it is not that. */
static int
blender_output_duration(const char *s)
{
	long		 part, total = 0;
	const char	*end;
	int		 fields = 0;

	for (;;) {
		if (*s == '-' || blender_output_number(s, &part, &end) != 0 ||
		    part > 1000000)
			return -1;
		total = total * 60 + part;
		fields++;
		if (*end != ':')
			break;
		if (fields == 3)
			return -1;
		s = end + 1;
	}
	if (fields < 2 || total > 100000000L)
		return -1;
	return (int)total;
}

/* Fill in the progress details of a "Fra:" line. */
static void
blender_output_progress(const char *line, struct blender_line *bl)
{
	const char	*p, *end;
	long		 a, b;

	if ((p = strstr(line, "| Sample ")) != NULL) {
		p += strlen("| Sample ");
		if (blender_output_number(p, &a, &end) == 0 && *end == '/' &&
		    blender_output_number(end + 1, &b, NULL) == 0 && a >= 0 &&
		    b > 0 && a <= b && b <= 1000000000L) {
			bl->sample = (int)a;
			bl->samples = (int)b;
		}
	}
	if ((p = strstr(line, "Remaining:")) != NULL)
		bl->remaining = blender_output_duration(p + strlen("Remaining:"));
}

/*
 * Classify one line of Blender's output, with or without its line ending,
 * and pick out what it says. The line is modified in place.
 */
void
blender_output_parse(char *line, struct blender_line *bl)
{
	size_t	len;
	char	*p;

	memset(bl, 0, sizeof *bl);
	bl->type = BLENDER_LINE_OTHER;
	bl->sample = bl->samples = bl->remaining = -1;

	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';

	if (strncmp(line, "Fra:", 4) == 0) {
		if (blender_output_number(line + 4, &bl->frame, NULL) != 0)
			return;
		bl->type = BLENDER_LINE_FRAME;
		blender_output_progress(line, bl);
		return;
	}
	if (strncmp(line, "Saved:", 6) == 0) {
		p = line + 6;
		while (*p == ' ')
			p++;
		len = strlen(p);
		if (len >= 2 && p[0] == '\'' && p[len - 1] == '\'') {
			p[len - 1] = '\0';
			p++;
		}
		if (*p == '\0')
			return;
		bl->type = BLENDER_LINE_SAVED;
		bl->path = p;
		return;
	}
	if (strncmp(line, "Error:", 6) == 0) {
		p = line + 6;
		while (*p == ' ')
			p++;
		if (strncmp(p, BLENDER_OUTPUT_LEAK,
		    strlen(BLENDER_OUTPUT_LEAK)) == 0)
			return;
		bl->type = BLENDER_LINE_ERROR;
		bl->message = p;
	}
}

/* The base name of a path: what follows its last slash. */
static const char *
blender_output_base(const char *path)
{
	const char	*slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * The frame number that a file written through the pattern "####" carries
 * in its name ("0005.png", "-005.png", "12345.exr"); -1 if it has none.
 */
int
blender_output_file_frame(const char *path, long *frame)
{
	const char	*base = blender_output_base(path), *end;

	if (blender_output_number(base, frame, &end) != 0)
		return -1;
	if (*end != '\0' && *end != '.')
		return -1;
	return 0;
}

/*
 * Copy the extension of path's base name, dot included (".png"), into buf
 * of size len; -1 if there is none or it is not a plain short word.
 */
int
blender_output_extension(const char *path, char *buf, unsigned int len)
{
	const char	*base = blender_output_base(path);
	const char	*dot = strrchr(base, '.'), *p;

	if (dot == NULL || dot == base || dot[1] == '\0' ||
	    strlen(dot) >= len || strlen(dot) > 16)
		return -1;
	for (p = dot + 1; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p))
			return -1;
	}
	strcpy(buf, dot);
	return 0;
}
