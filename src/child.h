/*
 * child.h: setting up a child process between fork and exec.
 */
#ifndef CHILD_H
#define CHILD_H

void	child_setup(int);

#endif
