/*
 * test-picture.c: unit tests of the console's pictures: the fit of a
 * source into a box, the box filter, the terminal colours and shades, the
 * header reader for every format Blender writes, PNG and JPEG files
 * written here and decoded by the previewer's thread, and pictures drawn
 * on curses screens that write nowhere.
 */
#include "bdfarm.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* After stdio.h, for FILE. */
#include <jpeglib.h>
#include <png.h>

#include "console-pane.h"
#include "picture.h"
#include "preview.h"
#include "unit.h"

/* The four colours of the test images' quadrants, clockwise. */
static const uint8_t test_picture_quad[4][3] = {
	{ 255, 0, 0 },		/* top left */
	{ 0, 255, 0 },		/* top right */
	{ 255, 255, 255 },	/* bottom right */
	{ 0, 0, 255 }		/* bottom left */
};

/* The quadrant colour of pixel x, y of a w × h image. */
static const uint8_t *
test_picture_quadrant(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	if (y < h / 2)
		return test_picture_quad[x < w / 2 ? 0 : 1];
	return test_picture_quad[x < w / 2 ? 3 : 2];
}

/* Check pixel x, y of pic against want, within tolerance. */
static void
test_picture_pixel(const struct picture *pic, int x, int y,
    const uint8_t *want, int tolerance)
{
	const uint8_t	*p;
	int		 i;

	ck_assert_int_lt(x, pic->width);
	ck_assert_int_lt(y, pic->height);
	p = pic->rgb + ((size_t)y * pic->width + x) * 3;
	for (i = 0; i < 3; i++)
		ck_assert_msg(abs(p[i] - want[i]) <= tolerance, "pixel %d,%d "
		    "is %u,%u,%u, not %u,%u,%u", x, y, p[0], p[1], p[2],
		    want[0], want[1], want[2]);
}

/* Check the four corners of a grid of the quadrant image. */
static void
test_picture_corners(const struct picture *pic, int tolerance)
{
	int	w = pic->width, h = pic->height;

	test_picture_pixel(pic, 0, 0, test_picture_quad[0], tolerance);
	test_picture_pixel(pic, w - 1, 0, test_picture_quad[1], tolerance);
	test_picture_pixel(pic, w - 1, h - 1, test_picture_quad[2],
	    tolerance);
	test_picture_pixel(pic, 0, h - 1, test_picture_quad[3], tolerance);
}

/* Scale a w × h quadrant image to gw × gh through the box filter. */
static void
test_picture_scale_quadrants(uint32_t w, uint32_t h, int gw, int gh,
    struct picture *pic)
{
	struct picture_scale	 s;
	uint8_t			*row;
	uint32_t		 x, y;
	char			*cause = NULL;

	row = malloc((size_t)w * 3);
	ck_assert_ptr_nonnull(row);
	ck_assert_int_eq(picture_scale_start(&s, pic, w, h, gw, gh, &cause),
	    0);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++)
			memcpy(row + x * 3, test_picture_quadrant(x, y, w, h),
			    3);
		picture_scale_row(&s, row, 3);
	}
	picture_scale_end(&s);
	free(row);
}

START_TEST(test_picture_fit_sizes)
{
	static const struct {
		uint32_t	sw, sh;
		int		cols, rows, w, h;
	} fits[] = {
		{ 1920, 1080, 100, 40, 100, 56 },
		{ 1080, 1920, 100, 40, 45, 80 },
		{ 3840, 2160, 100, 40, 100, 56 },
		{ 100, 100, 100, 40, 80, 80 },
		/* Never enlarged, and a pixel at the least. */
		{ 1, 1, 100, 40, 1, 1 },
		{ 2, 2, 100, 40, 2, 2 },
		{ 100000, 1, 100, 40, 100, 1 },
		{ 1, 100000, 100, 40, 1, 80 },
		{ UINT32_MAX, UINT32_MAX, 1, 1, 1, 1 },
		{ UINT32_MAX, 1, 1000, 1000, 1000, 1 },
	};
	size_t	i;
	int	w, h;

	for (i = 0; i < nitems(fits); i++) {
		ck_assert_int_eq(picture_fit(fits[i].sw, fits[i].sh,
		    fits[i].cols, fits[i].rows, &w, &h), 0);
		ck_assert_msg(w == fits[i].w && h == fits[i].h, "%u×%u in "
		    "%d×%d cells: %d×%d, not %d×%d", fits[i].sw, fits[i].sh,
		    fits[i].cols, fits[i].rows, w, h, fits[i].w, fits[i].h);
	}
	ck_assert_int_eq(picture_fit(0, 10, 100, 40, &w, &h), -1);
	ck_assert_int_eq(picture_fit(10, 10, 0, 40, &w, &h), -1);
	ck_assert_int_eq(picture_fit(10, 10, 100, 0, &w, &h), -1);
}
END_TEST

START_TEST(test_picture_scale_quadrant_cells)
{
	struct picture	pic;
	int		x, y;

	memset(&pic, 0, sizeof pic);
	test_picture_scale_quadrants(40, 20, 4, 2, &pic);
	ck_assert_int_eq(pic.width, 4);
	ck_assert_int_eq(pic.height, 2);
	for (y = 0; y < 2; y++) {
		for (x = 0; x < 4; x++)
			test_picture_pixel(&pic, x, y, test_picture_quadrant(
			    (uint32_t)x, (uint32_t)y, 4, 2), 0);
	}
	test_picture_scale_quadrants(2, 2, 2, 2, &pic);
	test_picture_corners(&pic, 0);
	test_picture_scale_quadrants(1000, 500, 100, 50, &pic);
	test_picture_corners(&pic, 0);
	picture_free(&pic);
	ck_assert_ptr_null(pic.rgb);
}
END_TEST

START_TEST(test_picture_scale_average)
{
	struct picture		pic;
	struct picture_scale	s;
	static const uint8_t	bw[] = { 0, 0, 0, 255, 255, 255 };
	static const uint8_t	grey[] = { 128, 128, 128 };
	char			*cause = NULL;

	memset(&pic, 0, sizeof pic);
	ck_assert_int_eq(picture_scale_start(&s, &pic, 2, 1, 1, 1, &cause),
	    0);
	picture_scale_row(&s, bw, 3);
	picture_scale_row(&s, bw, 3);
	picture_scale_end(&s);
	test_picture_pixel(&pic, 0, 0, grey, 0);
	picture_free(&pic);
}
END_TEST

