/*
 * picture.c: an image reduced to a grid of colours for the console. The
 * grid is built by a box filter that takes the source one row at a time,
 * so that its memory grows with the source's width and the grid, never
 * with the source's area. The header reader tells the format and size of
 * the images Blender writes; the colour helpers map a pixel to what a
 * terminal has: the xterm 256-colour palette, the 8 or 16 ANSI colours, or
 * a character of shaded ASCII. Nothing here does I/O or draws.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "picture.h"
#include "xmalloc.h"

/*
 * Fit a source of sw × sh pixels into cols × rows cells, two grid pixels
 * to a cell, keeping its aspect and never enlarging it; 0 on success.
 */
int
picture_fit(uint32_t sw, uint32_t sh, int cols, int rows, int *w, int *h)
{
	uint64_t	bw, bh, gw, gh;

	if (sw == 0 || sh == 0 || cols < 1 || rows < 1)
		return -1;
	bw = (uint64_t)cols;
	bh = (uint64_t)rows * 2;
	if (bw > sw)
		bw = sw;
	if (bh > sh)
		bh = sh;
	if ((uint64_t)sw * bh <= (uint64_t)sh * bw) {
		gh = bh;
		gw = ((uint64_t)sw * gh + sh / 2) / sh;
	} else {
		gw = bw;
		gh = ((uint64_t)sh * gw + sw / 2) / sw;
	}
	*w = gw < 1 ? 1 : (int)gw;
	*h = gh < 1 ? 1 : (int)gh;
	return 0;
}

/*
 * Begin a grid of width × height pixels in pic from in_width × in_height
 * source pixels; 0 on success, -1 with *cause if the sizes cannot be.
 */
int
picture_scale_start(struct picture_scale *s, struct picture *pic,
    uint32_t in_width, uint32_t in_height, int width, int height,
    char **cause)
{
	uint32_t	x;

	memset(s, 0, sizeof *s);
	if (width < 1 || height < 1 || in_width == 0 || in_height == 0 ||
	    in_width > PICTURE_MAX_SIDE || in_height > PICTURE_MAX_SIDE ||
	    (uint32_t)width > in_width || (uint32_t)height > in_height) {
		xasprintf(cause, _("cannot scale %u×%u pixels to %d×%d"),
		    in_width, in_height, width, height);
		return -1;
	}
	free(pic->rgb);
	pic->width = width;
	pic->height = height;
	pic->rgb = xcalloc((size_t)width * (size_t)height, 3);

	s->picture = pic;
	s->in_width = in_width;
	s->in_height = in_height;
	s->column = xreallocarray(NULL, in_width, sizeof *s->column);
	for (x = 0; x < in_width; x++)
		s->column[x] = (uint32_t)((uint64_t)x * (uint64_t)width /
		    in_width);
	s->sum = xcalloc((size_t)width * 3, sizeof *s->sum);
	s->count = xcalloc((size_t)width, sizeof *s->count);
	return 0;
}

/* Write the averages of the grid row being summed, and start anew. */
static void
picture_scale_flush(struct picture_scale *s)
{
	struct picture	*pic = s->picture;
	uint8_t		*out;
	uint64_t	 n;
	int		 x, i;

	out = pic->rgb + (size_t)s->row * (size_t)pic->width * 3;
	for (x = 0; x < pic->width; x++) {
		n = s->count[x];
		for (i = 0; i < 3; i++) {
			if (n != 0)
				out[x * 3 + i] = (uint8_t)((s->sum[x * 3 + i] +
				    n / 2) / n);
			s->sum[x * 3 + i] = 0;
		}
		s->count[x] = 0;
	}
}

/* Lay the colour of pixel p with channels samples over the backdrop. */
static void
picture_scale_pixel(const uint8_t *p, int channels, uint64_t *sum)
{
	unsigned	r, g, b, a;

	switch (channels) {
	case 1:
	case 2:
		r = g = b = p[0];
		break;
	default:
		r = p[0];
		g = p[1];
		b = p[2];
		break;
	}
	if (channels == 2 || channels == 4) {
		a = p[channels - 1];
		r = (r * a + PICTURE_BACKDROP * (255 - a) + 127) / 255;
		g = (g * a + PICTURE_BACKDROP * (255 - a) + 127) / 255;
		b = (b * a + PICTURE_BACKDROP * (255 - a) + 127) / 255;
	}
	sum[0] += r;
	sum[1] += g;
	sum[2] += b;
}

