/*
 * blendfile-dump.c: list a .blend file's dependencies as the server would
 * find them, reading the file in 1 MiB slices, one "<kind> <form> <path>"
 * line each. A test program, not installed.
 */
#include "bdfarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blendfile.h"
#include "xmalloc.h"

#define DUMP_SLICE	(1024 * 1024)

/* Feed the whole file once; 0 or -1 with a reason. */
static int
dump_pass(struct blendfile *bf, FILE *f, unsigned char *buf, char **cause)
{
	size_t	n;

	while ((n = fread(buf, 1, DUMP_SLICE, f)) > 0) {
		if (blendfile_feed(bf, buf, n, cause) != 0)
			return -1;
	}
	if (ferror(f)) {
		xasprintf(cause, "%s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Read the file named by the only argument and print what it needs. */
int
main(int argc, char **argv)
{
	struct blendfile	*bf;
	const struct blenddep	*d;
	FILE			*f;
	unsigned char		*buf;
	char			*cause = NULL;
	size_t			 i;
	int			 rc;

	if (argc != 2) {
		fprintf(stderr, "usage: blendfile-dump FILE.blend\n");
		return 2;
	}
	if ((f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	buf = xmalloc(DUMP_SLICE);
	bf = blendfile_new(argv[1]);
	do {
		rewind(f);
		if (dump_pass(bf, f, buf, &cause) != 0)
			rc = -1;
		else
			rc = blendfile_end(bf, &cause);
	} while (rc == 1);
	fclose(f);
	free(buf);
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", argv[1], cause);
		free(cause);
		blendfile_free(bf);
		return 1;
	}
	for (i = 0; i < blendfile_count(bf); i++) {
		d = blendfile_dep(bf, i);
		printf("%s %s %s\n", blenddep_kind_name(d->kind),
		    blenddep_form_name(d->form), d->path);
	}
	blendfile_free(bf);
	return 0;
}