START_TEST(test_picture_scale_channels)
{
	struct picture		pic;
	struct picture_scale	s;
	static const uint8_t	grey[] = { 200, 10, 0 };
	static const uint8_t	grey_alpha[] = { 200, 255, 200, 0 };
	static const uint8_t	rgba[] = { 10, 20, 30, 255, 10, 20, 30, 0 };
	static const uint8_t	want_grey[] = { 200, 200, 200 };
	static const uint8_t	want_rgb[] = { 10, 20, 30 };
	static const uint8_t	want_backdrop[] = { PICTURE_BACKDROP,
	    PICTURE_BACKDROP, PICTURE_BACKDROP };
	char			*cause = NULL;

	memset(&pic, 0, sizeof pic);
	ck_assert_int_eq(picture_scale_start(&s, &pic, 1, 1, 1, 1, &cause),
	    0);
	picture_scale_row(&s, grey, 1);
	picture_scale_end(&s);
	test_picture_pixel(&pic, 0, 0, want_grey, 0);

	ck_assert_int_eq(picture_scale_start(&s, &pic, 2, 1, 2, 1, &cause),
	    0);
	picture_scale_row(&s, grey_alpha, 2);
	picture_scale_end(&s);
	test_picture_pixel(&pic, 0, 0, want_grey, 0);
	test_picture_pixel(&pic, 1, 0, want_backdrop, 0);

	ck_assert_int_eq(picture_scale_start(&s, &pic, 2, 1, 2, 1, &cause),
	    0);
	picture_scale_row(&s, rgba, 4);
	picture_scale_row(&s, rgba, 4);
	picture_scale_end(&s);
	test_picture_pixel(&pic, 0, 0, want_rgb, 0);
	test_picture_pixel(&pic, 1, 0, want_backdrop, 0);
	picture_free(&pic);
}
END_TEST

