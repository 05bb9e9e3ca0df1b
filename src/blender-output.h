/*
 * blender-output.h: what Blender's command-line output says about a
 * render, one line at a time, without any I/O.
 */
#ifndef BLENDER_OUTPUT_H
#define BLENDER_OUTPUT_H

enum blender_line_type {
	BLENDER_LINE_OTHER,
	BLENDER_LINE_FRAME,	/* "Fra:N ..." progress of frame N */
	BLENDER_LINE_SAVED,	/* "Saved: 'PATH'" a frame was written */
	BLENDER_LINE_ERROR	/* "Error: ..." the render went wrong */
};

/* One parsed line; strings point into the parsed line. */
struct blender_line {
	enum blender_line_type	 type;
	long			 frame;		/* FRAME */
	int			 sample;	/* FRAME: -1 if not given */
	int			 samples;	/* FRAME: -1 if not given */
	int			 remaining;	/* FRAME: s left, -1 if unknown */
	const char		*path;		/* SAVED */
	const char		*message;	/* ERROR */
};

void	blender_output_parse(char *, struct blender_line *);
int	blender_output_file_frame(const char *, long *);
int	blender_output_extension(const char *, char *, unsigned int);

#endif
