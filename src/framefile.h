/*
 * framefile.h: the names under which the server stores frames, and the
 * reverse: which frame a file in a render folder is.
 */
#ifndef FRAMEFILE_H
#define FRAMEFILE_H

char	*framefile_name(long, const char *);
int	 framefile_frame(const char *, long *);

#endif