START_TEST(test_picture_scale_refused)
{
	struct picture		pic;
	struct picture_scale	s;
	char			*cause = NULL;

	memset(&pic, 0, sizeof pic);
	ck_assert_int_eq(picture_scale_start(&s, &pic, 10, 10, 11, 10,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(picture_scale_start(&s, &pic, 100000, 1, 10, 1,
	    &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(picture_scale_start(&s, &pic, 10, 10, 0, 1, &cause),
	    -1);
	free(cause);
	ck_assert_ptr_null(pic.rgb);
}
END_TEST

START_TEST(test_picture_xterm256_palette)
{
	ck_assert_int_eq(picture_xterm256(255, 0, 0), 196);
	ck_assert_int_eq(picture_xterm256(0, 255, 0), 46);
	ck_assert_int_eq(picture_xterm256(0, 0, 255), 21);
	ck_assert_int_eq(picture_xterm256(255, 255, 255), 231);
	ck_assert_int_eq(picture_xterm256(0, 0, 0), 16);
	ck_assert_int_eq(picture_xterm256(95, 135, 175), 16 + 36 + 12 + 3);
	ck_assert_int_eq(picture_xterm256(128, 128, 128), 244);
	ck_assert_int_eq(picture_xterm256(8, 8, 8), 232);
	ck_assert_int_eq(picture_xterm256(238, 238, 238), 255);
	ck_assert_int_eq(picture_xterm256(118, 118, 118), 243);
	ck_assert_int_eq(picture_xterm256(60, 60, 61), 237);
}
END_TEST

START_TEST(test_picture_ansi_colours)
{
	ck_assert_int_eq(picture_ansi(255, 0, 0, 16), 9);
	ck_assert_int_eq(picture_ansi(255, 0, 0, 8), 1);
	ck_assert_int_eq(picture_ansi(0, 0, 0, 8), 0);
	ck_assert_int_eq(picture_ansi(255, 255, 255, 16), 15);
	ck_assert_int_eq(picture_ansi(255, 255, 255, 8), 7);
	ck_assert_int_eq(picture_ansi(0, 0, 230, 16), 4);
}
END_TEST

START_TEST(test_picture_shade_ramp)
{
	ck_assert_int_eq(picture_shade(0, 0, 0), ' ');
	ck_assert_int_eq(picture_shade(255, 255, 255), '@');
	ck_assert_int_eq(picture_shade(128, 128, 128), '+');
	ck_assert_int_eq(picture_shade(0, 255, 0), '#');
	ck_assert_int_eq(picture_shade(0, 0, 255), ' ');
	ck_assert_int_eq(picture_shade(40, 40, 40), '.');
}
END_TEST

/* Put a 16- or 32-bit number at p in either byte order. */
static void
test_picture_put(uint8_t *p, uint32_t v, int bytes, int big)
{
	int	i;

	for (i = 0; i < bytes; i++)
		p[big ? bytes - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

/*
 * Check that the header of len bytes reads as format of w × h, and that
 * each shorter part of it is read without going past its end.
 */
static void
test_picture_probed(const uint8_t *head, size_t len, const char *name,
    const char *format, uint32_t w, uint32_t h)
{
	char		 got[16];
	uint8_t		*part;
	uint32_t	 gw, gh;
	size_t		 n;

	ck_assert_int_eq(picture_probe(head, len, name, got, sizeof got, &gw,
	    &gh), 0);
	ck_assert_str_eq(got, format);
	ck_assert_msg(gw == w && gh == h, "%s: %u×%u, not %u×%u", format, gw,
	    gh, w, h);
	for (n = 0; n < len; n++) {
		part = malloc(n > 0 ? n : 1);
		ck_assert_ptr_nonnull(part);
		memcpy(part, head, n);
		if (picture_probe(part, n, name, got, sizeof got, &gw,
		    &gh) == 0) {
			ck_assert_str_eq(got, format);
			ck_assert(gw == 0 || gw == w);
			ck_assert(gh == 0 || gh == h);
		}
		free(part);
	}
}

START_TEST(test_picture_probe_png_jpeg)
{
	uint8_t	png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	    0, 0, 0, 13, 'I', 'H', 'D', 'R' };
	uint8_t	jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',
	    0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xff, 0xc2, 0, 17, 8,
	    0x04, 0x38, 0x07, 0x80, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1 };

	test_picture_put(png + 16, 1920, 4, 1);
	test_picture_put(png + 20, 1080, 4, 1);
	test_picture_probed(png, sizeof png, "0001.png", "PNG", 1920, 1080);
	test_picture_probed(jpeg, sizeof jpeg, "0001.jpg", "JPEG", 1920,
	    1080);
}
END_TEST

START_TEST(test_picture_probe_bmp_tga_iris)
{
	uint8_t	bmp[54] = { 'B', 'M' }, core[26] = { 'B', 'M' };
	uint8_t	tga[18] = { 0, 0, 2 }, iris[512] = { 0x01, 0xda, 0, 1, 0, 3 };
	char	format[16];
	uint32_t w, h;

	test_picture_put(bmp + 14, 40, 4, 0);
	test_picture_put(bmp + 18, 640, 4, 0);
	test_picture_put(bmp + 22, (uint32_t)-480, 4, 0);
	test_picture_probed(bmp, sizeof bmp, "a.bmp", "BMP", 640, 480);
	test_picture_put(core + 14, 12, 4, 0);
	test_picture_put(core + 18, 320, 2, 0);
	test_picture_put(core + 20, 200, 2, 0);
	test_picture_probed(core, sizeof core, "a.bmp", "BMP", 320, 200);

	test_picture_put(tga + 12, 1280, 2, 0);
	test_picture_put(tga + 14, 720, 2, 0);
	test_picture_probed(tga, sizeof tga, "/r/0001.tga", "TARGA", 1280,
	    720);
	test_picture_probed(tga, sizeof tga, "0001.TGA", "TARGA", 1280, 720);
	ck_assert_int_eq(picture_probe(tga, sizeof tga, "0001.dat", format,
	    sizeof format, &w, &h), -1);
	ck_assert_int_eq(picture_probe(tga, sizeof tga, NULL, format,
	    sizeof format, &w, &h), -1);

	test_picture_put(iris + 6, 800, 2, 1);
	test_picture_put(iris + 8, 600, 2, 1);
	test_picture_probed(iris, 16, "0001.rgb", "IRIS", 800, 600);
}
END_TEST

/* Add an OpenEXR attribute to the header at *p. */
static void
test_picture_exr_attr(uint8_t **p, const char *name, const char *type,
    const uint8_t *value, uint32_t size)
{
	memcpy(*p, name, strlen(name) + 1);
	*p += strlen(name) + 1;
	memcpy(*p, type, strlen(type) + 1);
	*p += strlen(type) + 1;
	test_picture_put(*p, size, 4, 0);
	*p += 4;
	memcpy(*p, value, size);
	*p += size;
}

START_TEST(test_picture_probe_exr_hdr)
{
	uint8_t		 exr[256] = { 0x76, 0x2f, 0x31, 0x01, 2 }, box[16];
	uint8_t		*p = exr + 8;
	static const uint8_t comp[1] = { 3 };
	const char	*hdr = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n"
	    "-Y 1080 +X 1920\n";
	const char	*rgbe = "#?RGBE\n\n+X 64 -Y 32\n";

	test_picture_exr_attr(&p, "compression", "compression", comp, 1);
	test_picture_put(box, (uint32_t)-10, 4, 0);
	test_picture_put(box + 4, 5, 4, 0);
	test_picture_put(box + 8, 1909, 4, 0);
	test_picture_put(box + 12, 1084, 4, 0);
	test_picture_exr_attr(&p, "dataWindow", "box2i", box, 16);
	*p++ = '\0';
	test_picture_probed(exr, (size_t)(p - exr), "0001.exr", "OpenEXR",
	    1920, 1080);

	test_picture_probed((const uint8_t *)hdr, strlen(hdr), "0001.hdr",
	    "Radiance HDR", 1920, 1080);
	test_picture_probed((const uint8_t *)rgbe, strlen(rgbe), "0001.hdr",
	    "Radiance HDR", 64, 32);
}
END_TEST

/* Build a TIFF header in either byte order with its size in tags. */
static size_t
test_picture_tiff(uint8_t *t, int big, uint32_t w, uint32_t h)
{
	memset(t, 0, 64);
	memcpy(t, big ? "MM\0*" : "II*\0", 4);
	test_picture_put(t + 4, 8, 4, big);
	test_picture_put(t + 8, 3, 2, big);
	/* NewSubfileType, then ImageWidth as LONG, ImageLength as SHORT. */
	test_picture_put(t + 10, 254, 2, big);
	test_picture_put(t + 12, 4, 2, big);
	test_picture_put(t + 14, 1, 4, big);
	test_picture_put(t + 22, 256, 2, big);
	test_picture_put(t + 24, 4, 2, big);
	test_picture_put(t + 26, 1, 4, big);
	test_picture_put(t + 30, w, 4, big);
	test_picture_put(t + 34, 257, 2, big);
	test_picture_put(t + 36, 3, 2, big);
	test_picture_put(t + 38, 1, 4, big);
	test_picture_put(t + 42, h, 2, big);
	return 50;
}

START_TEST(test_picture_probe_tiff_dpx_cineon)
{
	uint8_t	tiff[64], dpx[1024], cin[1024];
	size_t	len;
	int	big;

	for (big = 0; big < 2; big++) {
		len = test_picture_tiff(tiff, big, 70000, 480);
		test_picture_probed(tiff, len, "0001.tif", "TIFF", 70000, 480);

		memset(dpx, 0, sizeof dpx);
		memcpy(dpx, big ? "SDPX" : "XPDS", 4);
		test_picture_put(dpx + 772, 2048, 4, big);
		test_picture_put(dpx + 776, 1556, 4, big);
		test_picture_probed(dpx, 780, "0001.dpx", "DPX", 2048, 1556);

		memset(cin, 0, sizeof cin);
		test_picture_put(cin, 0x802a5fd7, 4, big);
		test_picture_put(cin + 200, 2048, 4, big);
		test_picture_put(cin + 204, 1556, 4, big);
		test_picture_probed(cin, 208, "0001.cin", "Cineon", 2048,
		    1556);
	}
}
END_TEST

START_TEST(test_picture_probe_jp2_webp)
{
	uint8_t	jp2[64] = { 0, 0, 0, 12, 'j', 'P', ' ', ' ', '\r', '\n',
	    0x87, '\n', 0, 0, 0, 20, 'f', 't', 'y', 'p', 'j', 'p', '2', ' ',
	    0, 0, 0, 0, 'j', 'p', '2', ' ', 0, 0, 0, 30, 'j', 'p', '2', 'h',
	    0, 0, 0, 22, 'i', 'h', 'd', 'r' };
	uint8_t	j2k[24] = { 0xff, 0x4f, 0xff, 0x51, 0, 41 };
	uint8_t	vp8[30] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B',
	    'P', 'V', 'P', '8', ' ', 0, 0, 0, 0, 0, 0, 0, 0x9d, 0x01, 0x2a };
	uint8_t	vp8l[30] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B',
	    'P', 'V', 'P', '8', 'L', 0, 0, 0, 0, 0x2f };
	uint8_t	vp8x[30] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B',
	    'P', 'V', 'P', '8', 'X', 10 };

	test_picture_put(jp2 + 48, 1080, 4, 1);
	test_picture_put(jp2 + 52, 1920, 4, 1);
	test_picture_probed(jp2, 64, "0001.jp2", "JPEG 2000", 1920, 1080);
	test_picture_put(j2k + 8, 2000, 4, 1);
	test_picture_put(j2k + 12, 1200, 4, 1);
	test_picture_put(j2k + 16, 80, 4, 1);
	test_picture_put(j2k + 20, 120, 4, 1);
	test_picture_probed(j2k, sizeof j2k, "0001.j2c", "JPEG 2000", 1920,
	    1080);

	test_picture_put(vp8 + 26, 1920, 2, 0);
	test_picture_put(vp8 + 28, 1080, 2, 0);
	test_picture_probed(vp8, sizeof vp8, "0001.webp", "WebP", 1920, 1080);
	test_picture_put(vp8l + 21, (1920 - 1) | (1080 - 1) << 14, 4, 0);
	test_picture_probed(vp8l, sizeof vp8l, "0001.webp", "WebP", 1920,
	    1080);
	test_picture_put(vp8x + 24, 4096 - 1, 3, 0);
	test_picture_put(vp8x + 27, 2160 - 1, 3, 0);
	test_picture_probed(vp8x, sizeof vp8x, "0001.webp", "WebP", 4096,
	    2160);
}
END_TEST

START_TEST(test_picture_probe_unknown)
{
	static const uint8_t	text[] = "just some text\n";
	char			format[16] = "unchanged";
	uint32_t		w = 1, h = 1;

	ck_assert_int_eq(picture_probe(text, sizeof text - 1, "a.txt", format,
	    sizeof format, &w, &h), -1);
	ck_assert_int_eq(picture_probe(text, 0, "a.png", format,
	    sizeof format, &w, &h), -1);
	ck_assert_str_eq(format, "unchanged");
}
END_TEST

/* The folder the decoder tests write their images in. */
static char test_picture_dir[] = "/tmp/bdfarm-picture.XXXXXX";

/* The loop the previewers of a test hand their results to. */
static struct event_base *test_picture_base;

/* Make the folder and the loop for one test. */
static void
test_picture_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(test_picture_dir));
	test_picture_base = event_base_new();
	ck_assert_ptr_nonnull(test_picture_base);
}

