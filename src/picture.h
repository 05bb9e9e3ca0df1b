/*
 * picture.h: an image reduced to a small grid of colours for the console:
 * the box filter that builds the grid from rows of the source, the fit of
 * a source into a box of cells, what an image file's header says, and the
 * colours and characters a terminal can show.
 */
#ifndef PICTURE_H
#define PICTURE_H

#include <stddef.h>
#include <stdint.h>

/* The largest side and area of a source the console scales down. */
#define PICTURE_MAX_SIDE	65535
#define PICTURE_MAX_PIXELS	((uint64_t)1 << 28)

/* The grey that shows through transparent pixels. */
#define PICTURE_BACKDROP	48

/* An image as the console shows it, two grid pixels to a cell. */
struct picture {
	int		 width;		/* grid pixels across: cells */
	int		 height;	/* grid pixels down: twice the rows */
	uint8_t		*rgb;		/* width * height * 3, rows down */

	char		 format[16];	/* "PNG", "OpenEXR", ... */
	uint32_t	 src_width;	/* the source, in pixels */
	uint32_t	 src_height;
};

/* A grid being built from source rows, top to bottom. */
struct picture_scale {
	struct picture	*picture;
	uint32_t	 in_width;	/* the rows handed in */
	uint32_t	 in_height;
	uint32_t	 y;		/* the next row */
	int		 row;		/* the grid row being summed */
	uint32_t	*column;	/* the grid column of each pixel */
	uint64_t	*sum;		/* width * 3 sums of the grid row */
	uint64_t	*count;		/* pixels in each sum */
};

int	picture_fit(uint32_t, uint32_t, int, int, int *, int *);
int	picture_scale_start(struct picture_scale *, struct picture *,
	    uint32_t, uint32_t, int, int, char **);
void	picture_scale_row(struct picture_scale *, const uint8_t *, int);
void	picture_scale_end(struct picture_scale *);
void	picture_free(struct picture *);

int	picture_probe(const uint8_t *, size_t, const char *, char *, size_t,
	    uint32_t *, uint32_t *);

int	picture_xterm256(uint8_t, uint8_t, uint8_t);
int	picture_ansi(uint8_t, uint8_t, uint8_t, int);
char	picture_shade(uint8_t, uint8_t, uint8_t);

#endif
