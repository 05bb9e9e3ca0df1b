/*
 * selfexe.h: this program's own executable: its digest for HELO, and
 * noticing when it has been replaced so that the server can re-execute.
 */
#ifndef SELFEXE_H
#define SELFEXE_H

struct selfexe;

struct selfexe	*selfexe_open(char **);
const char	*selfexe_path(struct selfexe *);
const char	*selfexe_digest(struct selfexe *);
int		 selfexe_replaced(struct selfexe *);
void		 selfexe_exec(struct selfexe *, char **, const int *, int);
void		 selfexe_close(struct selfexe *);
int		 selfexe_inherited_fds(int *, int);

#endif