/*
 * Add the next source row: in_width pixels of channels 8-bit samples
 * each, grey, grey and alpha, RGB or RGBA. Rows past the last are ignored.
 */
void
picture_scale_row(struct picture_scale *s, const uint8_t *row, int channels)
{
	uint32_t	x, column;
	int		gy;

	if (s->picture == NULL || s->y >= s->in_height || channels < 1 ||
	    channels > 4)
		return;
	gy = (int)((uint64_t)s->y * (uint64_t)s->picture->height /
	    s->in_height);
	if (gy != s->row) {
		picture_scale_flush(s);
		s->row = gy;
	}
	if (channels == 3) {
		/* Most frames: no alpha to lay over the backdrop. */
		for (x = 0; x < s->in_width; x++, row += 3) {
			column = s->column[x];
			s->sum[column * 3] += row[0];
			s->sum[column * 3 + 1] += row[1];
			s->sum[column * 3 + 2] += row[2];
			s->count[column]++;
		}
	} else {
		for (x = 0; x < s->in_width; x++) {
			column = s->column[x];
			picture_scale_pixel(row + (size_t)x *
			    (size_t)channels, channels, s->sum +
			    (size_t)column * 3);
			s->count[column]++;
		}
	}
	s->y++;
}

/* Finish the grid with the rows given so far and free the sums. */
void
picture_scale_end(struct picture_scale *s)
{
	if (s->picture != NULL && s->y > 0)
		picture_scale_flush(s);
	free(s->column);
	free(s->sum);
	free(s->count);
	memset(s, 0, sizeof *s);
}

/* Free a picture's grid and forget its facts. */
void
picture_free(struct picture *pic)
{
	free(pic->rgb);
	memset(pic, 0, sizeof *pic);
}

/* A 16-bit big-endian number at p. */
static uint32_t
picture_be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* A 32-bit big-endian number at p. */
static uint32_t
picture_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A 16-bit little-endian number at p. */
static uint32_t
picture_le16(const uint8_t *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

/* A 32-bit little-endian number at p. */
static uint32_t
picture_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/* A 16- or 32-bit number at p in the byte order of big. */
static uint32_t
picture_word(const uint8_t *p, int big, int bytes)
{
	if (bytes == 2)
		return big ? picture_be16(p) : picture_le16(p);
	return big ? picture_be32(p) : picture_le32(p);
}

/* The size of a JPEG from its first frame header (SOFn). */
static void
picture_probe_jpeg(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	size_t	pos = 2;
	uint8_t	m;

	while (pos + 4 <= len) {
		if (buf[pos] != 0xff)
			return;
		m = buf[pos + 1];
		if (m == 0xff) {
			pos++;
			continue;
		}
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd8)) {
			pos += 2;
			continue;
		}
		if (m == 0xda || m == 0xd9)
			return;
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 &&
		    m != 0xcc) {
			if (pos + 9 > len)
				return;
			*h = picture_be16(buf + pos + 5);
			*w = picture_be16(buf + pos + 7);
			return;
		}
		pos += 2 + picture_be16(buf + pos + 2);
	}
}

/* The size of a BMP from its information header, top-down or not. */
static void
picture_probe_bmp(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	uint32_t	size, sw, sh;

	if (len < 26)
		return;
	size = picture_le32(buf + 14);
	if (size == 12) {
		*w = picture_le16(buf + 18);
		*h = picture_le16(buf + 20);
		return;
	}
	if (size < 40)
		return;
	sw = picture_le32(buf + 18);
	sh = picture_le32(buf + 22);
	*w = sw > INT32_MAX ? -sw : sw;
	*h = sh > INT32_MAX ? -sh : sh;
}

