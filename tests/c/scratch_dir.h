/* The scratch directory of one C ABI test: made under /tmp, removed with everything in it
 * at the end. rm -rf never follows a link inside the tree (an unpacked root holds links
 * such as dev/stdin -> /proc/self/fd/0). The includer defines _XOPEN_SOURCE 700 before
 * any header, for mkdtemp(3). */
#ifndef KNAST_TESTS_C_SCRATCH_DIR_H
#define KNAST_TESTS_C_SCRATCH_DIR_H

#include <stdio.h>
#include <stdlib.h>

/* Makes /tmp/knast-c-NAME.XXXXXX and stores its path in @p dir (@p size bytes).
 * Returns 0, or -1 when it cannot. */
static int make_scratch_dir(char *dir, size_t size, const char *name) {
  const int length = snprintf(dir, size, "/tmp/knast-c-%s.XXXXXX", name);
  if (length < 0 || (size_t)length >= size) return -1;
  return mkdtemp(dir) == NULL ? -1 : 0;
}

/* Removes @p dir and everything below it; says so on stderr when it cannot. */
static void remove_scratch_dir(const char *dir) {
  char command[4200];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

#endif
