/* iframe-auth: one-time sessions for authenticated iframes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "log.h"

static void
usage(FILE *out)
{
	fprintf(out,
	        "Usage: iframe-auth [--config FILE] [--help] [--version]\n"
	        "\n"
	        "  --config FILE  read KEY=VALUE settings from FILE for keys\n"
	        "                 the environment does not set (default:\n"
	        "                 ./config.env when it exists, else\n"
	        "                 " IFRAME_AUTH_CONFIG_FILE " when it exists)\n"
	        "  --help         show this help\n"
	        "  --version      print the version\n"
	        "\n");
	config_print_help(out);
}

int
main(int argc, char **argv)
{
	const char *config_file = NULL;
	static struct config cfg;
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("iframe-auth %s\n", IFRAME_AUTH_VERSION);
			return EXIT_SUCCESS;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_file = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config_file = argv[i] + 9;
		} else {
			fprintf(stderr,
			        "iframe-auth: unknown argument '%s'\n\n",
			        argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!config_load(&cfg, config_file, err, sizeof(err))) {
		fprintf(stderr, "iframe-auth: %s\n", err);
		return 2;
	}
	log_set_level(cfg.log_level);
	log_route_libevent();
	return app_run(&cfg);
}
