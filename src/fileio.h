/*
 * fileio.h: small file operations that must not lose data: atomic
 * replacement, bounded reads, and identities that tell a changed file.
 */
#ifndef FILEIO_H
#define FILEIO_H

#include <stddef.h>
#include <sys/stat.h>

#include "farm.h"

int	fileio_write_atomic(const char *, const void *, size_t, mode_t,
	    char **);
int	fileio_read_small(const char *, size_t, char **, size_t *, char **);
void	fileio_id(const struct stat *, struct file_id *);
int	fileio_id_equal(const struct file_id *, const struct file_id *);
int	fileio_sync_dir(const char *);
int	fileio_check_dir(const char *, char **);
int	fileio_remove_dir(const char *);

#endif
