/*
 * blender-output.c: reading Blender's command-line output. Blender has no
 * machine-readable report of a render, so the client recognises the few
 * lines that matter: its version banner, per-frame progress, the name of
 * each saved frame, errors, the files the scene needs that Blender could
 * not find, the end of the client's prelude script, and what the loop of
 * a warm Blender (blender-warm.py) says of each frame. Nothing here does
 * I/O, so a unit test or a fuzzer can call it.
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

/*
 * What bpy.ops.file.report_missing_files() prints for each file it cannot
 * find (Blender 3.4), after whatever prefix the report gets on its way.
 */
#define BLENDER_OUTPUT_MISSING	"Warning: Path '"
#define BLENDER_OUTPUT_NOT_FOUND "' not found"

/* What the client's prelude script prints once it has looked. */
#define BLENDER_OUTPUT_PRELUDE	"bdfarm: prelude done"

/* What the loop of a warm Blender says: ready, then one line a frame. */
#define BLENDER_OUTPUT_WARM_READY "bdfarm: warm ready"
#define BLENDER_OUTPUT_WARM_FRAME "bdfarm: frame "

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

/* Parse "[HH:]MM:SS[.ss]" into milliseconds; -1 if it is not that. */
static long
blender_output_duration(const char *s)
{
	long		 part, total = 0, scale = 100;
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
	total *= 1000;
	if (*end == '.') {
		for (end++; scale > 0 && isdigit((unsigned char)*end); end++) {
			total += (*end - '0') * scale;
			scale /= 10;
		}
	}
	return total;
}

/* Read "A/B" or "A / B" at p into a fraction with 0 <= A <= B; -1 if not. */
static int
blender_output_fraction(const char *p, int *a, int *b)
{
	const char	*end;
	long		 x, y;

	if (blender_output_number(p, &x, &end) != 0)
		return -1;
	while (*end == ' ')
		end++;
	if (*end != '/')
		return -1;
	for (end++; *end == ' '; end++)
		;
	if (blender_output_number(end, &y, NULL) != 0 || x < 0 || y <= 0 ||
	    x > y || y > 1000000000L)
		return -1;
	*a = (int)x;
	*b = (int)y;
	return 0;
}

/*
 * Fill in the progress details of a "Fra:" line: Cycles' "Sample A/B",
 * Eevee's "Rendering A / B samples", the time so far and the time left.
 */
static void
blender_output_progress(const char *line, struct blender_line *bl)
{
	const char	*p, *next;

	/* The last one: a scene may have "Sample" in its name. */
	for (p = NULL, next = line; (next = strstr(next, " Sample ")) != NULL;
	    next++)
		p = next;
	if (p != NULL)
		blender_output_fraction(p + strlen(" Sample "), &bl->sample,
		    &bl->samples);
	else if ((p = strstr(line, "| Rendering ")) != NULL &&
	    strstr(p, " samples") != NULL)
		blender_output_fraction(p + strlen("| Rendering "), &bl->sample,
		    &bl->samples);
	if ((p = strstr(line, "| Time:")) != NULL)
		bl->elapsed_ms = blender_output_duration(p + strlen("| Time:"));
	if ((p = strstr(line, "Remaining:")) != NULL) {
		bl->remaining_ms = blender_output_duration(p +
		    strlen("Remaining:"));
		if (bl->remaining_ms >= 0)
			bl->remaining = (int)(bl->remaining_ms / 1000);
	}
}

/*
 * A missing-file warning anywhere in the line: the path runs from the
 * quote to the last "' not found", so that it may hold quotes itself.
 * Returns -1 if the line is not one.
 */
static int
blender_output_missing(char *line, struct blender_line *bl)
{
	char	*start, *end, *next;

	if ((start = strstr(line, BLENDER_OUTPUT_MISSING)) == NULL)
		return -1;
	start += strlen(BLENDER_OUTPUT_MISSING);
	end = NULL;
	for (next = start; (next = strstr(next, BLENDER_OUTPUT_NOT_FOUND)) !=
	    NULL; next++)
		end = next;
	if (end == NULL || end == start)
		return -1;
	*end = '\0';
	bl->type = BLENDER_LINE_MISSING;
	bl->path = start;
	return 0;
}

/*
 * The rest of a warm loop's frame line, "N done PATH" or "N failed
 * REASON"; anything else leaves the line OTHER.
 */
static void
blender_output_warm(const char *p, struct blender_line *bl)
{
	const char	*end;
	long		 frame;

	if (blender_output_number(p, &frame, &end) != 0)
		return;
	if (strncmp(end, " done ", 6) == 0 && end[6] != '\0') {
		bl->type = BLENDER_LINE_WARM_DONE;
		bl->path = end + 6;
	} else if (strncmp(end, " failed ", 8) == 0 && end[8] != '\0') {
		bl->type = BLENDER_LINE_WARM_FAILED;
		bl->message = end + 8;
	} else
		return;
	bl->frame = frame;
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
	bl->remaining_ms = bl->elapsed_ms = -1;

	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';

	if (blender_output_missing(line, bl) == 0)
		return;
	if (strcmp(line, BLENDER_OUTPUT_PRELUDE) == 0) {
		bl->type = BLENDER_LINE_PRELUDE;
		return;
	}
	if (strcmp(line, BLENDER_OUTPUT_WARM_READY) == 0) {
		bl->type = BLENDER_LINE_WARM_READY;
		return;
	}
	if (strncmp(line, BLENDER_OUTPUT_WARM_FRAME,
	    strlen(BLENDER_OUTPUT_WARM_FRAME)) == 0) {
		blender_output_warm(line + strlen(BLENDER_OUTPUT_WARM_FRAME),
		    bl);
		return;
	}
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
	if (strncmp(line, "Blender ", 8) == 0 &&
	    isdigit((unsigned char)line[8])) {
		p = line + 8;
		p[strcspn(p, " \t")] = '\0';
		bl->type = BLENDER_LINE_VERSION;
		bl->version = p;
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

/*
 * How far the frame of a progress line has rendered, in thousandths: by
 * samples if the line gives them, else by the time spent and the time
 * left; a saved frame is whole. -1 if the line says nothing of it.
 */
int
blender_output_permille(const struct blender_line *bl)
{
	long	total;

	switch (bl->type) {
	case BLENDER_LINE_SAVED:
		return 1000;
	case BLENDER_LINE_FRAME:
		if (bl->samples > 0)
			return (int)((long long)bl->sample * 1000 / bl->samples);
		if (bl->elapsed_ms < 0 || bl->remaining_ms < 0)
			return -1;
		total = bl->elapsed_ms + bl->remaining_ms;
		if (total == 0)
			return -1;
		return (int)((long long)bl->elapsed_ms * 1000 / total);
	default:
		return -1;
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
