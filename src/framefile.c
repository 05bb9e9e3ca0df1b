/*
 * framefile.c: the names of stored frames. The server names each frame's
 * file itself: the frame number padded to four digits ("0005", "-0005",
 * "12345"), and the extension of the name the client gave, in lower case,
 * when it is one of the image formats Blender writes. Only such names
 * count as frames when a render folder is read back, so no client can
 * choose where its frame lands, and no other file passes for a frame.
 */
#include "bdfarm.h"
#include "framefile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmalloc.h"

/* The extensions of the image formats Blender renders to, in lower case. */
static const char *const framefile_extensions[] = {
	"bmp", "cin", "dpx", "exr", "hdr", "j2c", "jp2", "jpeg", "jpg", "png",
	"rgb", "sgi", "tga", "tif", "tiff", "webp"
};

/* The listed extension image ends in (case aside), or NULL. */
static const char *
framefile_extension(const char *image)
{
	const char	*dot = strrchr(image, '.');
	size_t		 i;

	if (dot == NULL || dot == image)
		return NULL;
	for (i = 0; i < nitems(framefile_extensions); i++) {
		if (strcasecmp(dot + 1, framefile_extensions[i]) == 0)
			return framefile_extensions[i];
	}
	return NULL;
}

/*
 * The name a frame is stored under, given the image name its client sent;
 * a new string.
 */
char *
framefile_name(long frame, const char *image)
{
	const char	*ext = framefile_extension(image);
	unsigned long	 magnitude;
	char		*name;

	/* Negated as unsigned, so that even LONG_MIN has a magnitude. */
	magnitude = frame < 0 ? 0UL - (unsigned long)frame :
	    (unsigned long)frame;
	xasprintf(&name, "%s%04lu%s%s", frame < 0 ? "-" : "", magnitude,
	    ext != NULL ? "." : "", ext != NULL ? ext : "");
	return name;
}

/*
 * Whether name is exactly the stored name of a frame (as framefile_name
 * makes it); 0 with *frame set if so, -1 if not.
 */
int
framefile_frame(const char *name, long *frame)
{
	char	*end, *again;
	long	 v;
	int	 same;

	if (*name != '-' && (*name < '0' || *name > '9'))
		return -1;
	errno = 0;
	v = strtol(name, &end, 10);
	if (errno != 0 || end == name)
		return -1;
	again = framefile_name(v, name);
	same = strcmp(again, name) == 0;
	free(again);
	if (!same)
		return -1;
	*frame = v;
	return 0;
}