/* The size of an OpenEXR image from its dataWindow attribute. */
static void
picture_probe_exr(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	size_t		 pos = 8, name, type, size;
	int64_t		 x0, y0, x1, y1;
	const uint8_t	*v;

	for (;;) {
		name = pos;
		while (pos < len && buf[pos] != '\0')
			pos++;
		if (pos >= len || pos == name)
			return;
		type = ++pos;
		while (pos < len && buf[pos] != '\0')
			pos++;
		if (pos + 5 > len)
			return;
		size = picture_le32(buf + pos + 1);
		pos += 5;
		if (size > len - pos)
			return;
		if (strcmp((const char *)buf + name, "dataWindow") == 0 &&
		    strcmp((const char *)buf + type, "box2i") == 0 &&
		    size == 16) {
			v = buf + pos;
			x0 = (int32_t)picture_le32(v);
			y0 = (int32_t)picture_le32(v + 4);
			x1 = (int32_t)picture_le32(v + 8);
			y1 = (int32_t)picture_le32(v + 12);
			if (x1 >= x0 && y1 >= y0 && x1 - x0 < UINT32_MAX &&
			    y1 - y0 < UINT32_MAX) {
				*w = (uint32_t)(x1 - x0 + 1);
				*h = (uint32_t)(y1 - y0 + 1);
			}
			return;
		}
		pos += size;
	}
}

/* Read a number of at most nine digits at *p; 0 if there is none. */
static int
picture_probe_number(const uint8_t *buf, size_t len, size_t *p, uint32_t *n)
{
	int	digits = 0;

	*n = 0;
	while (*p < len && buf[*p] >= '0' && buf[*p] <= '9' && digits < 9) {
		*n = *n * 10 + (uint32_t)(buf[*p] - '0');
		(*p)++;
		digits++;
	}
	return digits > 0 && *p < len && (buf[*p] < '0' || buf[*p] > '9');
}

/* The size of a Radiance HDR image from its resolution line. */
static void
picture_probe_hdr(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	const uint8_t	*end;
	size_t		 pos, i;
	uint32_t	 n[2];
	uint8_t		 axis[2];

	end = NULL;
	for (pos = 0; pos + 1 < len; pos++) {
		if (buf[pos] == '\n' && buf[pos + 1] == '\n') {
			end = buf + pos + 2;
			break;
		}
	}
	if (end == NULL)
		return;
	pos = (size_t)(end - buf);
	for (i = 0; i < 2; i++) {
		if (i == 1) {
			if (pos >= len || buf[pos] != ' ')
				return;
			pos++;
		}
		if (pos + 3 > len || (buf[pos] != '-' && buf[pos] != '+') ||
		    (buf[pos + 1] != 'X' && buf[pos + 1] != 'Y') ||
		    buf[pos + 2] != ' ')
			return;
		axis[i] = buf[pos + 1];
		pos += 3;
		if (!picture_probe_number(buf, len, &pos, &n[i]))
			return;
	}
	if (axis[0] == axis[1] || pos >= len || buf[pos] != '\n')
		return;
	*w = axis[0] == 'X' ? n[0] : n[1];
	*h = axis[0] == 'Y' ? n[0] : n[1];
}

/* The size of a TIFF image from tags 256 and 257 of its first IFD. */
static void
picture_probe_tiff(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	int		 big = buf[0] == 'M';
	uint32_t	 ifd, count, i, tag, type, value;
	const uint8_t	*e;

	ifd = picture_word(buf + 4, big, 4);
	if (ifd > len || len - ifd < 2)
		return;
	count = picture_word(buf + ifd, big, 2);
	for (i = 0; i < count; i++) {
		if ((len - ifd - 2) / 12 <= i)
			return;
		e = buf + ifd + 2 + (size_t)i * 12;
		tag = picture_word(e, big, 2);
		type = picture_word(e + 2, big, 2);
		if (type == 3)
			value = picture_word(e + 8, big, 2);
		else if (type == 4)
			value = picture_word(e + 8, big, 4);
		else
			continue;
		if (tag == 256)
			*w = value;
		else if (tag == 257)
			*h = value;
	}
}

/* The size of a JPEG 2000 image from its ihdr box or SIZ marker. */
static void
picture_probe_jp2(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	size_t		pos = 0, end = len;
	uint64_t	size;
	uint32_t	head;

	if (len >= 24 && picture_be32(buf) == 0xff4fff51) {
		*w = picture_be32(buf + 8) - picture_be32(buf + 16);
		*h = picture_be32(buf + 12) - picture_be32(buf + 20);
		return;
	}
	while (pos + 8 <= end) {
		size = picture_be32(buf + pos);
		head = 8;
		if (size == 1) {
			if (pos + 16 > end)
				return;
			size = (uint64_t)picture_be32(buf + pos + 8) << 32 |
			    picture_be32(buf + pos + 12);
			head = 16;
		} else if (size == 0)
			size = end - pos;
		if (size < head || size > end - pos)
			size = end - pos;
		if (memcmp(buf + pos + 4, "jp2h", 4) == 0) {
			end = pos + (size_t)size;
			pos += head;
			continue;
		}
		if (memcmp(buf + pos + 4, "ihdr", 4) == 0) {
			if (pos + head + 8 <= end) {
				*h = picture_be32(buf + pos + head);
				*w = picture_be32(buf + pos + head + 4);
			}
			return;
		}
		pos += (size_t)size;
	}
}

