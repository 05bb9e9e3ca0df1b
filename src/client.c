#include "bdfarm.h"
#include "client.h"
int client_main(struct settings *s, const struct client_options *o) { return 1; }
