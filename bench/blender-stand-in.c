/*
 * blender-stand-in.c: a stand-in for `blender -b FILE -o PATTERN -f LIST`
 * that starts in a millisecond, for benchmarks of the farm itself. Each
 * frame of LIST (comma-separated, absolute numbers, white space allowed as
 * Blender allows it) "renders" for $STAND_IN_FRAME_TIME seconds, then the
 * PNG named by $STAND_IN_PNG is copied to PATTERN with its run of '#'
 * replaced by the frame number, and the lines Blender prints about it are
 * printed: Fra:, Saved:. With $STAND_IN_TRACE set, one line per frame
 * goes to that file: the process, the frame, and when it started and ended
 * on the monotonic clock; and one line per run: "run", the process, and
 * when it started and ended. Built by bench/bench-ext.py; not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Copy the file from to the file to; exit on failure. */
static void
stand_in_copy(const char *from, const char *to)
{
	char	buf[65536];
	ssize_t	n;
	int	in, out;

	if ((in = open(from, O_RDONLY)) == -1 ||
	    (out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		printf("Error: cannot copy %s to %s: %s\n", from, to,
		    strerror(errno));
		exit(1);
	}
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			printf("Error: cannot write %s\n", to);
			exit(1);
		}
	}
	close(in);
	close(out);
}

/* The output path of frame n: the run of '#' in pattern, zero-padded. */
static void
stand_in_path(const char *pattern, long n, char *buf, size_t len)
{
	const char	*hash = strchr(pattern, '#');
	int		 width = 0, written;

	if (hash == NULL)
		written = snprintf(buf, len, "%s%04ld.png", pattern, n);
	else {
		while (hash[width] == '#')
			width++;
		written = snprintf(buf, len, "%.*s%s%0*ld%s.png",
		    (int)(hash - pattern), pattern, n < 0 ? "-" : "", width,
		    n < 0 ? -n : n, hash + width);
	}
	if (written < 0 || (size_t)written >= len) {
		printf("Error: output path too long\n");
		exit(1);
	}
}

/* Seconds on the monotonic clock. */
static double
stand_in_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep for seconds. */
static void
stand_in_sleep(double seconds)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	const char	*pattern = NULL, *list = NULL, *png, *time_text;
	const char	*trace;
	char		 path[4096], *end;
	double		 frame_time, started, born = stand_in_now();
	FILE		*f;
	long		 n;
	int		 i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("Blender 3.4.1 (stand-in)\n");
			return 0;
		}
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			pattern = argv[++i];
		else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			list = argv[++i];
	}
	png = getenv("STAND_IN_PNG");
	time_text = getenv("STAND_IN_FRAME_TIME");
	trace = getenv("STAND_IN_TRACE");
	frame_time = time_text != NULL ? strtod(time_text, NULL) : 0.1;
	if (pattern == NULL || list == NULL || png == NULL) {
		printf("Error: usage: -b FILE -o PATTERN -f LIST, with "
		    "STAND_IN_PNG set\n");
		return 1;
	}
	printf("Blender 3.4.1 (stand-in)\n");
	while (*list != '\0') {
		n = strtol(list, &end, 10);
		if (end == list) {
			printf("Error: bad frame list\n");
			return 1;
		}
		printf("Fra:%ld Mem:1M | Time:00:00.00 | Scene, ViewLayer | "
		    "Sample 0/4\n", n);
		started = stand_in_now();
		stand_in_sleep(frame_time);
		if (trace != NULL && (f = fopen(trace, "a")) != NULL) {
			fprintf(f, "%ld %ld %.6f %.6f\n", (long)getpid(), n,
			    started, stand_in_now());
			fclose(f);
		}
		printf("Fra:%ld Mem:1M | Time:00:00.20 | Scene, ViewLayer | "
		    "Sample 4/4\n", n);
		stand_in_path(pattern, n, path, sizeof path);
		stand_in_copy(png, path);
		printf("Saved: '%s'\n", path);
		list = *end == ',' ? end + 1 : end;
	}
	printf("Blender quit\n");
	if (trace != NULL && (f = fopen(trace, "a")) != NULL) {
		fprintf(f, "run %ld %.6f %.6f\n", (long)getpid(), born,
		    stand_in_now());
		fclose(f);
	}
	return 0;
}
