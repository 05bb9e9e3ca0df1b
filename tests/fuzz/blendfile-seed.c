/*
 * blendfile-seed.c: write the fuzz seeds of the .blend reader: the unit
 * tests' scene in its small form, in several layouts, each behind the
 * byte that chooses how the fuzz target splits it.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>

#include "blendbuild.h"

/* Write one seed file: the split byte, then the file. */
static int
seed_write(const char *dir, const char *name, int flags, int split)
{
	struct blendbuild	*bb = blendbuild_new(flags | BLENDBUILD_SMALL);
	const unsigned char	*p;
	char			 path[4096];
	size_t			 len;
	FILE			*f;
	int			 rc = 0;

	blendbuild_scene(bb);
	p = blendbuild_data(bb, &len);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fputc(split, f) == EOF || fwrite(p, 1, len, f) != len)
		rc = -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	blendbuild_free(bb);
	return rc;
}

/* Write the seeds into the folder named by the only argument. */
int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: blendfile-seed FOLDER\n");
		return 2;
	}
	if (seed_write(argv[1], "seed-le32", 0, 0) != 0 ||
	    seed_write(argv[1], "seed-be64", BLENDBUILD_PTR8 | BLENDBUILD_BIG,
	    13) != 0 ||
	    seed_write(argv[1], "seed-old", BLENDBUILD_OLDNAMES, 200) != 0 ||
	    seed_write(argv[1], "seed-dnafirst", BLENDBUILD_DNAFIRST |
	    BLENDBUILD_PTR8, 1) != 0 ||
	    seed_write(argv[1], "seed-large", BLENDBUILD_LARGE, 77) != 0) {
		perror("blendfile-seed");
		return 1;
	}
	return 0;
}
