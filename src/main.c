/*
 * main.c - facteur: a self-hosted mail server. See README.md.
 */
#include "core/common.h"

#include "cli/cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
