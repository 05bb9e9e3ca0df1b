/*
 * picture-seed.c: write the fuzz seeds of the console's pictures: small
 * PNG files of each colour type, depth and interlacing, baseline and
 * progressive JPEG files, and the headers of the other formats Blender
 * writes.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After stdio.h, for FILE. */
#include <jpeglib.h>
#include <png.h>

/* The side of the seed images, in pixels. */
#define SEED_SIDE	9

/* Open a seed file in dir; NULL on failure. */
static FILE *
seed_open(const char *dir, const char *name)
{
	char	path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return fopen(path, "wb");
}

/* Write a small PNG of a colour type, depth and interlacing. */
static int
seed_png(const char *dir, const char *name, int colour, int depth,
    int interlace)
{
	static png_color	 palette[4] = { { 255, 0, 0 }, { 0, 255, 0 },
	    { 0, 0, 255 }, { 255, 255, 255 } };
	static png_byte		 trans[1] = { 0 };
	png_structp		 png;
	png_infop		 info;
	png_byte		 row[SEED_SIDE * 8];
	FILE			*f;
	int			 passes, pass, y, i;

	if ((f = seed_open(dir, name)) == NULL)
		return -1;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png_create_info_struct(png);
	if (png == NULL || info == NULL || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		fclose(f);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, SEED_SIDE, SEED_SIDE, depth, colour,
	    interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (colour == PNG_COLOR_TYPE_PALETTE) {
		png_set_PLTE(png, info, palette, 4);
		png_set_tRNS(png, info, trans, 1, NULL);
	}
	png_write_info(png, info);
	passes = interlace ? png_set_interlace_handling(png) : 1;
	for (pass = 0; pass < passes; pass++) {
		for (y = 0; y < SEED_SIDE; y++) {
			for (i = 0; i < (int)sizeof row; i++)
				row[i] = (png_byte)(y * 37 + i * 11);
			if (colour == PNG_COLOR_TYPE_PALETTE)
				memset(row, 0x12, sizeof row);
			png_write_row(png, row);
		}
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return fclose(f) == 0 ? 0 : -1;
}

/* Write a small JPEG, grey or colour, baseline or progressive. */
static int
seed_jpeg(const char *dir, const char *name, int components,
    int progressive)
{
	struct jpeg_compress_struct	 c;
	struct jpeg_error_mgr		 err;
	JSAMPLE				 row[SEED_SIDE * 3];
	JSAMPROW			 rowp = row;
	FILE				*f;
	int				 i;

	if ((f = seed_open(dir, name)) == NULL)
		return -1;
	c.err = jpeg_std_error(&err);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = SEED_SIDE;
	c.image_height = SEED_SIDE;
	c.input_components = components;
	c.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 50, TRUE);
	if (progressive)
		jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < SEED_SIDE) {
		for (i = 0; i < (int)sizeof row; i++)
			row[i] = (JSAMPLE)(c.next_scanline * 29 + i * 7);
		jpeg_write_scanlines(&c, &rowp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return fclose(f) == 0 ? 0 : -1;
}

/* Write len bytes of a header as a seed. */
static int
seed_bytes(const char *dir, const char *name, const void *p, size_t len)
{
	FILE	*f;

	if ((f = seed_open(dir, name)) == NULL)
		return -1;
	if (fwrite(p, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* Write the headers of the formats that are told, not decoded. */
static int
seed_headers(const char *dir)
{
	static const uint8_t	bmp[26] = { 'B', 'M', [14] = 40, [18] = 64,
	    [22] = 48 };
	static const uint8_t	iris[10] = { 0x01, 0xda, 0, 1, 0, 3, 0, 64,
	    0, 48 };
	static const uint8_t	exr[] = { 0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0,
	    'd', 'a', 't', 'a', 'W', 'i', 'n', 'd', 'o', 'w', 0, 'b', 'o',
	    'x', '2', 'i', 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 63, 0, 0,
	    0, 47, 0, 0, 0, 0 };
	static const char	hdr[] = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n"
	    "-Y 48 +X 64\n";
	static const uint8_t	tiff[] = { 'I', 'I', '*', 0, 8, 0, 0, 0, 2,
	    0, 0, 1, 3, 0, 1, 0, 0, 0, 64, 0, 0, 0, 1, 1, 4, 0, 1, 0, 0, 0,
	    48, 0, 0, 0 };
	static const uint8_t	jp2[] = { 0, 0, 0, 12, 'j', 'P', ' ', ' ',
	    '\r', '\n', 0x87, '\n', 0, 0, 0, 30, 'j', 'p', '2', 'h', 0, 0, 0,
	    22, 'i', 'h', 'd', 'r', 0, 0, 0, 48, 0, 0, 0, 64, 0, 3, 7, 7, 0,
	    0 };
	static const uint8_t	webp[] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0,
	    'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0, 0, 0, 0, 0,
	    63, 0, 0, 47, 0, 0 };
	uint8_t			dpx[780] = { 'S', 'D', 'P', 'X',
	    [775] = 64, [779] = 48 };
	uint8_t			cin[208] = { 0x80, 0x2a, 0x5f, 0xd7,
	    [203] = 64, [207] = 48 };

	if (seed_bytes(dir, "seed-bmp", bmp, sizeof bmp) != 0 ||
	    seed_bytes(dir, "seed-iris", iris, sizeof iris) != 0 ||
	    seed_bytes(dir, "seed-exr", exr, sizeof exr) != 0 ||
	    seed_bytes(dir, "seed-hdr", hdr, sizeof hdr - 1) != 0 ||
	    seed_bytes(dir, "seed-tiff", tiff, sizeof tiff) != 0 ||
	    seed_bytes(dir, "seed-jp2", jp2, sizeof jp2) != 0 ||
	    seed_bytes(dir, "seed-webp", webp, sizeof webp) != 0 ||
	    seed_bytes(dir, "seed-dpx", dpx, sizeof dpx) != 0 ||
	    seed_bytes(dir, "seed-cineon", cin, sizeof cin) != 0)
		return -1;
	return 0;
}

/* Write the seeds into the folder named by the only argument. */
int
main(int argc, char **argv)
{
	const char	*d;

	if (argc != 2) {
		fprintf(stderr, "usage: picture-seed folder\n");
		return 2;
	}
	d = argv[1];
	if (seed_png(d, "seed-rgb.png", PNG_COLOR_TYPE_RGB, 8, 0) != 0 ||
	    seed_png(d, "seed-rgba16.png", PNG_COLOR_TYPE_RGBA, 16, 0) != 0 ||
	    seed_png(d, "seed-grey2.png", PNG_COLOR_TYPE_GRAY, 2, 0) != 0 ||
	    seed_png(d, "seed-greya.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8,
	    0) != 0 ||
	    seed_png(d, "seed-palette.png", PNG_COLOR_TYPE_PALETTE, 4,
	    0) != 0 ||
	    seed_png(d, "seed-adam7.png", PNG_COLOR_TYPE_RGB, 8, 1) != 0 ||
	    seed_jpeg(d, "seed-rgb.jpg", 3, 0) != 0 ||
	    seed_jpeg(d, "seed-grey.jpg", 1, 0) != 0 ||
	    seed_jpeg(d, "seed-progressive.jpg", 3, 1) != 0 ||
	    seed_headers(d) != 0) {
		perror("picture-seed");
		return 1;
	}
	return 0;
}
