/*
 * test-blendfile.c: unit tests of the .blend dependency reader, on files
 * written by blendbuild.c: every kind of dependency and every reason to
 * skip one, both pointer sizes and byte orders, old and new field names,
 * gzip and zstd, any split of the input, and broken files.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "blendbuild.h"
#include "blendfile.h"
#include "unit.h"
#include "xmalloc.h"

/* How the bytes are handed over. */
enum test_split {
	TEST_WHOLE,
	TEST_BYTES,	/* one at a time */
	TEST_RANDOM	/* slices of random sizes, up to 3000 bytes */
};

/* The outcome of reading a file: its list, or the reason it was refused. */
struct blendtest_result {
	char	*deps;		/* "kind form path owner" lines */
	char	*cause;
	int	 passes;
	int	 version;
};

/* Feed one pass of the file as split says. */
static int
test_feed(struct blendfile *bf, const unsigned char *p, size_t len,
    enum test_split split, unsigned *seed, char **cause)
{
	size_t	n;

	while (len > 0) {
		switch (split) {
		case TEST_WHOLE:
			n = len;
			break;
		case TEST_BYTES:
			n = 1;
			break;
		default:
			n = 1 + rand_r(seed) % 3000;
			break;
		}
		if (n > len)
			n = len;
		if (blendfile_feed(bf, p, n, cause) != 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Read a whole file, with as many passes as it asks for. */
static void
test_read(const unsigned char *p, size_t len, enum test_split split,
    unsigned seed, struct blendtest_result *r)
{
	struct blendfile	*bf;
	const struct blenddep	*d;
	char			*line, *all;
	size_t			 i;
	int			 rc;

	memset(r, 0, sizeof *r);
	bf = blendfile_new("/jobs/shot.blend");
	do {
		r->passes++;
		ck_assert_int_le(r->passes, 2);
		if (test_feed(bf, p, len, split, &seed, &r->cause) != 0)
			rc = -1;
		else
			rc = blendfile_end(bf, &r->cause);
	} while (rc == 1);
	if (rc != 0) {
		ck_assert_ptr_nonnull(r->cause);
		ck_assert_str_ne(r->cause, "");
		blendfile_free(bf);
		return;
	}
	ck_assert_ptr_null(r->cause);
	r->version = blendfile_version(bf);
	r->deps = xstrdup("");
	for (i = 0; i < blendfile_count(bf); i++) {
		d = blendfile_dep(bf, i);
		ck_assert_ptr_nonnull(d);
		ck_assert_str_ne(d->path, "");
		xasprintf(&line, "%s %s %s %s\n", blenddep_kind_name(d->kind),
		    blenddep_form_name(d->form), d->path, d->owner);
		xasprintf(&all, "%s%s", r->deps, line);
		free(line);
		free(r->deps);
		r->deps = all;
	}
	ck_assert_ptr_null(blendfile_dep(bf, i));
	blendfile_free(bf);
}

/* Release a result. */
static void
blendtest_result_free(struct blendtest_result *r)
{
	free(r->deps);
	free(r->cause);
}

/* Read a file that must give the scene's list, in the passes expected. */
static void
test_scene(const unsigned char *p, size_t len, enum test_split split,
    int passes, int version)
{
	struct blendtest_result	r;

	test_read(p, len, split, 1, &r);
	if (r.deps == NULL)
		ck_abort_msg("refused: %s", r.cause);
	ck_assert_str_eq(r.deps, blendbuild_scene_deps);
	ck_assert_int_eq(r.passes, passes);
	ck_assert_int_eq(r.version, version);
	blendtest_result_free(&r);
}

/* Read a file that must be refused, with words in the reason. */
static void
test_refused(const unsigned char *p, size_t len, enum test_split split,
    const char *words)
{
	struct blendtest_result	r;

	test_read(p, len, split, 7, &r);
	if (r.deps != NULL)
		ck_abort_msg("accepted, expected \"%s\"", words);
	if (words != NULL && strstr(r.cause, words) == NULL)
		ck_abort_msg("reason \"%s\" does not say \"%s\"", r.cause,
		    words);
	blendtest_result_free(&r);
}

/*
 * Read a compressed file cut short: refused, unless the part that came
 * held the whole .blend up to ENDB (only the compression's tail is
 * missing); then the list is the whole list.
 */
static void
test_cut(const unsigned char *p, size_t len)
{
	struct blendtest_result	r;

	test_read(p, len, TEST_WHOLE, 5, &r);
	if (r.deps != NULL)
		ck_assert_str_eq(r.deps, blendbuild_scene_deps);
	blendtest_result_free(&r);
}

/* Compress as gzip does. */
static unsigned char *
test_gzip(const unsigned char *p, size_t len, size_t *outlen)
{
	z_stream	 z;
	unsigned char	*out;
	size_t		 cap = len + len / 100 + 1024;

	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	out = xmalloc(cap);
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/*
 * Compress with zstd; with frames, as two frames with a skippable frame
 * between and after them, as Blender 3.x writes its seek table.
 */
static unsigned char *
test_zstd(const unsigned char *p, size_t len, int frames, size_t *outlen)
{
	unsigned char	*out, skip[8 + 12];
	size_t		 cap, half, n;

	cap = 2 * ZSTD_compressBound(len) + 2 * sizeof skip;
	out = xmalloc(cap);
	if (!frames) {
		*outlen = ZSTD_compress(out, cap, p, len, 3);
		ck_assert(!ZSTD_isError(*outlen));
		return out;
	}
	memset(skip, 0xaa, sizeof skip);
	memcpy(skip, "\x5e\x2a\x4d\x18\x0c\x00\x00\x00", 8);
	half = len / 2;
	n = ZSTD_compress(out, cap, p, half, 1);
	ck_assert(!ZSTD_isError(n));
	memcpy(out + n, skip, sizeof skip);
	n += sizeof skip;
	*outlen = ZSTD_compress(out + n, cap - n, p + half, len - half, 1);
	ck_assert(!ZSTD_isError(*outlen));
	*outlen += n;
	memcpy(out + *outlen, skip, sizeof skip);
	*outlen += sizeof skip;
	return out;
}

/* A scene file written with the given flags. */
static struct blendbuild *
test_build(int flags)
{
	struct blendbuild	*bb = blendbuild_new(flags);

	blendbuild_scene(bb);
	return bb;
}

START_TEST(test_blendfile_layouts)
{
	static const int	 layouts[] = { 0, BLENDBUILD_PTR8,
	    BLENDBUILD_BIG, BLENDBUILD_PTR8 | BLENDBUILD_BIG };
	struct blendbuild	*bb;
	const unsigned char	*p;
	size_t			 i, len;

	for (i = 0; i < nitems(layouts); i++) {
		bb = test_build(layouts[i]);
		p = blendbuild_data(bb, &len);
		test_scene(p, len, TEST_WHOLE, 2, 304);
		blendbuild_free(bb);

		bb = test_build(layouts[i] | BLENDBUILD_OLDNAMES);
		p = blendbuild_data(bb, &len);
		test_scene(p, len, TEST_WHOLE, 2, 304);
		blendbuild_free(bb);
	}
}
END_TEST

START_TEST(test_blendfile_large_header)
{
	struct blendbuild	*bb;
	const unsigned char	*p;
	size_t			 len;

	bb = test_build(BLENDBUILD_LARGE);
	p = blendbuild_data(bb, &len);
	test_scene(p, len, TEST_WHOLE, 2, 405);
	test_scene(p, len, TEST_BYTES, 2, 405);
	blendbuild_free(bb);

	bb = test_build(BLENDBUILD_LARGE | BLENDBUILD_BIG);
	p = blendbuild_data(bb, &len);
	test_scene(p, len, TEST_RANDOM, 2, 405);
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_dna_first)
{
	struct blendbuild	*bb;
	const unsigned char	*p;
	size_t			 len;

	/* With the layouts first, one pass is enough. */
	bb = test_build(BLENDBUILD_DNAFIRST | BLENDBUILD_PTR8);
	p = blendbuild_data(bb, &len);
	test_scene(p, len, TEST_WHOLE, 1, 304);
	test_scene(p, len, TEST_BYTES, 1, 304);
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_no_second_pass)
{
	struct blendbuild	*bb;
	struct blendtest_result	 r;
	const unsigned char	*p;
	unsigned char		*b;
	size_t			 len;

	/* Without point caches, fluids or oceans, one pass is enough. */
	bb = blendbuild_new(BLENDBUILD_PTR8);
	b = blendbuild_struct(bb, "Library", 1);
	blendbuild_str(bb, b, "Library", "id", "LIlib");
	blendbuild_str(bb, b, "Library", "filepath", "/lib/props.blend");
	blendbuild_block(bb, "LI", "Library", b, 1);
	b = blendbuild_struct(bb, "ListBase", 1);
	blendbuild_block(bb, "DATA", "ListBase", b, 1);
	blendbuild_dna(bb);
	blendbuild_end(bb);
	p = blendbuild_data(bb, &len);
	test_read(p, len, TEST_WHOLE, 1, &r);
	ck_assert_ptr_nonnull(r.deps);
	ck_assert_str_eq(r.deps, "library file /lib/props.blend lib\n");
	ck_assert_int_eq(r.passes, 1);
	blendtest_result_free(&r);
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_many)
{
	struct blendbuild	*bb;
	struct blendfile	*bf;
	const unsigned char	*p;
	unsigned char		*b;
	char			*cause = NULL, path[64];
	size_t			 len, i;

	/* Many images, each named twice: each listed once, in order. */
	bb = blendbuild_new(BLENDBUILD_DNAFIRST);
	blendbuild_dna(bb);
	for (i = 0; i < 6000; i++) {
		snprintf(path, sizeof path, "//tex/%zu.png", i % 3000);
		b = blendbuild_struct(bb, "Image", 1);
		blendbuild_str(bb, b, "Image", "filepath", path);
		blendbuild_int(bb, b, "Image", "source", 1);
		blendbuild_block(bb, "IM", "Image", b, 1);
	}
	blendbuild_end(bb);
	p = blendbuild_data(bb, &len);
	bf = blendfile_new("many.blend");
	ck_assert_int_eq(blendfile_feed(bf, p, len, &cause), 0);
	ck_assert_int_eq(blendfile_end(bf, &cause), 0);
	ck_assert_uint_eq(blendfile_count(bf), 3000);
	for (i = 0; i < 3000; i++) {
		snprintf(path, sizeof path, "//tex/%zu.png", i);
		ck_assert_str_eq(blendfile_dep(bf, i)->path, path);
	}
	blendfile_free(bf);
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_splits)
{
	struct blendbuild	*bb;
	const unsigned char	*p;
	size_t			 len;
	unsigned		 seed;

	bb = test_build(BLENDBUILD_BIG);
	p = blendbuild_data(bb, &len);
	test_scene(p, len, TEST_BYTES, 2, 304);
	for (seed = 0; seed < 20; seed++) {
		struct blendtest_result	r;

		test_read(p, len, TEST_RANDOM, seed, &r);
		ck_assert_ptr_nonnull(r.deps);
		ck_assert_str_eq(r.deps, blendbuild_scene_deps);
		blendtest_result_free(&r);
	}
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_compressed)
{
	struct blendbuild	*bb;
	const unsigned char	*p;
	unsigned char		*z;
	size_t			 len, zlen;

	bb = test_build(BLENDBUILD_PTR8);
	p = blendbuild_data(bb, &len);

	z = test_gzip(p, len, &zlen);
	ck_assert_int_lt(zlen, len);
	test_scene(z, zlen, TEST_WHOLE, 2, 304);
	test_scene(z, zlen, TEST_BYTES, 2, 304);
	test_scene(z, zlen, TEST_RANDOM, 2, 304);
	free(z);

	z = test_zstd(p, len, 0, &zlen);
	ck_assert_int_lt(zlen, len);
	test_scene(z, zlen, TEST_WHOLE, 2, 304);
	test_scene(z, zlen, TEST_BYTES, 2, 304);
	free(z);

	z = test_zstd(p, len, 1, &zlen);
	test_scene(z, zlen, TEST_WHOLE, 2, 304);
	test_scene(z, zlen, TEST_RANDOM, 2, 304);
	free(z);
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_truncated)
{
	struct blendbuild	*bb;
	const unsigned char	*p;
	unsigned char		*z;
	size_t			 len, zlen, cut;

	bb = test_build(0);
	p = blendbuild_data(bb, &len);
	test_refused(p, 0, TEST_WHOLE, "not a .blend file");
	test_refused(p, 3, TEST_WHOLE, "not a .blend file");
	test_refused(p, 11, TEST_WHOLE, "not a .blend file");
	for (cut = 12; cut < len; cut += (len - cut > 64 ? 37 : 1))
		test_refused(p, cut, TEST_WHOLE, "truncated");

	z = test_zstd(p, len, 0, &zlen);
	for (cut = 0; cut < zlen / 2; cut += 11)
		test_refused(z, cut, TEST_WHOLE, NULL);
	for (; cut < zlen; cut++)
		test_cut(z, cut);
	free(z);
	z = test_gzip(p, len, &zlen);
	for (cut = 0; cut < zlen / 2; cut += 11)
		test_refused(z, cut, TEST_WHOLE, NULL);
	for (; cut < zlen; cut++)
		test_cut(z, cut);
	free(z);
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_not_blend)
{
	static const char *const texts[] = { "hello, world",
	    "BLENDER", "BLENDER_x304", "BLENDERx_v304", "BLENDER_v3a4",
	    "BLENDER17-02v0405", "\x1f\x8bnot gzip at all",
	    "\x28\xb5\x2f\xfdnot zstd at all" };
	size_t	i;

	for (i = 0; i < nitems(texts); i++) {
		test_refused((const unsigned char *)texts[i],
		    strlen(texts[i]), TEST_WHOLE, NULL);
	}
	test_refused((const unsigned char *)"hello, world", 12, TEST_BYTES,
	    "not a .blend file");
}
END_TEST

/* A copy of a scene file with one change made at an offset. */
static unsigned char *
test_patched(struct blendbuild *bb, size_t at, const void *bytes, size_t n,
    size_t *len)
{
	const unsigned char	*p = blendbuild_data(bb, len);
	unsigned char		*c = xmalloc(*len);

	memcpy(c, p, *len);
	memcpy(c + at, bytes, n);
	return c;
}

START_TEST(test_blendfile_bad_sdna)
{
	struct blendbuild	*bb;
	unsigned char		*c;
	size_t			 len, body, i;
	unsigned		 seed = 3;
	struct blendtest_result	 r;

	/* The DNA1 body starts after its 20-byte block header. */
	bb = test_build(0);
	body = blendbuild_dna_offset(bb) + 20;

	/* A huge count of names. */
	c = test_patched(bb, body + 8, "\xff\xff\xff\x7f", 4, &len);
	test_refused(c, len, TEST_WHOLE, "malformed");
	free(c);
	/* No SDNA mark. */
	c = test_patched(bb, body, "XDNA", 4, &len);
	test_refused(c, len, TEST_WHOLE, "malformed");
	free(c);
	/* A DNA1 block that claims more than the file. */
	c = test_patched(bb, body - 16, "\xff\xff\xff\x00", 4, &len);
	test_refused(c, len, TEST_WHOLE, "truncated");
	free(c);

	/* Random damage anywhere in DNA1 must never crash. */
	for (i = 0; i < 3000; i++) {
		size_t		at;
		unsigned char	b;

		c = test_patched(bb, 0, "B", 1, &len);
		at = body + rand_r(&seed) % (len - body - 20);
		b = rand_r(&seed);
		c[at] = c[at] == b ? b ^ 0xff : b;
		test_read(c, len, TEST_WHOLE, 1, &r);
		blendtest_result_free(&r);
		free(c);
	}
	/* And anywhere in the file. */
	for (i = 0; i < 1000; i++) {
		size_t	at;

		c = test_patched(bb, 0, "B", 1, &len);
		at = rand_r(&seed) % len;
		c[at] ^= 1 << (rand_r(&seed) % 8);
		test_read(c, len, TEST_WHOLE, 1, &r);
		blendtest_result_free(&r);
		free(c);
	}
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_bad_blocks)
{
	struct blendbuild	*bb;
	const unsigned char	*p;
	unsigned char		*b;
	size_t			 len;

	/* A struct number the SDNA does not have. */
	bb = blendbuild_new(0);
	b = blendbuild_struct(bb, "Image", 1);
	blendbuild_raw(bb, "IM", 500, b, blendbuild_size(bb, "Image"), 1);
	free(b);
	blendbuild_dna(bb);
	blendbuild_end(bb);
	p = blendbuild_data(bb, &len);
	test_refused(p, len, TEST_WHOLE, "not defined");
	blendbuild_free(bb);

	/* More structs than the block holds. */
	bb = blendbuild_new(0);
	b = blendbuild_struct(bb, "Image", 1);
	blendbuild_raw(bb, "IM", 2, b, blendbuild_size(bb, "Image"), 3);
	free(b);
	blendbuild_dna(bb);
	blendbuild_end(bb);
	p = blendbuild_data(bb, &len);
	test_refused(p, len, TEST_WHOLE, "shorter");
	blendbuild_free(bb);

	/* A negative length. */
	bb = blendbuild_new(0);
	blendbuild_raw(bb, "IM", 2, NULL, 0xffffff00, 1);
	p = blendbuild_data(bb, &len);
	test_refused(p, len, TEST_WHOLE, "malformed");
	blendbuild_free(bb);

	/* ID blocks beyond what may be kept: refused before any is read. */
	bb = blendbuild_new(BLENDBUILD_LARGE);
	blendbuild_raw(bb, "IM", 2, NULL, 0, 1);
	p = blendbuild_data(bb, &len);
	b = xmalloc(len);
	memcpy(b, p, len);
	/* The 64-bit length of the block, at 17 + 16. */
	memcpy(b + 17 + 16, "\x00\x00\x00\x10\x00\x00\x00\x00", 8);
	test_refused(b, len, TEST_WHOLE, "MiB");
	free(b);
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_small)
{
	struct blendbuild	*bb;
	const unsigned char	*p;
	size_t			 len;

	/* The small form, which the fuzz seeds use, reads the same. */
	bb = test_build(BLENDBUILD_SMALL | BLENDBUILD_PTR8);
	p = blendbuild_data(bb, &len);
	ck_assert_int_lt(len, 8192);
	test_scene(p, len, TEST_RANDOM, 2, 304);
	blendbuild_free(bb);
}
END_TEST

START_TEST(test_blendfile_names)
{
	struct blendbuild	*bb;
	struct blendfile	*bf;
	const unsigned char	*p;
	char			*cause = NULL;
	size_t			 len;

	ck_assert_str_eq(blenddep_kind_name(BLENDDEP_OCEAN), "ocean");
	ck_assert_str_eq(blenddep_form_name(BLENDDEP_FOLDER), "folder");

	/* The point cache folder is named after the file, sans .blend. */
	bb = test_build(BLENDBUILD_DNAFIRST);
	p = blendbuild_data(bb, &len);
	bf = blendfile_new("take2");
	ck_assert_int_eq(blendfile_feed(bf, p, len, &cause), 0);
	ck_assert_int_eq(blendfile_end(bf, &cause), 0);
	ck_assert_str_eq(blendfile_dep(bf, 15)->path, "//blendcache_take2/");
	ck_assert_str_eq(blendfile_dep(bf, 15)->owner, "cache1");
	blendfile_free(bf);
	blendbuild_free(bb);
}
END_TEST

/* The .blend reader suite, for unit.c. */
Suite *
blendfile_suite(void)
{
	Suite	*s = suite_create("blendfile");
	TCase	*good = tcase_create("good"), *bad = tcase_create("bad");

	tcase_add_test(good, test_blendfile_layouts);
	tcase_add_test(good, test_blendfile_large_header);
	tcase_add_test(good, test_blendfile_dna_first);
	tcase_add_test(good, test_blendfile_no_second_pass);
	tcase_add_test(good, test_blendfile_many);
	tcase_add_test(good, test_blendfile_splits);
	tcase_add_test(good, test_blendfile_compressed);
	tcase_add_test(good, test_blendfile_small);
	tcase_add_test(good, test_blendfile_names);
	tcase_set_timeout(good, 60);
	suite_add_tcase(s, good);

	tcase_add_test(bad, test_blendfile_truncated);
	tcase_add_test(bad, test_blendfile_not_blend);
	tcase_add_test(bad, test_blendfile_bad_sdna);
	tcase_add_test(bad, test_blendfile_bad_blocks);
	tcase_set_timeout(bad, 60);
	suite_add_tcase(s, bad);
	return s;
}