/* The size of a WebP image from its VP8, VP8L or VP8X chunk. */
static void
picture_probe_webp(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	uint32_t	bits;

	if (len < 30)
		return;
	if (memcmp(buf + 12, "VP8 ", 4) == 0) {
		if (buf[23] != 0x9d || buf[24] != 0x01 || buf[25] != 0x2a)
			return;
		*w = picture_le16(buf + 26) & 0x3fff;
		*h = picture_le16(buf + 28) & 0x3fff;
	} else if (memcmp(buf + 12, "VP8L", 4) == 0) {
		if (buf[20] != 0x2f)
			return;
		bits = picture_le32(buf + 21);
		*w = (bits & 0x3fff) + 1;
		*h = ((bits >> 14) & 0x3fff) + 1;
	} else if (memcmp(buf + 12, "VP8X", 4) == 0) {
		*w = (picture_le16(buf + 24) | (uint32_t)buf[26] << 16) + 1;
		*h = (picture_le16(buf + 27) | (uint32_t)buf[29] << 16) + 1;
	}
}

/* Whether name ends in one of the extensions of list, NULL-terminated. */
static int
picture_probe_named(const char *name, const char *const *list)
{
	const char	*dot;

	if (name == NULL || (dot = strrchr(name, '.')) == NULL)
		return 0;
	for (; *list != NULL; list++) {
		if (strcasecmp(dot + 1, *list) == 0)
			return 1;
	}
	return 0;
}

/*
 * Tell the format of an image from the first len bytes of its file (and
 * its name, for TARGA, which has no mark), and its size where the header
 * holds it (else 0 × 0); 0 if the format is known, -1 if not.
 */
int
picture_probe(const uint8_t *buf, size_t len, const char *name,
    char *format, size_t formatlen, uint32_t *w, uint32_t *h)
{
	static const char *const tga[] = { "tga", "targa", "icb", "vda",
	    "vst", NULL };
	static const uint8_t	 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };
	static const uint8_t	 jp2[] = { 0, 0, 0, 12, 'j', 'P', ' ', ' ',
	    '\r', '\n', 0x87, '\n' };
	const char		*f = NULL;
	int			 big;

	*w = *h = 0;
	if (len >= 8 && memcmp(buf, png, sizeof png) == 0) {
		f = "PNG";
		if (len >= 24 && memcmp(buf + 12, "IHDR", 4) == 0) {
			*w = picture_be32(buf + 16);
			*h = picture_be32(buf + 20);
		}
	} else if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 &&
	    buf[2] == 0xff) {
		f = "JPEG";
		picture_probe_jpeg(buf, len, w, h);
	} else if (len >= 2 && buf[0] == 'B' && buf[1] == 'M') {
		f = "BMP";
		picture_probe_bmp(buf, len, w, h);
	} else if (len >= 2 && picture_be16(buf) == 474) {
		f = "IRIS";
		if (len >= 10) {
			*w = picture_be16(buf + 6);
			*h = picture_be16(buf + 8);
		}
	} else if (len >= 4 && picture_be32(buf) == 0x762f3101) {
		f = "OpenEXR";
		picture_probe_exr(buf, len, w, h);
	} else if ((len >= 10 && memcmp(buf, "#?RADIANCE", 10) == 0) ||
	    (len >= 6 && memcmp(buf, "#?RGBE", 6) == 0)) {
		f = "Radiance HDR";
		picture_probe_hdr(buf, len, w, h);
	} else if (len >= 8 && (memcmp(buf, "II*\0", 4) == 0 ||
	    memcmp(buf, "MM\0*", 4) == 0)) {
		f = "TIFF";
		picture_probe_tiff(buf, len, w, h);
	} else if (len >= 4 && (memcmp(buf, "SDPX", 4) == 0 ||
	    memcmp(buf, "XPDS", 4) == 0)) {
		f = "DPX";
		big = buf[0] == 'S';
		if (len >= 780) {
			*w = picture_word(buf + 772, big, 4);
			*h = picture_word(buf + 776, big, 4);
		}
	} else if (len >= 4 && (picture_be32(buf) == 0x802a5fd7 ||
	    picture_le32(buf) == 0x802a5fd7)) {
		f = "Cineon";
		big = buf[0] == 0x80;
		if (len >= 208) {
			*w = picture_word(buf + 200, big, 4);
			*h = picture_word(buf + 204, big, 4);
		}
	} else if ((len >= 12 && memcmp(buf, jp2, sizeof jp2) == 0) ||
	    (len >= 4 && picture_be32(buf) == 0xff4fff51)) {
		f = "JPEG 2000";
		picture_probe_jp2(buf, len, w, h);
	} else if (len >= 16 && memcmp(buf, "RIFF", 4) == 0 &&
	    memcmp(buf + 8, "WEBP", 4) == 0) {
		f = "WebP";
		picture_probe_webp(buf, len, w, h);
	} else if (picture_probe_named(name, tga)) {
		f = "TARGA";
		if (len >= 18) {
			*w = picture_le16(buf + 12);
			*h = picture_le16(buf + 14);
		}
	}
	if (f == NULL)
		return -1;
	if (formatlen > 0)
		snprintf(format, formatlen, "%s", f);
	return 0;
}

