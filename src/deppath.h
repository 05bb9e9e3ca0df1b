/*
 * deppath.h: the paths a .blend file gives for the files it needs, made
 * into paths on the server, and which files of a folder a numbered
 * sequence or a set of UDIM tiles stands for. No I/O.
 */
#ifndef DEPPATH_H
#define DEPPATH_H

char	*deppath_resolve(const char *, const char *);
int	 deppath_sequence_match(const char *, const char *);
int	 deppath_tiles_match(const char *, const char *);
char	*deppath_tiles_pattern(const char *);
const char *deppath_base(const char *);

#endif