/* Remove the folder and what the test wrote in it, and the loop. */
static void
test_picture_teardown(void)
{
	char	cmd[128];

	event_base_free(test_picture_base);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_picture_dir);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(test_picture_dir + strlen(test_picture_dir) - 6, "XXXXXX", 6);
}

/* A path in the test folder, in a static buffer. */
static const char *
test_picture_path(const char *name)
{
	static char	path[256];

	snprintf(path, sizeof path, "%s/%s", test_picture_dir, name);
	return path;
}

/* Fill row y of a PNG of the quadrants; alpha is 0 on the right half. */
static void
test_picture_png_row(uint8_t *row, uint32_t y, uint32_t w, uint32_t h,
    int colour, int bytes)
{
	const uint8_t	*q;
	uint32_t	 x;
	unsigned	 v[4];
	int		 i, n;

	for (x = 0; x < w; x++) {
		q = test_picture_quadrant(x, y, w, h);
		n = 0;
		if (colour & PNG_COLOR_MASK_COLOR) {
			v[n++] = q[0];
			v[n++] = q[1];
			v[n++] = q[2];
		} else
			v[n++] = (q[0] + q[1] + q[2]) / 3;
		if (colour & PNG_COLOR_MASK_ALPHA)
			v[n++] = x < w / 2 ? 255 : 0;
		for (i = 0; i < n; i++) {
			if (bytes == 2) {
				row[(x * n + i) * 2] = (uint8_t)v[i];
				row[(x * n + i) * 2 + 1] = (uint8_t)v[i];
			} else
				row[x * n + i] = (uint8_t)v[i];
		}
	}
}

/*
 * Write a w × h PNG of the quadrants: colour is PNG_COLOR_TYPE_*, depth 8
 * or 16, interlaced (Adam7) or not.
 */
