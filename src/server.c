#include "bdfarm.h"
#include "server.h"
int server_main(struct settings *s, const struct server_options *o) { return 1; }