/* The nearest of the six levels of the xterm colour cube to v. */
static int
picture_cube_step(uint8_t v)
{
	if (v < 48)
		return 0;
	if (v < 115)
		return 1;
	return (v - 35) / 40;
}

/* The level of step i of the xterm colour cube. */
static int
picture_cube_level(int i)
{
	return i == 0 ? 0 : 55 + 40 * i;
}

/* The square of the distance between two colours. */
static int
picture_distance(int r1, int g1, int b1, int r2, int g2, int b2)
{
	return (r1 - r2) * (r1 - r2) + (g1 - g2) * (g1 - g2) +
	    (b1 - b2) * (b1 - b2);
}

/*
 * The xterm 256-colour palette entry nearest to a colour: of the 6 × 6 × 6
 * cube (16 to 231) or the 24 greys (232 to 255).
 */
int
picture_xterm256(uint8_t r, uint8_t g, uint8_t b)
{
	int	cr, cg, cb, grey, level, mean, cube, ramp;

	cr = picture_cube_step(r);
	cg = picture_cube_step(g);
	cb = picture_cube_step(b);
	cube = picture_distance(r, g, b, picture_cube_level(cr),
	    picture_cube_level(cg), picture_cube_level(cb));

	mean = (r + g + b) / 3;
	if (mean < 8)
		grey = 0;
	else if (mean > 238)
		grey = 23;
	else
		grey = (mean - 8 + 5) / 10;
	level = 8 + 10 * grey;
	ramp = picture_distance(r, g, b, level, level, level);

	if (ramp < cube)
		return 232 + grey;
	return 16 + 36 * cr + 6 * cg + cb;
}

/*
 * The nearest of the first n (8 or 16) ANSI colours, as xterm shows them,
 * to a colour.
 */
int
picture_ansi(uint8_t r, uint8_t g, uint8_t b, int n)
{
	static const uint8_t	ansi[16][3] = {
		{ 0, 0, 0 }, { 205, 0, 0 }, { 0, 205, 0 }, { 205, 205, 0 },
		{ 0, 0, 238 }, { 205, 0, 205 }, { 0, 205, 205 },
		{ 229, 229, 229 }, { 127, 127, 127 }, { 255, 0, 0 },
		{ 0, 255, 0 }, { 255, 255, 0 }, { 92, 92, 255 },
		{ 255, 0, 255 }, { 0, 255, 255 }, { 255, 255, 255 }
	};
	int			i, best = 0, d, bestd = -1;

	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++) {
		d = picture_distance(r, g, b, ansi[i][0], ansi[i][1],
		    ansi[i][2]);
		if (bestd < 0 || d < bestd) {
			best = i;
			bestd = d;
		}
	}
	return best;
}

/* The character of an ASCII ramp, blank to dense, for a colour's light. */
char
picture_shade(uint8_t r, uint8_t g, uint8_t b)
{
	static const char	ramp[] = " .:-=+*#%@";
	unsigned		y;

	y = (2126 * (unsigned)r + 7152 * (unsigned)g + 722 * (unsigned)b +
	    5000) / 10000;
	return ramp[y * (sizeof ramp - 1) / 256];
}