static void
test_picture_write_png(const char *name, uint32_t w, uint32_t h,
    int colour, int depth, int interlace)
{
	png_structp	 png;
	png_infop	 info;
	FILE		*f;
	uint8_t		*row;
	uint32_t	 y;
	int		 passes, pass;

	f = fopen(test_picture_path(name), "wb");
	ck_assert_ptr_nonnull(f);
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png_create_info_struct(png);
	ck_assert(png != NULL && info != NULL);
	png_init_io(png, f);
	png_set_IHDR(png, info, w, h, depth, colour, interlace ?
	    PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	passes = interlace ? png_set_interlace_handling(png) : 1;
	row = malloc((size_t)w * png_get_channels(png, info) * (depth / 8));
	ck_assert_ptr_nonnull(row);
	for (pass = 0; pass < passes; pass++) {
		for (y = 0; y < h; y++) {
			test_picture_png_row(row, y, w, h, colour, depth / 8);
			png_write_row(png, row);
		}
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	ck_assert_int_eq(fclose(f), 0);
}

/* Write a w × h JPEG of the quadrants at high quality. */
static void
test_picture_write_jpeg(const char *name, uint32_t w, uint32_t h,
    int progressive)
{
	struct jpeg_compress_struct	 c;
	struct jpeg_error_mgr		 err;
	FILE				*f;
	uint8_t				*row;
	uint32_t			 x;

	f = fopen(test_picture_path(name), "wb");
	ck_assert_ptr_nonnull(f);
	c.err = jpeg_std_error(&err);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 100, TRUE);
	if (progressive)
		jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	row = malloc((size_t)w * 3);
	ck_assert_ptr_nonnull(row);
	while (c.next_scanline < h) {
		for (x = 0; x < w; x++)
			memcpy(row + x * 3, test_picture_quadrant(x,
			    c.next_scanline, w, h), 3);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	ck_assert_int_eq(fclose(f), 0);
}

/* Count the previewer's results; check each is for the path wanted. */
struct test_picture_wait {
	struct preview	*preview;
	char		*want;
	int		 calls;
};

/* The previewer's ready callback. */
static void
test_picture_ready(void *arg)
{
	struct test_picture_wait	*w = arg;
	const struct preview_result	*r = preview_get(w->preview);

	ck_assert_str_eq(r->path, w->want);
	w->calls++;
}

/* Run the loop until a result arrives, for some seconds at the most. */
static const struct preview_result *
test_picture_wait(struct test_picture_wait *w)
{
	struct timeval	tv = { 0, 10000 };
	int		i;

	for (i = 0; i < 3000 && w->calls == 0; i++) {
		event_base_loopexit(test_picture_base, &tv);
		event_base_dispatch(test_picture_base);
	}
	ck_assert_int_eq(w->calls, 1);
	return preview_get(w->preview);
}

/* Decode the named file in the test folder into a cols × rows box. */
static const struct preview_result *
test_picture_decode(struct test_picture_wait *w, const char *name,
    int cols, int rows)
{
	memset(w, 0, sizeof *w);
	w->preview = preview_new(test_picture_base, test_picture_ready, w);
	w->want = strdup(test_picture_path(name));
	ck_assert_ptr_nonnull(w->want);
	preview_request(w->preview, w->want, cols, rows);
	ck_assert_int_eq(preview_get(w->preview)->state, PREVIEW_DECODING);
	return test_picture_wait(w);
}

/* Forget a decoding test's previewer. */
static void
test_picture_done(struct test_picture_wait *w)
{
	preview_free(w->preview);
	free(w->want);
}

/* Check a ready picture's format, source size and grid size. */
static void
test_picture_ready_as(const struct preview_result *r, const char *format,
    uint32_t sw, uint32_t sh, int w, int h)
{
	ck_assert_int_eq(r->state, PREVIEW_READY);
	ck_assert_str_eq(r->picture.format, format);
	ck_assert_uint_eq(r->picture.src_width, sw);
	ck_assert_uint_eq(r->picture.src_height, sh);
	ck_assert_int_eq(r->picture.width, w);
	ck_assert_int_eq(r->picture.height, h);
}

/* Check that the named test file decodes to state. */
static void
test_picture_decode_state(const char *name, enum preview_state state)
{
	struct test_picture_wait	 w;

	ck_assert_int_eq(test_picture_decode(&w, name, 10, 5)->state,
	    state);
	test_picture_done(&w);
}

START_TEST(test_picture_decode_png)
{
	struct test_picture_wait	 w;
	const struct preview_result	*r;

	test_picture_write_png("rgb.png", 64, 32, PNG_COLOR_TYPE_RGB, 8, 0);
	r = test_picture_decode(&w, "rgb.png", 8, 2);
	test_picture_ready_as(r, "PNG", 64, 32, 8, 4);
	ck_assert_uint_gt(r->size, 0);
	test_picture_corners(&r->picture, 0);
	test_picture_pixel(&r->picture, 3, 1, test_picture_quad[0], 0);
	test_picture_pixel(&r->picture, 4, 2, test_picture_quad[2], 0);

	/* The same file in the same box is not decoded again. */
	preview_request(w.preview, w.want, 8, 2);
	ck_assert_int_eq(preview_get(w.preview)->state, PREVIEW_READY);

	/* Another file: the last picture shows until the new one is ready. */
	test_picture_write_png("next.png", 32, 16, PNG_COLOR_TYPE_RGB, 8, 0);
	free(w.want);
	w.want = strdup(test_picture_path("next.png"));
	ck_assert_ptr_nonnull(w.want);
	w.calls = 0;
	preview_request(w.preview, w.want, 8, 2);
	r = preview_get(w.preview);
	ck_assert_int_eq(r->state, PREVIEW_DECODING);
	ck_assert_ptr_nonnull(r->picture.rgb);
	ck_assert_int_eq(r->picture.width, 8);
	r = test_picture_wait(&w);
	test_picture_ready_as(r, "PNG", 32, 16, 8, 4);

	/* In another box, it does not: it would not fit. */
	preview_request(w.preview, test_picture_path("rgb.png"), 4, 1);
	ck_assert_int_eq(preview_get(w.preview)->state, PREVIEW_DECODING);
	ck_assert_ptr_null(preview_get(w.preview)->picture.rgb);
	test_picture_done(&w);
}
END_TEST

START_TEST(test_picture_decode_png_kinds)
{
	struct test_picture_wait	 w;
	const struct preview_result	*r;
	static const uint8_t		 backdrop[] = { PICTURE_BACKDROP,
	    PICTURE_BACKDROP, PICTURE_BACKDROP };
	static const uint8_t		 grey_red[] = { 85, 85, 85 };
	static const uint8_t		 grey_white[] = { 255, 255, 255 };

	test_picture_write_png("interlaced.png", 37, 21,
	    PNG_COLOR_TYPE_RGB, 8, 1);
	r = test_picture_decode(&w, "interlaced.png", 37, 11);
	ck_assert_int_eq(r->state, PREVIEW_READY);
	ck_assert_int_eq(r->picture.width, 37);
	ck_assert_int_eq(r->picture.height, 21);
	test_picture_corners(&r->picture, 0);
	test_picture_done(&w);

	test_picture_write_png("deep.png", 40, 20, PNG_COLOR_TYPE_RGB, 16, 0);
	r = test_picture_decode(&w, "deep.png", 4, 1);
	ck_assert_int_eq(r->state, PREVIEW_READY);
	test_picture_corners(&r->picture, 0);
	test_picture_done(&w);

	test_picture_write_png("alpha.png", 40, 20, PNG_COLOR_TYPE_RGBA, 8, 0);
	r = test_picture_decode(&w, "alpha.png", 4, 1);
	ck_assert_int_eq(r->state, PREVIEW_READY);
	test_picture_pixel(&r->picture, 0, 0, test_picture_quad[0], 0);
	test_picture_pixel(&r->picture, 0, 1, test_picture_quad[3], 0);
	test_picture_pixel(&r->picture, 3, 0, backdrop, 0);
	test_picture_pixel(&r->picture, 3, 1, backdrop, 0);
	test_picture_done(&w);

	test_picture_write_png("grey.png", 40, 20, PNG_COLOR_TYPE_GRAY, 8, 0);
	r = test_picture_decode(&w, "grey.png", 4, 1);
	ck_assert_int_eq(r->state, PREVIEW_READY);
	test_picture_pixel(&r->picture, 0, 0, grey_red, 0);
	test_picture_pixel(&r->picture, 3, 1, grey_white, 0);
	test_picture_done(&w);
}
END_TEST

START_TEST(test_picture_decode_jpeg)
{
	struct test_picture_wait	 w;
	const struct preview_result	*r;

	test_picture_write_jpeg("rgb.jpg", 256, 128, 0);
	r = test_picture_decode(&w, "rgb.jpg", 4, 1);
	test_picture_ready_as(r, "JPEG", 256, 128, 4, 2);
	test_picture_corners(&r->picture, 24);
	test_picture_done(&w);

	r = test_picture_decode(&w, "rgb.jpg", 100, 40);
	ck_assert_int_eq(r->state, PREVIEW_READY);
	ck_assert_int_eq(r->picture.width, 100);
	ck_assert_int_eq(r->picture.height, 50);
	test_picture_corners(&r->picture, 24);
	test_picture_done(&w);
}
END_TEST

/* Copy the first len bytes of the test file from to the test file to. */
static void
test_picture_truncate(const char *from, const char *to, long len)
{
	FILE	*in, *out;
	char	*buf;

	buf = malloc((size_t)len);
	ck_assert_ptr_nonnull(buf);
	in = fopen(test_picture_path(from), "rb");
	ck_assert_ptr_nonnull(in);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, in), (size_t)len);
	fclose(in);
	out = fopen(test_picture_path(to), "wb");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(buf, 1, (size_t)len, out), (size_t)len);
	ck_assert_int_eq(fclose(out), 0);
	free(buf);
}

/* Copy a test JPEG with the size its frame header says changed. */
static void
test_picture_resize_jpeg(const char *from, const char *to, uint32_t w,
    uint32_t h)
{
	FILE	*in, *out;
	uint8_t	 buf[65536];
	size_t	 len, i;

	in = fopen(test_picture_path(from), "rb");
	ck_assert_ptr_nonnull(in);
	len = fread(buf, 1, sizeof buf, in);
	fclose(in);
	for (i = 2; i + 9 <= len; i++) {
		if (buf[i] == 0xff && buf[i + 1] >= 0xc0 && buf[i + 1] <= 0xc2)
			break;
	}
	ck_assert_uint_lt(i + 9, len);
	test_picture_put(buf + i + 5, h, 2, 1);
	test_picture_put(buf + i + 7, w, 2, 1);
	out = fopen(test_picture_path(to), "wb");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(buf, 1, len, out), len);
	ck_assert_int_eq(fclose(out), 0);
}

/*
 * Write the header of an RGB PNG of w × h pixels, and an empty IDAT where
 * libpng stops reading the header, as the named test file.
 */
