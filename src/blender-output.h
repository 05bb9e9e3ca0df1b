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
	BLENDER_LINE_ERROR,	/* "Error: ..." the render went wrong */
	BLENDER_LINE_VERSION,	/* "Blender 3.4.1 ..." the program's banner */
	BLENDER_LINE_MISSING,	/* "Warning: Path 'PATH' not found" */
	BLENDER_LINE_PRELUDE,	/* "bdfarm: prelude done": the scene is set */
	BLENDER_LINE_WARM_READY, /* "bdfarm: warm ready": frames welcome */
	BLENDER_LINE_WARM_DONE,	/* "bdfarm: frame N done PATH" */
	BLENDER_LINE_WARM_FAILED /* "bdfarm: frame N failed REASON" */
};

/* One parsed line; strings point into the parsed line. */
struct blender_line {
	enum blender_line_type	 type;
	long			 frame;		/* FRAME, WARM_DONE, WARM_FAILED */
	int			 sample;	/* FRAME: -1 if not given */
	int			 samples;	/* FRAME: -1 if not given */
	int			 remaining;	/* FRAME: s left, -1 if unknown */
	long			 remaining_ms;	/* FRAME: ms left, -1 if unknown */
	long			 elapsed_ms;	/* FRAME: ms so far, -1 ditto */
	const char		*path;		/* SAVED, MISSING, WARM_DONE */
	const char		*message;	/* ERROR, WARM_FAILED */
	const char		*version;	/* VERSION: "3.4.1" */
};

void	blender_output_parse(char *, struct blender_line *);
int	blender_output_permille(const struct blender_line *);
int	blender_output_file_frame(const char *, long *);
int	blender_output_extension(const char *, char *, unsigned int);

#endif