static void
test_picture_png_header(const char *name, uint32_t w, uint32_t h,
    int interlace)
{
	uint8_t	 head[45] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	    0, 0, 0, 13, 'I', 'H', 'D', 'R' };
	FILE	*f;

	test_picture_put(head + 16, w, 4, 1);
	test_picture_put(head + 20, h, 4, 1);
	head[24] = 8;
	head[25] = PNG_COLOR_TYPE_RGB;
	head[28] = (uint8_t)interlace;
	test_picture_put(head + 29, (uint32_t)crc32(0, head + 12, 17), 4, 1);
	memcpy(head + 37, "IDAT", 4);
	test_picture_put(head + 41, (uint32_t)crc32(0, head + 37, 4), 4, 1);
	f = fopen(test_picture_path(name), "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(head, 1, sizeof head, f), sizeof head);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_picture_decode_bad)
{
	struct test_picture_wait	 w;
	const struct preview_result	*r;

	test_picture_write_png("whole.png", 200, 100, PNG_COLOR_TYPE_RGB, 8,
	    0);
	test_picture_truncate("whole.png", "cut.png", 200);
	r = test_picture_decode(&w, "cut.png", 10, 5);
	ck_assert_int_eq(r->state, PREVIEW_ERROR);
	ck_assert_ptr_nonnull(r->error);
	ck_assert_ptr_null(r->picture.rgb);
	test_picture_done(&w);

	/* 100000 × 100000: refused before anything is allocated for it. */
	test_picture_png_header("huge.png", 100000, 100000, 0);
	r = test_picture_decode(&w, "huge.png", 100, 40);
	ck_assert_int_eq(r->state, PREVIEW_ERROR);
	ck_assert_msg(strstr(r->error, "too large") != NULL, "%s", r->error);
	ck_assert_int_eq(r->picture.src_width, 100000);
	test_picture_done(&w);

	/* Interlaced, it would be held whole: 8000 × 8000 is too much. */
	test_picture_png_header("adam7.png", 8000, 8000, 1);
	r = test_picture_decode(&w, "adam7.png", 100, 40);
	ck_assert_int_eq(r->state, PREVIEW_ERROR);
	ck_assert_msg(strstr(r->error, "too large") != NULL, "%s", r->error);
	test_picture_done(&w);

	/*
	 * A progressive JPEG holds the whole image's coefficients: one that
	 * claims 16000 × 16000 pixels is refused by libjpeg's memory limit.
	 */
	test_picture_write_jpeg("small.jpg", 16, 16, 1);
	test_picture_resize_jpeg("small.jpg", "claims.jpg", 16000, 16000);
	test_picture_decode_state("claims.jpg", PREVIEW_ERROR);

	test_picture_truncate("whole.png", "text.txt", 3);
	test_picture_decode_state("text.txt", PREVIEW_ERROR);
}
END_TEST

START_TEST(test_picture_decode_other)
{
	struct test_picture_wait	 w;
	const struct preview_result	*r;
	uint8_t				 dpx[2048] = { 'S', 'D', 'P', 'X' };
	FILE				*f;

	test_picture_put(dpx + 772, 2048, 4, 1);
	test_picture_put(dpx + 776, 1080, 4, 1);
	f = fopen(test_picture_path("0001.dpx"), "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(dpx, 1, sizeof dpx, f), sizeof dpx);
	ck_assert_int_eq(fclose(f), 0);
	r = test_picture_decode(&w, "0001.dpx", 100, 40);
	ck_assert_int_eq(r->state, PREVIEW_OTHER);
	ck_assert_str_eq(r->picture.format, "DPX");
	ck_assert_int_eq(r->picture.src_width, 2048);
	ck_assert_int_eq(r->picture.src_height, 1080);
	ck_assert_uint_eq(r->size, sizeof dpx);
	ck_assert_ptr_null(r->picture.rgb);
	test_picture_done(&w);

	/* A missing file is an error at once, with no thread. */
	memset(&w, 0, sizeof w);
	w.preview = preview_new(test_picture_base, test_picture_ready, &w);
	preview_request(w.preview, test_picture_path("none.png"), 10, 5);
	ck_assert_int_eq(preview_get(w.preview)->state, PREVIEW_ERROR);
	preview_free(w.preview);
}
END_TEST

START_TEST(test_picture_decode_superseded)
{
	struct test_picture_wait	 w;
	const struct preview_result	*r;
	struct inotify_event		 ev;
	struct pollfd			 pfd;
	char				*first;
	int				 i, in;

	test_picture_write_png("first.png", 600, 400, PNG_COLOR_TYPE_RGB, 8,
	    0);
	test_picture_write_jpeg("second.jpg", 64, 32, 0);
	first = strdup(test_picture_path("first.png"));
	ck_assert_ptr_nonnull(first);

	memset(&w, 0, sizeof w);
	w.preview = preview_new(test_picture_base, test_picture_ready, &w);
	w.want = strdup(test_picture_path("second.jpg"));
	ck_assert_ptr_nonnull(w.want);

	/*
	 * The second request comes once the worker has opened the first
	 * file: whatever it makes of that must be dropped.
	 */
	for (i = 0; i < 5; i++) {
		w.calls = 0;
		in = inotify_init1(IN_CLOEXEC);
		ck_assert_int_ge(in, 0);
		ck_assert_int_ge(inotify_add_watch(in, first, IN_OPEN), 0);
		preview_request(w.preview, first, 10 + i, 5);
		pfd.fd = in;
		pfd.events = POLLIN;
		ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
		ck_assert_int_gt(read(in, &ev, sizeof ev), 0);
		preview_request(w.preview, w.want, 10, 5);
		close(in);
		r = test_picture_wait(&w);
		ck_assert_int_eq(r->state, PREVIEW_READY);
		ck_assert_str_eq(r->picture.format, "JPEG");
	}

	/* One request after the other, without waiting. */
	for (i = 0; i < 20; i++) {
		w.calls = 0;
		preview_request(w.preview, first, 10 + i, 5);
		preview_request(w.preview, w.want, 10, 5);
		r = test_picture_wait(&w);
		ck_assert_int_eq(r->state, PREVIEW_READY);
		ck_assert_str_eq(r->picture.format, "JPEG");
	}

	/* Superseded and then freed while decoding: nothing leaks. */
	preview_request(w.preview, first, 50, 20);
	test_picture_done(&w);
	free(first);
}
END_TEST

/* A cancel callback that gives up at its fourth question. */
static int
test_picture_cancel(void *arg)
{
	int	*asked = arg;

	return ++*asked > 3;
}

START_TEST(test_picture_decode_cancelled)
{
	struct picture	 pic;
	FILE		*f;
	char		*cause;
	int		 asked = 0;

	test_picture_write_png("rows.png", 64, 64, PNG_COLOR_TYPE_RGB, 8, 0);
	f = fopen(test_picture_path("rows.png"), "rb");
	ck_assert_ptr_nonnull(f);
	memset(&pic, 0, sizeof pic);
	ck_assert_int_eq(preview_decode(f, "rows.png", 10, 5,
	    test_picture_cancel, &asked, &pic, &cause), PREVIEW_ERROR);
	ck_assert_int_eq(asked, 4);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_null(pic.rgb);
	free(cause);
	fclose(f);

	test_picture_write_jpeg("rows.jpg", 64, 64, 0);
	f = fopen(test_picture_path("rows.jpg"), "rb");
	ck_assert_ptr_nonnull(f);
	asked = 0;
	ck_assert_int_eq(preview_decode(f, "rows.jpg", 64, 32,
	    test_picture_cancel, &asked, &pic, &cause), PREVIEW_ERROR);
	ck_assert_int_eq(asked, 4);
	ck_assert_ptr_null(pic.rgb);
	free(cause);
	fclose(f);

	/* A FIFO is not read: it could hold the worker for ever. */
	ck_assert_int_eq(mkfifo(test_picture_path("fifo.png"), 0600), 0);
	test_picture_decode_state("fifo.png", PREVIEW_ERROR);
}
END_TEST

/* A console on a terminal of the given type that writes nowhere. */
struct test_picture_screen {
	struct console	 console;
	FILE		*out;
	FILE		*in;
	char		*locale;
};

/* Start curses for a terminal type, in UTF-8 or not. */
static struct console *
test_picture_screen_start(struct test_picture_screen *t, const char *term,
    int utf8)
{
	char	*type = strdup(term);

	memset(t, 0, sizeof *t);
	t->locale = strdup(setlocale(LC_CTYPE, NULL));
	ck_assert_ptr_nonnull(setlocale(LC_CTYPE, utf8 ? "C.UTF-8" : "C"));
	t->out = fopen("/dev/null", "w");
	t->in = fopen("/dev/null", "r");
	ck_assert(type != NULL && t->out != NULL && t->in != NULL);
	t->console.screen = newterm(type, t->out, t->in);
	ck_assert_ptr_nonnull(t->console.screen);
	set_term(t->console.screen);
	resizeterm(24, 80);
	t->console.utf8 = utf8;
	console_draw_init(&t->console);
	free(type);
	return &t->console;
}

/* End curses and put the locale back. */
static void
test_picture_screen_end(struct test_picture_screen *t)
{
	endwin();
	delscreen(t->console.screen);
	fclose(t->out);
	fclose(t->in);
	setlocale(LC_CTYPE, t->locale);
	free(t->locale);
}

/* The character and the colours (-1 for none) of the cell at y, x. */
static wchar_t
test_picture_cell(int y, int x, int *fg, int *bg)
{
	cchar_t	cc;
	wchar_t	wc[CCHARW_MAX + 1];
	attr_t	attrs;
	short	pair;
	int	ext = 0;

	ck_assert_int_eq(mvin_wch(y, x, &cc), OK);
	ck_assert_int_eq(getcchar(&cc, wc, &attrs, &pair, &ext), OK);
	/* A terminal without colours has no pairs at all. */
	if (extended_pair_content(ext, fg, bg) != OK)
		*fg = *bg = -1;
	return wc[0];
}

/* Check that the console's own colour pairs are as console_draw_init left. */
static void
test_picture_console_pairs(const int (*want)[2])
{
	int	i, fg, bg;

	for (i = 1; i < CONSOLE_NCOLOURS; i++) {
		ck_assert_int_eq(extended_pair_content(i, &fg, &bg), OK);
		ck_assert_msg(fg == want[i][0] && bg == want[i][1], "pair %d "
		    "is %d on %d, not %d on %d", i, fg, bg, want[i][0],
		    want[i][1]);
	}
}

/* Make r a ready picture of w × h pixels, all of the grey level. */
static void
test_picture_result(struct preview_result *r, int w, int h, uint8_t level)
{
	memset(r, 0, sizeof *r);
	r->state = PREVIEW_READY;
	r->picture.width = w;
	r->picture.height = h;
	r->picture.rgb = malloc((size_t)w * h * 3);
	ck_assert_ptr_nonnull(r->picture.rgb);
	memset(r->picture.rgb, level, (size_t)w * h * 3);
}

/* Fill a picture of w × h with colours from seed, with no two alike. */
static void
test_picture_noise(struct preview_result *r, int w, int h, unsigned seed)
{
	size_t	i;

	test_picture_result(r, w, h, 0);
	for (i = 0; i < (size_t)w * h * 3; i++) {
		seed = seed * 1103515245 + 12345;
		r->picture.rgb[i] = (uint8_t)(seed >> 16);
	}
}

START_TEST(test_picture_console_blocks)
{
	struct test_picture_screen	 t;
	struct console			*c;
	struct preview_result		 r;
	static const uint8_t		 quads[] = { 255, 0, 0, 0, 255, 0,
	    0, 0, 255, 255, 255, 255 };
	int				 fg, bg;

	c = test_picture_screen_start(&t, "xterm-256color", 1);
	ck_assert_int_eq(c->colours, 1);
	test_picture_result(&r, 2, 2, 0);
	memcpy(r.picture.rgb, quads, sizeof quads);

	/* Two pixels across, one cell down, centred in 10 × 5 at 1, 2. */
	console_picture_draw(c, 1, 2, 10, 5, &r);
	ck_assert_int_eq(test_picture_cell(3, 6, &fg, &bg), 0x2580);
	ck_assert_int_eq(fg, 196);
	ck_assert_int_eq(bg, 21);
	ck_assert_int_eq(test_picture_cell(3, 7, &fg, &bg), 0x2580);
	ck_assert_int_eq(fg, 46);
	ck_assert_int_eq(bg, 231);
	ck_assert_int_eq(test_picture_cell(3, 5, &fg, &bg), ' ');
	ck_assert_int_eq(test_picture_cell(1, 2, &fg, &bg), ' ');
	ck_assert_int_eq(test_picture_cell(5, 11, &fg, &bg), ' ');
	picture_free(&r.picture);
	test_picture_screen_end(&t);
}
END_TEST

/* The colour a terminal of a palette of n colours shows for pixel p. */
static int
test_picture_terminal_colour(const uint8_t *p, long n)
{
	int	rgb = p[0] << 16 | p[1] << 8 | p[2];

	if (n == 0x1000000)
		return rgb < 8 ? 8 : rgb;
	if (n == 256)
		return picture_xterm256(p[0], p[1], p[2]);
	return picture_ansi(p[0], p[1], p[2], (int)n);
}

/*
 * Draw many pictures of many colours on a terminal of a palette of n
 * colours; check the console's pairs after each, and the first cell of
 * the last: a half block of both pixels, or a blank of their mean.
 */
static void
test_picture_console_many(const char *term, int utf8, long n)
{
	struct test_picture_screen	 t;
	struct console			*c;
	struct preview_result		 r;
	int				 pairs[CONSOLE_NCOLOURS][2];
	int				 i, fg, bg;
	uint8_t				*upper, *lower, mean[3];

	c = test_picture_screen_start(&t, term, utf8);
	ck_assert_int_eq(c->colours, 1);
	for (i = 1; i < CONSOLE_NCOLOURS; i++)
		extended_pair_content(i, &pairs[i][0], &pairs[i][1]);
	for (i = 0; i < 40; i++) {
		if (i > 0)
			picture_free(&r.picture);
		test_picture_noise(&r, 78, 44, (unsigned)i);
		console_picture_draw(c, 0, 0, 80, 22, &r);
		test_picture_console_pairs((const int (*)[2])pairs);
	}

	/* 78 × 44 in 80 × 22: the picture starts in the second column. */
	upper = r.picture.rgb;
	lower = r.picture.rgb + 78 * 3;
	if (utf8 && n >= 256) {
		ck_assert_int_eq(test_picture_cell(0, 1, &fg, &bg), 0x2580);
		ck_assert_int_eq(fg, test_picture_terminal_colour(upper, n));
		ck_assert_int_eq(bg, test_picture_terminal_colour(lower, n));
	} else {
		for (i = 0; i < 3; i++)
			mean[i] = (uint8_t)((upper[i] + lower[i] + 1) / 2);
		ck_assert_int_eq(test_picture_cell(0, 1, &fg, &bg), ' ');
		ck_assert_int_eq(bg, test_picture_terminal_colour(mean, n));
	}
	picture_free(&r.picture);
	test_picture_screen_end(&t);
}

/*
 * Compile, into the test folder, a terminal that takes colours as 24-bit
 * RGB numbers as xterm-direct does, and point curses at it.
 */
static void
test_picture_direct_terminal(void)
{
	FILE	*f;
	char	 cmd[512];

	f = fopen(test_picture_path("direct.ti"), "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "bdfarm-direct|xterm with direct colour,\n"
	    "\tcolors#0x1000000, pairs#0x10000, RGB,\n"
	    "\tsetab=\\E[48;2;%%p1%%{65536}%%/%%d;%%p1%%{256}%%/%%{255}%%&%%d;"
	    "%%p1%%{255}%%&%%dm,\n"
	    "\tsetaf=\\E[38;2;%%p1%%{65536}%%/%%d;%%p1%%{256}%%/%%{255}%%&%%d;"
	    "%%p1%%{255}%%&%%dm,\n"
	    "\tuse=xterm-256color,\n");
	ck_assert_int_eq(fclose(f), 0);
	snprintf(cmd, sizeof cmd, "tic -x -o '%s' '%s'", test_picture_dir,
	    test_picture_path("direct.ti"));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(setenv("TERMINFO", test_picture_dir, 1), 0);
}

START_TEST(test_picture_console_budget)
{
	/*
	 * 3432 cells of colours never seen before in each of 40 pictures:
	 * far past the 65536 pairs a terminal has.
	 */
	test_picture_direct_terminal();
	test_picture_console_many("bdfarm-direct", 1, 0x1000000);
	test_picture_console_many("xterm-256color", 1, 256);
	/* Without UTF-8, or with 64 pairs only: one colour a cell. */
	test_picture_console_many("xterm-256color", 0, 256);
	test_picture_console_many("xterm", 1, 8);
}
END_TEST

START_TEST(test_picture_console_plain)
{
	struct test_picture_screen	 t;
	struct console			*c;
	struct preview_result		 r;
	char				 line[81];
	int				 fg, bg;

	c = test_picture_screen_start(&t, "dumb", 0);
	ck_assert_int_eq(c->colours, 0);
	test_picture_result(&r, 1, 2, 255);
	console_picture_draw(c, 0, 0, 3, 1, &r);
	ck_assert_int_eq(test_picture_cell(0, 1, &fg, &bg), '@');
	picture_free(&r.picture);

	r.state = PREVIEW_OTHER;
	snprintf(r.picture.format, sizeof r.picture.format, "OpenEXR");
	r.picture.src_width = 1920;
	r.picture.src_height = 1080;
	r.size = 6200000;
	console_picture_draw(c, 0, 0, 60, 3, &r);
	ck_assert_int_eq(mvinnstr(1, 0, line, 60), 60);
	ck_assert_str_eq(line, "   OpenEXR 1920x1080, 6.2 MB: no preview for "
	    "this format    ");

	r.state = PREVIEW_ERROR;
	r.error = strdup("bad PNG: Read Error");
	console_picture_draw(c, 0, 0, 21, 1, &r);
	ck_assert_int_eq(mvinnstr(0, 0, line, 21), 21);
	ck_assert_str_eq(line, " bad PNG: Read Error ");
	free(r.error);
	test_picture_screen_end(&t);
}
END_TEST

/* The picture suite, for unit.c. */
Suite *
picture_suite(void)
{
	Suite	*s = suite_create("picture");
	TCase	*grid = tcase_create("grid"), *colour = tcase_create("colour");
	TCase	*probe = tcase_create("probe"), *decode = tcase_create("decode");
	TCase	*console = tcase_create("console");

	tcase_add_test(grid, test_picture_fit_sizes);
	tcase_add_test(grid, test_picture_scale_quadrant_cells);
	tcase_add_test(grid, test_picture_scale_average);
	tcase_add_test(grid, test_picture_scale_channels);
	tcase_add_test(grid, test_picture_scale_refused);
	suite_add_tcase(s, grid);

	tcase_add_test(colour, test_picture_xterm256_palette);
	tcase_add_test(colour, test_picture_ansi_colours);
	tcase_add_test(colour, test_picture_shade_ramp);
	suite_add_tcase(s, colour);

	tcase_add_test(probe, test_picture_probe_png_jpeg);
	tcase_add_test(probe, test_picture_probe_bmp_tga_iris);
	tcase_add_test(probe, test_picture_probe_exr_hdr);
	tcase_add_test(probe, test_picture_probe_tiff_dpx_cineon);
	tcase_add_test(probe, test_picture_probe_jp2_webp);
	tcase_add_test(probe, test_picture_probe_unknown);
	suite_add_tcase(s, probe);

	tcase_add_checked_fixture(decode, test_picture_setup,
	    test_picture_teardown);
	tcase_set_timeout(decode, 60);
	tcase_add_test(decode, test_picture_decode_png);
	tcase_add_test(decode, test_picture_decode_png_kinds);
	tcase_add_test(decode, test_picture_decode_jpeg);
	tcase_add_test(decode, test_picture_decode_bad);
	tcase_add_test(decode, test_picture_decode_other);
	tcase_add_test(decode, test_picture_decode_superseded);
	tcase_add_test(decode, test_picture_decode_cancelled);
	suite_add_tcase(s, decode);

	tcase_add_checked_fixture(console, test_picture_setup,
	    test_picture_teardown);
	tcase_set_timeout(console, 60);
	tcase_add_test(console, test_picture_console_blocks);
	tcase_add_test(console, test_picture_console_budget);
	tcase_add_test(console, test_picture_console_plain);
	suite_add_tcase(s, console);
	return s;
}
